"""Vocabularies of the tracing domain, shared by the API, the database and the CLI."""

from __future__ import annotations

from enum import StrEnum


class TracingRequestStatus(StrEnum):
    """Where a tracing request stands in the caseworker's workflow."""

    OPEN = "open"
    SEARCHING = "searching"
    CANDIDATE_UNDER_REVIEW = "candidate_under_review"
    LOCATED = "located"
    CLOSED = "closed"


class TracingOutcome(StrEnum):
    """How a tracing request ended (set when it is closed, or when a person is located)."""

    LOCATED_CONTACT_RESTORED = "located_contact_restored"
    LOCATED_DECLINES_CONTACT = "located_declines_contact"
    NOT_FOUND = "not_found"
    DECEASED = "deceased"
    WITHDRAWN_BY_ENQUIRER = "withdrawn_by_enquirer"


class PersonRole(StrEnum):
    """The part a person plays: in a tracing request, or as a registration on a list."""

    ENQUIRER = "enquirer"
    SOUGHT_PERSON = "sought_person"
    REGISTRATION = "registration"


class RegistrationKind(StrEnum):
    """What a registration records about the person (required when the role is registration)."""

    SAFE_AND_WELL = "safe_and_well"
    FOUND = "found"
    DETAINED = "detained"
    HOSPITALISED = "hospitalised"
    DECEASED = "deceased"


class PersonStatus(StrEnum):
    """Whether a person record is still active in its request or list."""

    ACTIVE = "active"
    CLOSED = "closed"


class Sex(StrEnum):
    """Sex as recorded; `unknown` when the source did not say."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class NameKind(StrEnum):
    """Why a person carries a name."""

    PRIMARY = "primary"
    ALIAS = "alias"
    NICKNAME = "nickname"
    MAIDEN = "maiden"
    FORMER = "former"


class Calendar(StrEnum):
    """The calendar a date was given in."""

    GREGORIAN = "gregorian"
    HIJRI = "hijri"
    SOLAR_HIJRI = "solar_hijri"
    ETHIOPIAN = "ethiopian"


class Relationship(StrEnum):
    """What the sought person is to the enquirer (the sought person is the enquirer's ...)."""

    MOTHER = "mother"
    FATHER = "father"
    SON = "son"
    DAUGHTER = "daughter"
    BROTHER = "brother"
    SISTER = "sister"
    HALF_BROTHER = "half_brother"
    HALF_SISTER = "half_sister"
    SPOUSE = "spouse"
    GRANDMOTHER = "grandmother"
    GRANDFATHER = "grandfather"
    GRANDSON = "grandson"
    GRANDDAUGHTER = "granddaughter"
    AUNT = "aunt"
    UNCLE = "uncle"
    NIECE = "niece"
    NEPHEW = "nephew"
    COUSIN = "cousin"
    STEPMOTHER = "stepmother"
    STEPFATHER = "stepfather"
    STEPSON = "stepson"
    STEPDAUGHTER = "stepdaughter"
    GUARDIAN = "guardian"
    WARD = "ward"
    FIANCE = "fiance"
    OTHER_RELATIVE = "other_relative"
    OTHER = "other"


class StaffRole(StrEnum):
    """What a user or partner client may do in its society (see the README's role matrix)."""

    CASEWORKER = "caseworker"
    REVIEWER = "reviewer"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    DATA_PROTECTION_OFFICER = "data_protection_officer"
    ADMIN = "admin"
    PARTNER = "partner"


class Purpose(StrEnum):
    """Why personal data is read (`Kintrace-Purpose` header); recorded in the audit trail."""

    TRACING = "tracing"
    REVIEW = "review"
    SUBJECT_ACCESS = "subject-access"
    AUDIT = "audit"
    DATA_PROTECTION = "data-protection"
    EXCHANGE = "exchange"
    IMPORT = "import"


class LegalBasis(StrEnum):
    """Why the service may process a person's data at all (domain rule 2).

    Sought persons are usually processed on vital interest, without their consent; an enquirer
    asks to be processed, so their basis is consent.
    """

    CONSENT = "consent"
    VITAL_INTEREST = "vital_interest"
    PUBLIC_INTEREST = "public_interest"
    LEGITIMATE_INTEREST = "legitimate_interest"


class ConsentScope(StrEnum):
    """What a consent covers."""

    TRACING = "tracing"
    PARTNER_SHARING = "partner_sharing"
    DISCLOSURE = "disclosure"
    PUBLICATION = "publication"


class ConsentGiver(StrEnum):
    """Who gave a consent: the person, a guardian, or a recorded best-interest decision (the
    only two valid for a minor)."""

    PERSON = "person"
    GUARDIAN = "guardian"
    BEST_INTEREST_DECISION = "best_interest_decision"


class ConsentMethod(StrEnum):
    """How a consent was obtained. `condition_of_aid` exists only to be refused: consent
    obtained as a condition of receiving aid is not valid."""

    IN_PERSON_SIGNED = "in_person_signed"
    IN_PERSON_ORAL = "in_person_oral"
    TELEPHONE = "telephone"
    WRITTEN = "written"
    THROUGH_PARTNER = "through_partner"
    CONDITION_OF_AID = "condition_of_aid"


class TracingStop(StrEnum):
    """Why a person is out of all matching."""

    CONSENT_WITHDRAWN = "consent_withdrawn"
    DO_NOT_TRACE = "do_not_trace"


class DisclosableField(StrEnum):
    """The whereabouts and contact fields a found person may allow an enquirer to receive."""

    CURRENT_PLACE = "current_place"
    PHONE = "phone"
    EMAIL = "email"
    POSTAL_ADDRESS = "postal_address"


class DisclosureStatus(StrEnum):
    """Where the disclosure of a located person's whereabouts to an enquirer stands.

    Separate from the candidate link's state: a confirmed link only makes it `pending`.
    """

    PENDING = "pending"
    REQUESTED = "requested"
    AWAITING_APPROVAL = "awaiting_approval"
    RELEASED = "released"
    REFUSED = "refused"
    NO_ANSWER = "no_answer"
    STOPPED = "stopped"
    CASEWORKER_DELIVERY = "caseworker_delivery"
    DELIVERED = "delivered"
