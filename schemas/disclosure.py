"""Wire contracts of disclosures: what a located person allows their enquirer to learn."""

from __future__ import annotations

import datetime
import uuid
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from schemas.base import WireModel
from schemas.enums import DisclosableField, DisclosureStatus, TracingOutcome
from schemas.persons import Contact
from schemas.values import Place


class Answer(StrEnum):
    """What the located person answered when asked."""

    CONSENT = "consent"
    REFUSE = "refuse"
    NO_ANSWER = "no_answer"


class DisclosureAnswer(WireModel):
    """The located person's answer; a consent names their recorded disclosure consent."""

    answer: Answer
    consent_id: uuid.UUID | None = Field(
        default=None,
        description="With `consent`: the person's consent to disclosure to this enquirer.",
    )

    @model_validator(mode="after")
    def _consent_named(self) -> Self:
        if (self.answer is Answer.CONSENT) != (self.consent_id is not None):
            raise ValueError("`consent_id` goes with the answer `consent`, and only with it")
        return self


class VerificationCreate(WireModel):
    """How the relationship between a minor and the claimed relative was verified."""

    method: str = Field(min_length=1, max_length=200, examples=["documents and interview"])
    verified_on: datetime.date
    note: str | None = Field(default=None, max_length=2000)


class DisclosurePublic(WireModel):
    """A disclosure as the located person's caseworker follows it: ids and states, and how a
    minor's relationship was verified; never the located person's whereabouts."""

    id: uuid.UUID
    link_id: uuid.UUID
    tracing_request_id: uuid.UUID
    enquirer_id: uuid.UUID
    sought_person_id: uuid.UUID
    found_person_id: uuid.UUID
    status: DisclosureStatus
    minor: bool = Field(description="A minor is involved: verification and two approvals.")
    consent_id: uuid.UUID | None
    released_fields: list[DisclosableField]
    verified_by: str | None
    verification_method: str | None
    verified_on: datetime.date | None
    verification_note: str | None = None
    approved_by: list[str]
    stop_reason: str | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class EnquirerOutcome(StrEnum):
    """What the enquirer side may learn of a located person."""

    DISCLOSURE_PENDING = "disclosure_pending"
    CONTACT_RESTORED = "contact_restored"
    DECLINES_CONTACT = "declines_contact"
    DECEASED_CASEWORKER_DELIVERY = "deceased_caseworker_delivery"


class ReleasedWhereabouts(WireModel):
    """The fields the located person allowed, and nothing else."""

    current_place: Place | None = None
    contact: Contact | None = None


class EnquirerDisclosure(WireModel):
    """One located sought person as the enquirer side sees it."""

    sought_person_id: uuid.UUID
    outcome: EnquirerOutcome
    released: ReleasedWhereabouts | None = Field(
        description="Only with the located person's standing consent to this enquirer."
    )


class EnquirerView(WireModel):
    """A tracing request as its enquirer side may see it: status, outcome and what was
    released, never a located person's identity or whereabouts without their consent."""

    tracing_request_id: uuid.UUID
    status: str
    outcome: TracingOutcome | None
    disclosures: list[EnquirerDisclosure]
