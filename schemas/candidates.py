"""Wire contracts of candidate links (the review queue)."""

from __future__ import annotations

import datetime
import uuid
from enum import StrEnum
from typing import Any

from pydantic import Field

from schemas.base import WireModel
from schemas.persons import PersonPublic


class CandidateKind(StrEnum):
    """What a proposed pair would mean if confirmed."""

    SOUGHT_REGISTRATION = "sought_registration"
    SOUGHT_ENQUIRER = "sought_enquirer"
    RECIPROCAL = "reciprocal"
    SAME_SOUGHT_PERSON = "same_sought_person"
    DUPLICATE_REGISTRATION = "duplicate_registration"


class LinkStatus(StrEnum):
    """Where a candidate link stands in review."""

    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class CandidateLinkSummary(WireModel):
    """A proposed pair as listed in the review queue."""

    id: uuid.UUID
    kind: CandidateKind
    status: LinkStatus
    probability: float = Field(description="Calibrated probability that both are one person.")
    match_weight: float = Field(description="The evidence, in bits (log2 Bayes factor).")
    model_version: str
    left_person_id: uuid.UUID
    right_person_id: uuid.UUID
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class CandidateLinkPublic(CandidateLinkSummary):
    """A candidate link with both persons side by side and the engine's explanation."""

    explanation: dict[str, Any] = Field(
        description="Per field: the comparison level reached and its evidence in bits; for "
        "names, which parts aligned with which, and through which key."
    )
    left: PersonPublic
    right: PersonPublic
