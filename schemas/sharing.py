"""Sharing between societies (domain rule 9): grants, the records shared under them, and the
ledger of every transfer."""

from __future__ import annotations

import datetime
import uuid
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from schemas.base import WireModel
from schemas.enums import LegalBasis, PersonRole, PersonStatus, RegistrationKind, Sex
from schemas.persons import NamePublic
from schemas.values import FuzzyDatePublic, Place


class SharedRecordKind(StrEnum):
    """A category of records a grant can cover."""

    TRACING_REQUEST = "tracing_request"  # the enquirer and sought persons of every request
    REGISTRATION = "registration"


class SharedField(StrEnum):
    """A person field a grant can share. Contact details, current whereabouts, sensitivity
    and consent records are never shared: they reach anyone only through the disclosure gate."""

    NAMES = "names"
    SEX = "sex"
    BIRTH_DATE = "birth_date"
    BIRTH_PLACE = "birth_place"
    NATIONALITIES = "nationalities"
    LANGUAGES = "languages"
    FATHER_NAME = "father_name"
    MOTHER_NAME = "mother_name"
    TRIBE_CLAN = "tribe_clan"
    LAST_KNOWN_PLACE = "last_known_place"
    LAST_KNOWN_DATE = "last_known_date"
    REGISTRATION = "registration"  # kind, source and date of a registration
    NOTES = "notes"


class SharingPurpose(StrEnum):
    """The one purpose data is shared for (domain rule 1)."""

    RESTORING_FAMILY_LINKS = "restoring_family_links"


class SharingGrantCreate(WireModel):
    """What one society shares with another: categories of records and/or individual tracing
    requests, which fields, why, on what legal basis, and until when."""

    recipient_society: str = Field(
        min_length=1, max_length=32, description="The receiving society's code.", examples=["DE"]
    )
    record_kinds: list[SharedRecordKind] = Field(default_factory=list, max_length=2)
    tracing_request_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=1000,
        description="Individual tracing requests shared (their enquirer and sought persons).",
    )
    fields: list[SharedField] = Field(min_length=1, max_length=len(SharedField))
    purpose: SharingPurpose = SharingPurpose.RESTORING_FAMILY_LINKS
    legal_basis: LegalBasis
    valid_until: datetime.datetime = Field(description="When the grant lapses (in the future).")

    @model_validator(mode="after")
    def _shares_something(self) -> Self:
        if not self.record_kinds and not self.tracing_request_ids:
            raise ValueError("a grant needs `record_kinds` or `tracing_request_ids`")
        if self.valid_until.tzinfo is None:
            raise ValueError("`valid_until` needs a time zone")
        return self


class GrantRevocation(WireModel):
    """Why a grant is revoked (recipients receive a tombstone)."""

    reason: str = Field(min_length=1, max_length=2000)


class SharingGrantPublic(WireModel):
    """A grant as the sharing and the receiving society see it."""

    id: uuid.UUID
    society: str = Field(description="The sharing society's code.")
    recipient_society: str
    record_kinds: list[SharedRecordKind]
    tracing_request_ids: list[uuid.UUID]
    fields: list[SharedField]
    purpose: SharingPurpose
    legal_basis: LegalBasis
    valid_until: datetime.datetime
    active: bool = Field(description="Neither revoked nor lapsed.")
    created_by: str
    created_at: datetime.datetime
    revoked_at: datetime.datetime | None
    revoked_by: str | None
    revocation_reason: str | None
    version: int


class SharedPersonPublic(WireModel):
    """A person another society shares with the caller's society: who holds it, under which
    grant, and exactly the granted fields (fields the grant does not cover are absent)."""

    id: uuid.UUID
    society: str = Field(description="The society that holds the record.")
    grant_id: uuid.UUID
    role: PersonRole
    status: PersonStatus
    tracing_request_id: uuid.UUID | None
    fields: list[SharedField] = Field(description="The fields this view carries.")
    names: list[NamePublic] | None = None
    sex: Sex | None = None
    birth_date: FuzzyDatePublic | None = None
    birth_place: Place | None = None
    nationalities: list[str] | None = None
    languages: list[str] | None = None
    father_name: str | None = None
    mother_name: str | None = None
    tribe_clan: str | None = None
    last_known_place: Place | None = None
    last_known_date: FuzzyDatePublic | None = None
    registration_kind: RegistrationKind | None = None
    registration_source: str | None = None
    registration_date: datetime.date | None = None
    notes: str | None = None


class TransferChannel(StrEnum):
    """How a record left its society."""

    API = "api"
    PFIF_EXPORT = "pfif_export"


class TransferPublic(WireModel):
    """One record sent to another society: the ledger's entry."""

    id: uuid.UUID
    society: str = Field(description="The sending society's code.")
    recipient_society: str
    grant_id: uuid.UUID
    record_id: uuid.UUID
    fields: list[SharedField]
    purpose: SharingPurpose
    legal_basis: LegalBasis
    channel: TransferChannel
    received_by: str = Field(description="The recipient's principal (user or client).")
    sent_at: datetime.datetime
