"""Tracing requests and the relationships between their persons."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated

from pydantic import Field, field_validator

from schemas.base import WireModel
from schemas.enums import PersonRole, Relationship, TracingOutcome, TracingRequestStatus
from schemas.persons import PersonPublic, RequestPersonCreate
from schemas.values import FuzzyDateIn, FuzzyDatePublic, Place

ReferenceNumber = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        description="The society's own reference; generated when omitted. Unique per society.",
        examples=["DRK-2026-000123"],
    ),
]


class TracingRequestCreate(WireModel):
    """A new tracing request: who is searching, whom they seek, and how they were separated.

    Exactly one person with role `enquirer` and at least one `sought_person` may be given now
    or added later through the persons sub-resource.
    """

    reference_number: ReferenceNumber | None = None
    status: TracingRequestStatus = TracingRequestStatus.OPEN
    opened_on: datetime.date | None = Field(default=None, description="Defaults to today.")
    circumstances: str | None = Field(default=None, max_length=10_000)
    separation_place: Place | None = None
    separation_date: FuzzyDateIn | None = None
    persons: list[RequestPersonCreate] = Field(default_factory=list, max_length=50)

    @field_validator("status")
    @classmethod
    def _not_closed(cls, status: TracingRequestStatus) -> TracingRequestStatus:
        if status is TracingRequestStatus.CLOSED:
            raise ValueError("close a request with POST .../close, which records its outcome")
        return status

    @field_validator("persons")
    @classmethod
    def _one_enquirer(cls, persons: list[RequestPersonCreate]) -> list[RequestPersonCreate]:
        if sum(1 for p in persons if p.role is PersonRole.ENQUIRER) > 1:
            raise ValueError("a tracing request has one enquirer")
        return persons


class TracingRequestUpdate(WireModel):
    """Fields to change; fields left out keep their value, `null` clears an optional one."""

    reference_number: ReferenceNumber | None = None
    status: TracingRequestStatus | None = None
    outcome: TracingOutcome | None = None
    opened_on: datetime.date | None = None
    circumstances: str | None = Field(default=None, max_length=10_000)
    separation_place: Place | None = None
    separation_date: FuzzyDateIn | None = None


class TracingRequestClose(WireModel):
    """Closing a tracing request records its outcome."""

    outcome: TracingOutcome
    closed_on: datetime.date | None = Field(default=None, description="Defaults to today.")


class RelationshipCreate(WireModel):
    """The sought person is the enquirer's `relationship` (e.g. mother)."""

    enquirer_id: uuid.UUID
    sought_person_id: uuid.UUID
    relationship: Relationship


class RelationshipPublic(WireModel):
    """A stored relationship between the enquirer and a sought person."""

    id: uuid.UUID
    enquirer_id: uuid.UUID
    sought_person_id: uuid.UUID
    relationship: Relationship
    created_at: datetime.datetime


class TracingRequestSummary(WireModel):
    """A tracing request without its persons, as listed."""

    id: uuid.UUID
    society_code: str
    reference_number: str
    status: TracingRequestStatus
    outcome: TracingOutcome | None
    opened_on: datetime.date
    closed_on: datetime.date | None
    circumstances: str | None
    separation_place: Place | None
    separation_date: FuzzyDatePublic | None
    review_on: datetime.date | None = Field(
        description="When the request is due for review under its society's retention policy "
        "(open: a caseworker reviews it; closed: it is then erased or archived)."
    )
    archived_at: datetime.datetime | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TracingRequestPublic(TracingRequestSummary):
    """A tracing request with its persons and their relationships."""

    persons: list[PersonPublic]
    relationships: list[RelationshipPublic]
