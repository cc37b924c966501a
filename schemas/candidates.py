"""Wire contracts of candidate links (the review queue)."""

from __future__ import annotations

import datetime
import uuid
from enum import StrEnum
from typing import Any, Self

from pydantic import Field, model_validator

from schemas.base import WireModel
from schemas.persons import PersonPublic
from schemas.sharing import SharedPersonPublic


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
    WITHDRAWN = "withdrawn"


class Decision(StrEnum):
    """A reviewer's decision."""

    CONFIRM = "confirm"
    REJECT = "reject"


class RejectReason(StrEnum):
    """Why a pair was rejected."""

    DIFFERENT_PERSON = "different_person"
    INSUFFICIENT_INFORMATION = "insufficient_information"
    DUPLICATE_RECORD = "duplicate_record"
    OTHER = "other"


class DecisionCreate(WireModel):
    """A decision on a candidate link (send `If-Match` with the link's ETag)."""

    decision: Decision
    reason: RejectReason | None = Field(
        default=None, description="Required to reject; `other` needs a `note`."
    )
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _reason_fits(self) -> Self:
        if self.decision is Decision.REJECT and self.reason is None:
            raise ValueError("a rejection needs a `reason`")
        if self.decision is Decision.CONFIRM and self.reason is not None:
            raise ValueError("a confirmation takes no `reason`")
        if self.reason is RejectReason.OTHER and not (self.note and self.note.strip()):
            raise ValueError("the reason `other` needs a `note`")
        return self


class DecisionPublic(WireModel):
    """A recorded decision."""

    id: uuid.UUID
    decision: Decision
    reason: RejectReason | None
    note: str | None
    decided_by: str
    decided_at: datetime.datetime


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
    reviews_required: int = Field(
        description="Confirmations by different reviewers needed: 2 for pairs involving a "
        "possible minor or a deceased registration, else 1."
    )
    decided_at: datetime.datetime | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    partner_society: str | None = Field(
        default=None,
        description="A cross-society link (matched under a sharing grant): the code of the "
        "other society, which holds one of the two persons. Null within one society.",
    )
    confirmed_by: list[str] = Field(
        default_factory=list,
        description="A cross-society link: the societies whose reviewers have confirmed it for "
        "their side (it is `confirmed` once both have).",
    )


class CandidateLinkPublic(CandidateLinkSummary):
    """A candidate link with both persons side by side and the engine's explanation."""

    explanation: dict[str, Any] = Field(
        description="Per field: the comparison level reached and its evidence in bits; for "
        "names, which parts aligned with which, and through which key. On a cross-society "
        "link the other society's name parts are withheld (null)."
    )
    left: PersonPublic | None = Field(
        description="The left person as the caller's role may see it; null when the partner "
        "society holds it (see `partner_person`)."
    )
    right: PersonPublic | None = Field(
        description="The right person as the caller's role may see it; null when the partner "
        "society holds it (see `partner_person`)."
    )
    partner_person: SharedPersonPublic | None = Field(
        default=None,
        description="A cross-society link confirmed by both societies: the partner's person "
        "with the fields a sharing grant in force gives the caller's society (logged in the "
        "transfers ledger). Null before both confirm, or without such a grant.",
    )
    decisions: list[DecisionPublic] = Field(
        description="The decisions of the caller's society's reviewers (a partner society's "
        "reviewers' decisions and notes stay with that society)."
    )


class LinkEventPublic(WireModel):
    """An entry of the society's feed of candidate links and decisions."""

    seq: int = Field(description="Contiguous per society, in commit order.")
    type: str = Field(
        examples=["candidate.proposed"],
        description="candidate.proposed, candidate.reproposed, candidate.confirmed, "
        "candidate.rejected or decision.recorded",
    )
    link_id: uuid.UUID
    decision_id: uuid.UUID | None
    occurred_at: datetime.datetime


class EventFeed(WireModel):
    """A page of the feed; pass `next_after` back as `after` to poll for what follows."""

    items: list[LinkEventPublic]
    next_after: int = Field(description="The last `seq` seen (your `after` if none is new).")
