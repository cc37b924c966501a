"""Persons and their names: enquirers, sought persons and registrations."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Self

from pydantic import (
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from schemas.base import WireModel
from schemas.enums import (
    LegalBasis,
    NameKind,
    PersonRole,
    PersonStatus,
    RegistrationKind,
    Relationship,
    Sex,
    TracingStop,
)
from schemas.values import CountryCode, FuzzyDateIn, FuzzyDatePublic, Place

ScriptCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z][a-z]{3}$",
        description="ISO 15924 script code (detected by the server when omitted).",
        examples=["Arab"],
    ),
]
LanguageTag = Annotated[
    str, Field(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", examples=["ar", "ti", "ps"])
]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=10_000)]


class NameParts(WireModel):
    """Structured parts of a name, each optional, in the name's own script."""

    given: ShortText | None = None
    family: ShortText | None = None
    father: ShortText | None = Field(default=None, description="Father's given name.")
    grandfather: ShortText | None = Field(default=None, description="Grandfather's given name.")
    other: ShortText | None = Field(default=None, description="Any other part (laqab, nisba).")


class NameCreate(WireModel):
    """One name of a person, as written in its original script.

    `full_name` is the name as the person or the form wrote it; `parts` split it where known.
    At least one of them is required.
    """

    kind: NameKind = NameKind.PRIMARY
    full_name: ShortText | None = Field(default=None, examples=["محمد أحمد الحسن"])
    script: ScriptCode | None = None
    parts: NameParts | None = None

    @model_validator(mode="after")
    def _something_to_match(self) -> Self:
        has_parts = self.parts is not None and any(
            getattr(self.parts, field) for field in NameParts.model_fields
        )
        if not self.full_name and not has_parts:
            raise ValueError("a name needs `full_name` or at least one of its `parts`")
        return self


class NamePublic(WireModel):
    """A stored name."""

    id: uuid.UUID
    kind: NameKind
    full_name: str | None
    script: str | None
    parts: NameParts
    created_at: datetime.datetime


class Contact(WireModel):
    """How to reach a person: among the most guarded fields (released to an enquirer only
    with the person's consent, field by field)."""

    phone: str | None = Field(
        default=None, pattern=r"^\+?[0-9][0-9 ()./-]{3,31}$", examples=["+49 30 854040"]
    )
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    postal_address: str | None = Field(default=None, min_length=1, max_length=500)


class PersonFields(WireModel):
    """Personal fields shared by every role."""

    legal_basis: LegalBasis | None = Field(
        default=None,
        description="Why this person's data may be processed. Defaults to `consent` for an "
        "enquirer and `vital_interest` for a sought person or a registration.",
    )

    sex: Sex = Sex.UNKNOWN
    birth_date: FuzzyDateIn | None = None
    birth_place: Place | None = None
    nationalities: list[CountryCode] = Field(default_factory=list, max_length=10)
    languages: list[LanguageTag] = Field(default_factory=list, max_length=20)
    father_name: ShortText | None = None
    mother_name: ShortText | None = None
    tribe_clan: ShortText | None = None
    last_known_place: Place | None = None
    last_known_date: FuzzyDateIn | None = None
    notes: LongText | None = Field(default=None, description="Distinguishing features, context.")
    current_place: Place | None = Field(
        default=None, description="Where the person is now (exact whereabouts; most guarded)."
    )
    contact: Contact | None = None
    sensitive: bool = Field(
        default=False,
        description="A person at risk (or otherwise in need of extra care): every candidate "
        "link involving them needs the confirmations of two different reviewers.",
    )


class RequestPersonCreate(PersonFields):
    """A person added to a tracing request (enquirer or sought person)."""

    role: PersonRole = PersonRole.SOUGHT_PERSON
    names: list[NameCreate] = Field(default_factory=list, max_length=50)
    relationship_to_enquirer: Relationship | None = Field(
        default=None,
        description="For a sought person: what they are to the enquirer (the enquirer's mother).",
    )

    @model_validator(mode="after")
    def _request_role(self) -> Self:
        if self.role is PersonRole.REGISTRATION:
            raise ValueError("registrations are recorded under /v1/registrations")
        if self.role is PersonRole.ENQUIRER and self.relationship_to_enquirer is not None:
            raise ValueError("`relationship_to_enquirer` is for sought persons")
        return self


class RegistrationCreate(PersonFields):
    """A person registered on a list: safe and well, found, detained, hospitalised, deceased."""

    names: list[NameCreate] = Field(default_factory=list, max_length=50)
    registration_kind: RegistrationKind
    registration_source: ShortText | None = None
    registration_date: datetime.date | None = None


class PersonUpdate(WireModel):
    """Fields to change on a person; fields left out keep their value, `null` clears one.

    Names are changed through the names sub-resource.
    """

    sex: Sex | None = None
    birth_date: FuzzyDateIn | None = None
    birth_place: Place | None = None
    nationalities: list[CountryCode] | None = Field(default=None, max_length=10)
    languages: list[LanguageTag] | None = Field(default=None, max_length=20)
    father_name: ShortText | None = None
    mother_name: ShortText | None = None
    tribe_clan: ShortText | None = None
    last_known_place: Place | None = None
    last_known_date: FuzzyDateIn | None = None
    notes: LongText | None = None
    current_place: Place | None = None
    contact: Contact | None = None
    legal_basis: LegalBasis | None = Field(default=None, description="`null` is refused.")
    sensitive: bool | None = Field(default=None, description="`null` clears the flag.")
    registration_kind: RegistrationKind | None = None
    registration_source: ShortText | None = None
    registration_date: datetime.date | None = None


class PersonClose(WireModel):
    """Why a person record is closed."""

    reason: ShortText | None = None


class PersonPublic(WireModel):
    """A stored person with its names, as the caller may see it.

    Fields the caller's roles may not see (see the README's field-visibility matrix) are left
    out of the response altogether, not sent empty.
    """

    id: uuid.UUID
    tracing_request_id: uuid.UUID | None
    role: PersonRole
    status: PersonStatus
    registration_kind: RegistrationKind | None
    registration_source: str | None
    registration_date: datetime.date | None
    names: list[NamePublic]
    sex: Sex
    birth_date: FuzzyDatePublic | None
    birth_place: Place | None
    nationalities: list[str]
    languages: list[str]
    father_name: str | None
    mother_name: str | None
    tribe_clan: str | None
    last_known_place: Place | None
    last_known_date: FuzzyDatePublic | None
    notes: str | None = None
    current_place: Place | None = None
    contact: Contact | None = None
    legal_basis: LegalBasis
    sensitive: bool
    tracing_stopped: TracingStop | None = Field(
        description="Set when the person is out of all matching: consent to tracing withdrawn, "
        "or their request not to be traced."
    )
    tracing_stopped_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    close_reason: str | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    _withheld: frozenset[str] = PrivateAttr(default=frozenset())

    def withholding(self, fields: frozenset[str]) -> Self:
        """This view, with `fields` left out when it is serialised."""
        self._withheld = fields
        return self

    # Unannotated return on purpose: an annotation would replace the model's own schema with
    # a bare object in the OpenAPI document.
    @model_serializer(mode="wrap")
    def _without_withheld(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data = handler(self)
        return {key: value for key, value in data.items() if key not in self._withheld}


class SensitivityLift(WireModel):
    """Where lifting a person's sensitive flag stands: the supervisors who approved so far,
    and whether the flag is lifted (two different supervisors)."""

    person_id: uuid.UUID
    approved_by: list[str]
    lifted: bool
