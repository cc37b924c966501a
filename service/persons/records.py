"""Plain, decrypted views of stored persons and names, as repositories hand them out.

Services work with these, never with table rows, so that the storage of personal fields
(plain columns today, encrypted at rest later) is the repository's business alone.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class NameRecord:
    """One name of a person."""

    kind: str
    full_name: str | None
    script: str | None
    given: str | None = None
    family: str | None = None
    father: str | None = None
    grandfather: str | None = None
    other: str | None = None
    id: uuid.UUID | None = None
    created_at: datetime.datetime | None = None


@dataclass(slots=True)
class PersonalFields:
    """The personal fields of a person, decrypted (dates and places as stored documents)."""

    sex: str = "unknown"
    birth_date: dict[str, Any] | None = None
    birth_place: dict[str, Any] | None = None
    nationalities: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    father_name: str | None = None
    mother_name: str | None = None
    tribe_clan: str | None = None
    last_known_place: dict[str, Any] | None = None
    last_known_date: dict[str, Any] | None = None
    notes: str | None = None
    current_place: dict[str, Any] | None = None
    contact: dict[str, Any] | None = None
    sensitive: bool = False


@dataclass(slots=True)
class PersonRecord:
    """A stored person with its names."""

    id: uuid.UUID
    society_id: uuid.UUID
    tracing_request_id: uuid.UUID | None
    role: str
    status: str
    registration_kind: str | None
    registration_source: str | None
    registration_date: datetime.date | None
    personal: PersonalFields
    names: list[NameRecord]
    closed_at: datetime.datetime | None
    close_reason: str | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    legal_basis: str = "vital_interest"
    tracing_stopped: str | None = None
    tracing_stopped_at: datetime.datetime | None = None

    @property
    def traceable(self) -> bool:
        """Whether the person may take part in matching at all: active, and neither their
        consent to tracing withdrawn nor a request not to be traced on record."""
        return self.status == "active" and self.tracing_stopped is None


@dataclass(frozen=True, slots=True)
class NewPerson:
    """A person about to be stored: validated and normalised, not yet written."""

    society_id: uuid.UUID
    tracing_request_id: uuid.UUID | None
    role: str
    personal: PersonalFields
    names: list[NameRecord]
    registration_kind: str | None = None
    registration_source: str | None = None
    registration_date: datetime.date | None = None
    legal_basis: str = "vital_interest"
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(slots=True)
class RelationshipRecord:
    """What a sought person is to the enquirer."""

    id: uuid.UUID
    tracing_request_id: uuid.UUID
    enquirer_id: uuid.UUID
    sought_person_id: uuid.UUID
    relationship: str
    created_at: datetime.datetime
