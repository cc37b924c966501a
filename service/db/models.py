"""Table models (SQLModel). Migrations are written by hand from these in `migrations/`.

Conventions: UUID primary keys (public ids), `society_id` on every tenant table (row-level
security will key on it), enums stored as text with CHECK constraints (adding a value is a
one-line migration), timestamps with time zone set by the database, `version` for optimistic
concurrency (ETag). Personal fields are read and written only by the repositories' codec
functions, so that encrypting them at rest changes one layer.
"""

from __future__ import annotations

import datetime
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Sequence,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlmodel import Field, SQLModel

from schemas.enums import (
    ConsentGiver,
    ConsentMethod,
    ConsentScope,
    DisclosureStatus,
    LegalBasis,
    NameKind,
    PersonRole,
    PersonStatus,
    RegistrationKind,
    Relationship,
    Sex,
    StaffRole,
    TracingOutcome,
    TracingRequestStatus,
    TracingStop,
)
from schemas.sharing import SharedField, SharedRecordKind, SharingPurpose, TransferChannel
from schemas.webhooks import DeliveryStatus, WebhookEventType

metadata = SQLModel.metadata
metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def one_of(column: str, values: type[StrEnum]) -> str:
    """SQL CHECK expression restricting a text column to an enum's values."""
    quoted = ", ".join(f"'{member.value}'" for member in values)
    return f"{column} IN ({quoted})"


def _id() -> Any:
    return Field(
        default_factory=uuid.uuid4,
        sa_column=Column(
            UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
        ),
    )


def _created() -> Any:
    return Field(
        default=None,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
        ),
    )


def _updated() -> Any:
    return Field(
        default=None,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
        ),
    )


def _society_fk() -> Any:
    return Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("society.id", ondelete="RESTRICT"), nullable=False
        )
    )


def _text(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(Text, nullable=nullable))


def _jsonb() -> Any:
    return Field(default=None, sa_column=Column(JSONB, nullable=True))


def _version() -> Any:
    return Field(default=1, sa_column=Column(Integer, nullable=False, server_default=text("1")))


class Society(SQLModel, table=True):
    """A national society or delegation: the tenant every record belongs to."""

    __tablename__ = "society"
    __table_args__ = (CheckConstraint("code ~ '^[a-z0-9][a-z0-9-]{0,31}$'", name="code_format"),)

    id: uuid.UUID = _id()
    code: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime.datetime = _created()


class TracingRequest(SQLModel, table=True):
    """An enquirer's request to find one or more sought persons."""

    __tablename__ = "tracing_request"
    __table_args__ = (
        UniqueConstraint("society_id", "reference_number"),
        CheckConstraint(one_of("status", TracingRequestStatus), name="status"),
        CheckConstraint(f"outcome IS NULL OR {one_of('outcome', TracingOutcome)}", name="outcome"),
        CheckConstraint("(status = 'closed') = (closed_on IS NOT NULL)", name="closed_on"),
        CheckConstraint("status <> 'closed' OR outcome IS NOT NULL", name="closed_outcome"),
        Index(None, "society_id", "created_at", "id"),
        Index(None, "society_id", "status", "created_at", "id"),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    reference_number: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(sa_column=Column(Text, nullable=False))
    outcome: str | None = _text()
    opened_on: datetime.date = Field(sa_column=Column(Date, nullable=False))
    closed_on: datetime.date | None = Field(default=None, sa_column=Column(Date))
    circumstances: str | None = _text()
    separation_place: dict[str, Any] | None = _jsonb()
    separation_date: dict[str, Any] | None = _jsonb()
    review_on: datetime.date | None = Field(default=None, sa_column=Column(Date))
    archived_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    version: int = _version()
    created_at: datetime.datetime = _created()
    updated_at: datetime.datetime = _updated()


class Person(SQLModel, table=True):
    """A person on either side: enquirer, sought person (in a request) or a registration."""

    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint(one_of("role", PersonRole), name="role"),
        CheckConstraint(one_of("status", PersonStatus), name="status"),
        CheckConstraint(one_of("sex", Sex), name="sex"),
        CheckConstraint(
            "(role = 'registration') = (registration_kind IS NOT NULL)", name="registration_kind"
        ),
        CheckConstraint(
            f"registration_kind IS NULL OR {one_of('registration_kind', RegistrationKind)}",
            name="registration_kind_value",
        ),
        CheckConstraint(
            "(role = 'registration') = (tracing_request_id IS NULL)", name="request_membership"
        ),
        CheckConstraint(one_of("legal_basis", LegalBasis), name="legal_basis"),
        CheckConstraint(
            f"tracing_stopped IS NULL OR {one_of('tracing_stopped', TracingStop)}",
            name="tracing_stopped",
        ),
        CheckConstraint(
            "(tracing_stopped IS NULL) = (tracing_stopped_at IS NULL)", name="tracing_stopped_at"
        ),
        Index(None, "tracing_request_id"),
        Index(None, "society_id", "role", "created_at", "id"),
        Index(
            "uq_person_one_enquirer",
            "tracing_request_id",
            unique=True,
            postgresql_where=text("role = 'enquirer'"),
        ),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    tracing_request_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("tracing_request.id", ondelete="CASCADE"), nullable=True
        ),
    )
    role: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(
        default=PersonStatus.ACTIVE.value,
        sa_column=Column(Text, nullable=False, server_default=PersonStatus.ACTIVE.value),
    )
    registration_kind: str | None = _text()
    registration_source: str | None = _text()
    registration_date: datetime.date | None = Field(default=None, sa_column=Column(Date))
    sex: str = Field(
        default=Sex.UNKNOWN.value,
        sa_column=Column(Text, nullable=False, server_default=Sex.UNKNOWN.value),
    )
    birth_date: dict[str, Any] | None = _jsonb()
    birth_place: dict[str, Any] | None = _jsonb()
    nationalities: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(Text), nullable=False, server_default=text("'{}'")),
    )
    languages: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(Text), nullable=False, server_default=text("'{}'")),
    )
    father_name: str | None = _text()
    mother_name: str | None = _text()
    tribe_clan: str | None = _text()
    last_known_place: dict[str, Any] | None = _jsonb()
    last_known_date: dict[str, Any] | None = _jsonb()
    notes: str | None = _text()
    current_place: dict[str, Any] | None = _jsonb()
    contact: dict[str, Any] | None = _jsonb()
    sensitive: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, server_default=text("false")),
    )
    legal_basis: str = Field(
        default=LegalBasis.VITAL_INTEREST.value,
        sa_column=Column(Text, nullable=False, server_default=LegalBasis.VITAL_INTEREST.value),
    )
    tracing_stopped: str | None = _text()
    tracing_stopped_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    archived_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    closed_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    close_reason: str | None = _text()
    version: int = _version()
    created_at: datetime.datetime = _created()
    updated_at: datetime.datetime = _updated()


class PersonName(SQLModel, table=True):
    """One of a person's names, in its original script, with optional structured parts."""

    __tablename__ = "person_name"
    __table_args__ = (
        CheckConstraint(one_of("kind", NameKind), name="kind"),
        CheckConstraint(
            "coalesce(full_name, given_name, family_name, father_name, grandfather_name,"
            " other_name) IS NOT NULL",
            name="not_empty",
        ),
        Index(None, "person_id", "position"),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    person_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        )
    )
    position: int = Field(sa_column=Column(Integer, nullable=False))
    kind: str = Field(sa_column=Column(Text, nullable=False))
    script: str | None = _text()
    full_name: str | None = _text()
    given_name: str | None = _text()
    family_name: str | None = _text()
    father_name: str | None = _text()
    grandfather_name: str | None = _text()
    other_name: str | None = _text()
    created_at: datetime.datetime = _created()


class PersonRelationship(SQLModel, table=True):
    """What a sought person is to the enquirer of the same tracing request."""

    __tablename__ = "person_relationship"
    __table_args__ = (
        UniqueConstraint("enquirer_id", "sought_person_id"),
        CheckConstraint(one_of("relationship", Relationship), name="relationship"),
        CheckConstraint("enquirer_id <> sought_person_id", name="distinct_persons"),
        Index(None, "tracing_request_id"),
        Index(None, "sought_person_id"),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    tracing_request_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True),
            ForeignKey("tracing_request.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    enquirer_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        )
    )
    sought_person_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        )
    )
    relationship: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime.datetime = _created()


class IdempotencyRecord(SQLModel, table=True):
    """The stored outcome of a POST made with an `Idempotency-Key`, scoped to its caller."""

    __tablename__ = "idempotency_record"
    __table_args__ = (
        UniqueConstraint("society_id", "principal", "key"),
        Index(None, "expires_at"),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    principal: str = Field(sa_column=Column(Text, nullable=False))
    key: str = Field(sa_column=Column(Text, nullable=False))
    request_fingerprint: str = Field(sa_column=Column(Text, nullable=False))
    response_status: int = Field(sa_column=Column(SmallInteger, nullable=False))
    response_body: Any = Field(sa_column=Column(JSONB, nullable=False))  # sealed: a JSON string
    response_headers: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    person_ids: list[uuid.UUID] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'")),
    )
    created_at: datetime.datetime = _created()
    expires_at: datetime.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ReferenceCounter(SQLModel, table=True):
    """Last reference number handed out per society and year (`DRK-2026-000042`)."""

    __tablename__ = "reference_counter"

    society_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("society.id", ondelete="CASCADE"), primary_key=True
        )
    )
    year: int = Field(sa_column=Column(SmallInteger, primary_key=True))
    last_value: int = Field(sa_column=Column(Integer, nullable=False))


# --- Identity: users, partner clients, tokens and signing keys (the issuer's tables) ---------
#
# Read and written only by the token issuer and the admin CLI under the `kintrace_auth` role;
# the request role has no privilege on them.


def _roles_sql() -> str:
    return ", ".join(f"'{role.value}'" for role in StaffRole)


class AppUser(SQLModel, table=True):
    """A local user account: one society, one or more roles, argon2id password, optional TOTP."""

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint("username ~ '^[a-z0-9][a-z0-9._@-]{1,63}$'", name="username_format"),
        CheckConstraint("cardinality(roles) > 0", name="has_role"),
        CheckConstraint(f"roles <@ ARRAY[{_roles_sql()}]::text[]", name="roles"),
        Index(None, "society_id"),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    username: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    display_name: str | None = _text()
    roles: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    totp_secret: str | None = _text()
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger))
    failed_logins: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    locked_until: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    disabled_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    created_at: datetime.datetime = _created()


class ApiClient(SQLModel, table=True):
    """A partner system, bound to one society, authenticating with `private_key_jwt`."""

    __tablename__ = "api_client"
    __table_args__ = (
        CheckConstraint("client_id ~ '^[A-Za-z0-9._-]{8,64}$'", name="client_id_format"),
        CheckConstraint("cardinality(roles) > 0", name="has_role"),
        CheckConstraint(f"roles <@ ARRAY[{_roles_sql()}]::text[]", name="roles"),
        Index(None, "society_id"),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    client_id: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    roles: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    jwks: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    disabled_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    created_at: datetime.datetime = _created()


class ClientAssertionUse(SQLModel, table=True):
    """A client assertion's `jti`, kept until the assertion expires so a replay is refused."""

    __tablename__ = "client_assertion_use"
    __table_args__ = (Index(None, "expires_at"),)

    client_id: str = Field(sa_column=Column(Text, primary_key=True))
    jti: str = Field(sa_column=Column(Text, primary_key=True))
    expires_at: datetime.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class RefreshToken(SQLModel, table=True):
    """A rotating refresh token, stored as a digest; a reused one revokes its whole family."""

    __tablename__ = "refresh_token"
    __table_args__ = (Index(None, "user_id"), Index(None, "family_id"))

    id: uuid.UUID = _id()
    family_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), nullable=False))
    user_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False
        )
    )
    token_digest: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    issued_at: datetime.datetime = _created()
    expires_at: datetime.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    used_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    revoked_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )


class SigningKey(SQLModel, table=True):
    """A key of the built-in token issuer; the newest unretired one signs, all recent ones verify.

    The private key is stored as PKCS#8 encrypted with the service's secret key.
    """

    __tablename__ = "signing_key"
    __table_args__ = (CheckConstraint("alg IN ('ES256', 'RS256')", name="alg"),)

    kid: str = Field(sa_column=Column(Text, primary_key=True))
    alg: str = Field(sa_column=Column(Text, nullable=False))
    private_key: str = Field(sa_column=Column(Text, nullable=False))
    public_jwk: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime.datetime = _created()
    retired_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )


# --- Audit trail -------------------------------------------------------------------------------
#
# Append-only (the request role may insert and read; triggers refuse UPDATE, DELETE and TRUNCATE
# of events and seals) and hash-chained per society by the sealer after commit.

audit_position = Sequence("audit_event_position_seq", metadata=metadata)


class AuditEvent(SQLModel, table=True):
    """Who did what to which records, why, and when; never the personal data itself."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index(None, "society_id", "position"),
        Index(None, "actor", "action", "occurred_at"),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    position: int = Field(
        default=None,
        sa_column=Column(
            BigInteger, audit_position, nullable=False, server_default=audit_position.next_value()
        ),
    )
    occurred_at: datetime.datetime = _created()
    actor: str = Field(sa_column=Column(Text, nullable=False))
    actor_roles: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    action: str = Field(sa_column=Column(Text, nullable=False))
    record_type: str = Field(sa_column=Column(Text, nullable=False))
    record_ids: list[uuid.UUID] = Field(sa_column=Column(ARRAY(UUID(as_uuid=True)), nullable=False))
    purpose: str = Field(sa_column=Column(Text, nullable=False))
    request_id: str | None = _text()


class AuditSeal(SQLModel, table=True):
    """One link of a society's hash chain: the event it seals and the digest so far."""

    __tablename__ = "audit_seal"

    society_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("society.id", ondelete="RESTRICT"), primary_key=True
        )
    )
    chain_index: int = Field(sa_column=Column(BigInteger, primary_key=True))
    event_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), nullable=False, unique=True))
    previous_digest: str = Field(sa_column=Column(Text, nullable=False))
    digest: str = Field(sa_column=Column(Text, nullable=False))
    sealed_at: datetime.datetime = _created()


class AuditUnsealed(SQLModel, table=True):
    """Committed events waiting for the sealer (filled by a trigger on `audit_event`)."""

    __tablename__ = "audit_unsealed"
    __table_args__ = (Index(None, "society_id", "position"),)

    event_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
    society_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("society.id", ondelete="RESTRICT"), nullable=False
        )
    )
    position: int = Field(sa_column=Column(BigInteger, nullable=False))


# --- Candidate links ---------------------------------------------------------------------------


class PersonKey(SQLModel, table=True):
    """A blocking key of a person as a keyed hash (HMAC with the society's secret).

    The table reveals no names: only which persons share a key. `kind` says whether the key
    came from a name (`n`), the father's name (`f`), a birth year (`y`) or the full birth date
    (`b`); candidates must share a name key or the full date (`matching.SEED_KINDS`).
    `person_role` lets a lookup ask for registrations only, say, inside the index.
    """

    __tablename__ = "person_key"
    __table_args__ = (
        CheckConstraint("kind IN ('n', 'f', 'y', 'b')", name="kind"),
        Index(None, "person_id"),
    )

    society_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("society.id", ondelete="RESTRICT"), primary_key=True
        )
    )
    key_digest: bytes = Field(sa_column=Column(LargeBinary, primary_key=True))
    person_role: str = Field(sa_column=Column(Text, primary_key=True))
    person_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
        )
    )
    kind: str = Field(sa_column=Column(Text, nullable=False))


class MatchJob(SQLModel, table=True):
    """A person to (re)match: queued in the transaction that changed it, leased by a worker.

    One pending job per person (a later change of the same person rides on it). A worker that
    dies mid-job leaves its lease to expire; the job is then taken again.
    """

    __tablename__ = "match_job"
    __table_args__ = (
        Index(
            "uq_match_job_pending_person",
            "society_id",
            "person_id",
            unique=True,
            postgresql_where=text("finished_at IS NULL"),
        ),
        Index(None, "society_id", "available_at", postgresql_where=text("finished_at IS NULL")),
        Index(None, "person_id"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    society_id: uuid.UUID = _society_fk()
    person_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        )
    )
    enqueued_at: datetime.datetime = _created()
    available_at: datetime.datetime = Field(
        default=None,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
        ),
    )
    attempts: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    leased_until: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    finished_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    last_error: str | None = _text()


class CandidateLink(SQLModel, table=True):
    """A pair of persons the engine proposes as possibly the same person, for review.

    The pair is stored once, lower id first. `fingerprint` digests the compared fields of both
    sides, so a rejected pair is proposed again only when one of them changes.
    """

    __tablename__ = "candidate_link"
    __table_args__ = (
        UniqueConstraint("society_id", "left_person_id", "right_person_id"),
        CheckConstraint("left_person_id < right_person_id", name="ordered_pair"),
        CheckConstraint(
            "kind IN ('sought_registration', 'sought_enquirer', 'reciprocal', "
            "'same_sought_person', 'duplicate_registration')",
            name="kind",
        ),
        CheckConstraint(
            "status IN ('proposed', 'confirmed', 'rejected', 'withdrawn')", name="status"
        ),
        CheckConstraint("probability >= 0 AND probability <= 1", name="probability"),
        CheckConstraint(
            "partner_society_id IS NULL OR partner_society_id <> society_id",
            name="another_society",
        ),
        Index(None, "society_id", "status", "probability"),
        Index(None, "right_person_id"),
        Index(
            None,
            "partner_society_id",
            "status",
            "probability",
            postgresql_where=text("partner_society_id IS NOT NULL"),
        ),
        Index(
            None,
            "society_id",
            "partner_society_id",
            postgresql_where=text("partner_society_id IS NOT NULL"),
        ),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    left_person_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        )
    )
    right_person_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        )
    )
    kind: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(
        default="proposed",
        sa_column=Column(Text, nullable=False, server_default=text("'proposed'")),
    )
    probability: float = Field(sa_column=Column(Float, nullable=False))
    match_weight: float = Field(sa_column=Column(Float, nullable=False))
    explanation: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    model_version: str = Field(sa_column=Column(Text, nullable=False))
    fingerprint: str = Field(sa_column=Column(Text, nullable=False))
    reviews_required: int = Field(
        default=1, sa_column=Column(SmallInteger, nullable=False, server_default=text("1"))
    )
    decided_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    version: int = _version()
    created_at: datetime.datetime = _created()
    updated_at: datetime.datetime = _updated()
    # Matching under a sharing grant: the society whose shared person is one side of the pair
    # (the link is stored in the recipient's society). Each side's reviewers confirm for their
    # side; the pair is confirmed once both societies are in `confirmed_by`.
    partner_society_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("society.id", ondelete="RESTRICT"), nullable=True
        ),
    )
    confirmed_by: list[uuid.UUID] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'")),
    )
    # The societies that marked their own sought persons' requests located after confirmation
    # (each side does its own: another society's requests are out of its reach).
    located_for: list[uuid.UUID] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'")),
    )


class CandidateDecision(SQLModel, table=True):
    """A reviewer's decision on a candidate link, with the reason and the fields it saw."""

    __tablename__ = "candidate_decision"
    __table_args__ = (
        CheckConstraint("decision IN ('confirm', 'reject')", name="decision"),
        CheckConstraint(
            "reason IS NULL OR reason IN ('different_person', 'insufficient_information', "
            "'duplicate_record', 'other')",
            name="reason",
        ),
        CheckConstraint("decision = 'confirm' OR reason IS NOT NULL", name="reject_reason"),
        Index(None, "link_id", "decided_at"),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    link_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True),
            ForeignKey("candidate_link.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    decision: str = Field(sa_column=Column(Text, nullable=False))
    reason: str | None = _text()
    note: str | None = _text()
    decided_by: str = Field(sa_column=Column(Text, nullable=False))
    fingerprint: str = Field(sa_column=Column(Text, nullable=False))
    decided_at: datetime.datetime = _created()


class EventCounter(SQLModel, table=True):
    """The last event number given out per society (its row lock orders the feed)."""

    __tablename__ = "event_counter"

    society_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("society.id", ondelete="RESTRICT"), primary_key=True
        )
    )
    last_seq: int = Field(sa_column=Column(BigInteger, nullable=False))


class LinkEvent(SQLModel, table=True):
    """An entry of a society's feed: a candidate proposed or decided, a decision recorded.

    Written by triggers on `candidate_link` and `candidate_decision`, numbered from the
    society's counter in the writing transaction: numbers are contiguous and follow commit
    order, so a reader polling `seq > n` neither misses nor repeats an event.
    """

    __tablename__ = "link_event"
    __table_args__ = (
        CheckConstraint(
            "type IN ('candidate.proposed', 'candidate.reproposed', 'candidate.confirmed', "
            "'candidate.rejected', 'decision.recorded', 'candidate.withdrawn')",
            name="type",
        ),
    )

    society_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("society.id", ondelete="RESTRICT"), primary_key=True
        )
    )
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True))
    type: str = Field(sa_column=Column(Text, nullable=False))
    link_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), nullable=False))
    decision_id: uuid.UUID | None = Field(default=None, sa_column=Column(UUID(as_uuid=True)))
    occurred_at: datetime.datetime = _created()


class ImportRun(SQLModel, table=True):
    """A bulk import of one file into one society: how far it got, so a rerun resumes there.

    `next_item` advances in the same transaction as each batch's records: a crash loses at most
    the batch in progress, and resuming never imports an item twice.
    """

    __tablename__ = "import_run"
    __table_args__ = (UniqueConstraint("society_id", "file_digest"),)

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    file_digest: str = Field(sa_column=Column(Text, nullable=False))
    file_name: str = Field(sa_column=Column(Text, nullable=False))
    total_items: int = Field(sa_column=Column(Integer, nullable=False))
    next_item: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    imported: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    failed: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    started_at: datetime.datetime = _created()
    updated_at: datetime.datetime = _updated()
    finished_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )


class SearchFlag(SQLModel, table=True):
    """A principal whose search volume exceeded the society's rule, for supervisors and the
    data-protection officer to look into."""

    __tablename__ = "search_flag"
    __table_args__ = (Index(None, "society_id", "flagged_at"), Index(None, "principal"))

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    principal: str = Field(sa_column=Column(Text, nullable=False))
    searches_last_hour: int = Field(sa_column=Column(Integer, nullable=False))
    rule: str = Field(sa_column=Column(Text, nullable=False))
    flagged_at: datetime.datetime = _created()


class ModelCalibration(SQLModel, table=True):
    """A society's probability calibration fitted to its reviewers' decisions: a model version.

    The newest one is the society's active version; links keep the version that scored them.
    """

    __tablename__ = "model_calibration"
    __table_args__ = (
        UniqueConstraint("society_id", "label"),
        Index(None, "society_id", "created_at"),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    label: str = Field(sa_column=Column(Text, nullable=False))
    base_version: str = Field(sa_column=Column(Text, nullable=False))
    slope: float = Field(sa_column=Column(Float, nullable=False))
    intercept: float = Field(sa_column=Column(Float, nullable=False))
    confirmed: int = Field(sa_column=Column(Integer, nullable=False))
    rejected: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime.datetime = _created()


# --- Consent and data protection ----------------------------------------------------------------


class ConsentRecord(SQLModel, table=True):
    """A consent a person (or their guardian, or a best-interest decision) gave: its scope, how
    and when it was obtained, who recorded it, and its withdrawal. Never deleted: a withdrawn
    consent stays as the record of what was allowed until when."""

    __tablename__ = "consent_record"
    __table_args__ = (
        CheckConstraint(one_of("scope", ConsentScope), name="scope"),
        CheckConstraint(one_of("given_by", ConsentGiver), name="given_by"),
        CheckConstraint(
            f"{one_of('obtained_how', ConsentMethod)} AND obtained_how <> 'condition_of_aid'",
            name="obtained_how",
        ),
        CheckConstraint(
            "(scope = 'disclosure') = (enquirer_id IS NOT NULL AND cardinality(fields) > 0)",
            name="disclosure_target",
        ),
        CheckConstraint("(withdrawn_at IS NULL) = (withdrawn_by IS NULL)", name="withdrawal"),
        Index(None, "person_id", "recorded_at"),
        Index(None, "enquirer_id"),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    person_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        )
    )
    scope: str = Field(sa_column=Column(Text, nullable=False))
    given_by: str = Field(sa_column=Column(Text, nullable=False))
    giver_name: str | None = _text()
    decision_reference: str | None = _text()
    obtained_how: str = Field(sa_column=Column(Text, nullable=False))
    obtained_on: datetime.date = Field(sa_column=Column(Date, nullable=False))
    enquirer_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=True
        ),
    )
    fields: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(Text), nullable=False, server_default=text("'{}'")),
    )
    note: str | None = _text()
    recorded_by: str = Field(sa_column=Column(Text, nullable=False))
    recorded_at: datetime.datetime = _created()
    withdrawn_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    withdrawn_by: str | None = _text()
    withdrawal_reason: str | None = _text()


class PartnerNotice(SQLModel, table=True):
    """Something every partner that received a person's data must be told: a consent
    withdrawn, a request not to be traced, an erasure. Written in the transaction that made
    the change; the partner exchange delivers it. It keeps the person's id only (the person
    may be erased by the time it is sent)."""

    __tablename__ = "partner_notice"
    __table_args__ = (
        CheckConstraint("kind IN ('consent_withdrawn', 'do_not_trace', 'erased')", name="kind"),
        Index(None, "society_id", "created_at", postgresql_where=text("delivered_at IS NULL")),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    person_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), nullable=False))
    kind: str = Field(sa_column=Column(Text, nullable=False))
    scope: str | None = _text()
    created_at: datetime.datetime = _created()
    delivered_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )


class Disclosure(SQLModel, table=True):
    """What a located person's enquirer may learn: its own state machine, started by a
    confirmed candidate link and moved only by the located person's answer (and, for a minor,
    a verification of the relationship and two approvals)."""

    __tablename__ = "disclosure"
    __table_args__ = (
        UniqueConstraint("link_id"),
        CheckConstraint(one_of("status", DisclosureStatus), name="status"),
        CheckConstraint(
            "status <> 'released' OR (consent_id IS NOT NULL AND cardinality(released_fields) > 0"
            " AND (NOT minor OR (verified_by IS NOT NULL AND cardinality(approved_by) >= 2)))",
            name="release_gate",
        ),
        Index(None, "society_id", "status", "created_at"),
        Index(None, "tracing_request_id"),
        Index(None, "found_person_id"),
        Index(None, "consent_id"),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    link_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("candidate_link.id", ondelete="CASCADE"), nullable=False
        )
    )
    tracing_request_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("tracing_request.id", ondelete="CASCADE"), nullable=False
        )
    )
    enquirer_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        )
    )
    sought_person_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        )
    )
    found_person_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        )
    )
    status: str = Field(sa_column=Column(Text, nullable=False))
    minor: bool = Field(sa_column=Column(Boolean, nullable=False))
    consent_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("consent_record.id", ondelete="SET NULL"), nullable=True
        ),
    )
    released_fields: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(Text), nullable=False, server_default=text("'{}'")),
    )
    verified_by: str | None = _text()
    verification_method: str | None = _text()
    verified_on: datetime.date | None = Field(default=None, sa_column=Column(Date))
    verification_note: str | None = _text()
    approved_by: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(Text), nullable=False, server_default=text("'{}'")),
    )
    stop_reason: str | None = _text()
    version: int = _version()
    created_at: datetime.datetime = _created()
    updated_at: datetime.datetime = _updated()


class DisclosureRelease(SQLModel, table=True):
    """Each release to an enquirer, with exactly the fields released (names of fields, never
    their values)."""

    __tablename__ = "disclosure_release"
    __table_args__ = (Index(None, "disclosure_id"),)

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    disclosure_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("disclosure.id", ondelete="CASCADE"), nullable=False
        )
    )
    fields: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    released_by: str = Field(sa_column=Column(Text, nullable=False))
    released_at: datetime.datetime = _created()


class ProtectionApproval(SQLModel, table=True):
    """A supervisor's approval of lifting a person's sensitive flag; two approvals by
    different supervisors lift it, and are then consumed."""

    __tablename__ = "protection_approval"
    __table_args__ = (
        CheckConstraint("action IN ('lift_sensitive')", name="action"),
        Index(
            "uq_protection_approval_pending",
            "person_id",
            "action",
            "approved_by",
            unique=True,
            postgresql_where=text("consumed_at IS NULL"),
        ),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    person_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        )
    )
    action: str = Field(sa_column=Column(Text, nullable=False))
    approved_by: str = Field(sa_column=Column(Text, nullable=False))
    approved_at: datetime.datetime = _created()
    consumed_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )


class ErasureTombstone(SQLModel, table=True):
    """What remains of an erased person: the id, when, why and by whom, for partners to be
    told (with a `partner_notice`) and for the trail (audit rows keep ids only)."""

    __tablename__ = "erasure_tombstone"
    __table_args__ = (Index(None, "society_id", "erased_at"),)

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    person_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), nullable=False, unique=True))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    erased_by: str = Field(sa_column=Column(Text, nullable=False))
    erased_at: datetime.datetime = _created()


class RetentionPolicy(SQLModel, table=True):
    """How long a society keeps its cases: when an open request is due for review, how long a
    closed request and a registration are kept, and whether they are then erased or
    archived. A society without a row keeps the defaults."""

    __tablename__ = "retention_policy"
    __table_args__ = (
        CheckConstraint("closed_action IN ('erase', 'archive')", name="closed_action"),
        CheckConstraint(
            "open_review_days > 0 AND closed_retention_days >= 0 "
            "AND registration_retention_days > 0",
            name="days",
        ),
    )

    society_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("society.id", ondelete="RESTRICT"), primary_key=True
        )
    )
    open_review_days: int = Field(sa_column=Column(Integer, nullable=False))
    closed_retention_days: int = Field(sa_column=Column(Integer, nullable=False))
    registration_retention_days: int = Field(sa_column=Column(Integer, nullable=False))
    closed_action: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime.datetime = _updated()


class DataKey(SQLModel, table=True):
    """The data key of a person or a tracing request, wrapped by its society's key.

    Deleting it makes the owner's encrypted fields unreadable (crypto-shredding): erasure does.
    """

    __tablename__ = "data_key"

    owner_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
    society_id: uuid.UUID = _society_fk()
    wrapped: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime.datetime = _created()


def _text_array() -> Any:
    return Field(
        default_factory=list,
        sa_column=Column(ARRAY(Text), nullable=False, server_default=text("'{}'")),
    )


def _values_sql(values: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in values)


class SharingGrant(SQLModel, table=True):
    """What one society (`society_id`) shares with another: record categories or individual
    tracing requests, which fields, why and on what basis, until when. Both societies see it;
    only the sharing one writes it. Grants are revoked, never deleted (the ledger cites them)."""

    __tablename__ = "sharing_grant"
    __table_args__ = (
        CheckConstraint("society_id <> recipient_society_id", name="another_society"),
        CheckConstraint(
            "cardinality(record_kinds) > 0 OR cardinality(tracing_request_ids) > 0",
            name="shares_something",
        ),
        CheckConstraint(
            f"record_kinds <@ ARRAY[{_values_sql(SharedRecordKind)}]::text[]", name="record_kinds"
        ),
        CheckConstraint(
            f"cardinality(fields) > 0 AND fields <@ ARRAY[{_values_sql(SharedField)}]::text[]",
            name="fields",
        ),
        CheckConstraint(one_of("purpose", SharingPurpose), name="purpose"),
        CheckConstraint(one_of("legal_basis", LegalBasis), name="legal_basis"),
        CheckConstraint(
            "(revoked_at IS NULL) = (revoked_by IS NULL) AND "
            "(revoked_at IS NULL) = (revocation_reason IS NULL)",
            name="revocation",
        ),
        Index(None, "recipient_society_id", "society_id"),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    recipient_society_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("society.id", ondelete="RESTRICT"), nullable=False
        )
    )
    record_kinds: list[str] = _text_array()
    tracing_request_ids: list[uuid.UUID] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'")),
    )
    fields: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    purpose: str = Field(sa_column=Column(Text, nullable=False))
    legal_basis: str = Field(sa_column=Column(Text, nullable=False))
    valid_until: datetime.datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    created_by: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime.datetime = _created()
    revoked_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    revoked_by: str | None = _text()
    revocation_reason: str | None = _text()
    revocation_notified_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    version: int = _version()


class Transfer(SQLModel, table=True):
    """The ledger: one record sent to another society, with the fields sent. It keeps ids only
    and outlives the record (an erased person's transfers tell whom to send the tombstone)."""

    __tablename__ = "transfer"
    __table_args__ = (
        CheckConstraint(one_of("channel", TransferChannel), name="channel"),
        Index(None, "society_id", "sent_at"),
        Index(None, "recipient_society_id", "sent_at"),
        Index(None, "record_id"),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    recipient_society_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("society.id", ondelete="RESTRICT"), nullable=False
        )
    )
    grant_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("sharing_grant.id", ondelete="RESTRICT"), nullable=False
        )
    )
    record_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), nullable=False))
    fields: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    purpose: str = Field(sa_column=Column(Text, nullable=False))
    legal_basis: str = Field(sa_column=Column(Text, nullable=False))
    channel: str = Field(sa_column=Column(Text, nullable=False))
    received_by: str = Field(sa_column=Column(Text, nullable=False))
    sent_at: datetime.datetime = _created()


class WebhookSubscription(SQLModel, table=True):
    """A partner endpoint of one society and the events it receives. The signing secret is
    stored sealed under a society key; `link_events_after` is how far the society's candidate
    feed has been copied into its outbox."""

    __tablename__ = "webhook_subscription"
    __table_args__ = (
        CheckConstraint(
            f"cardinality(event_types) > 0 AND "
            f"event_types <@ ARRAY[{_values_sql(WebhookEventType)}]::text[]",
            name="event_types",
        ),
        CheckConstraint("url LIKE 'http%'", name="url"),
        Index(None, "society_id"),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    owner: str = Field(sa_column=Column(Text, nullable=False))
    url: str = Field(sa_column=Column(Text, nullable=False))
    secret: str = Field(sa_column=Column(Text, nullable=False))
    event_types: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    link_events_after: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0"))
    )
    created_at: datetime.datetime = _created()
    disabled_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )


class WebhookMessage(SQLModel, table=True):
    """The durable outbox: one event for one subscription, retried with backoff until its
    endpoint accepts it. Messages about the same record go out in `seq` order."""

    __tablename__ = "webhook_message"
    __table_args__ = (
        CheckConstraint(one_of("status", DeliveryStatus), name="status"),
        Index(
            None,
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index(None, "subscription_id", "subject_id", "seq"),
    )

    id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), primary_key=True))
    seq: int = Field(
        default=None,
        sa_column=Column(BigInteger, Identity(always=True), nullable=False, unique=True),
    )
    society_id: uuid.UUID = _society_fk()
    subscription_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True),
            ForeignKey("webhook_subscription.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    event_type: str = Field(sa_column=Column(Text, nullable=False))
    subject_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), nullable=False))
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    status: str = Field(
        default=DeliveryStatus.PENDING.value,
        sa_column=Column(Text, nullable=False, server_default=DeliveryStatus.PENDING.value),
    )
    attempts: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    next_attempt_at: datetime.datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=True, server_default=func.now()),
    )
    last_status_code: int | None = Field(default=None, sa_column=Column(Integer))
    last_error: str | None = _text()
    created_at: datetime.datetime = _created()
    delivered_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )


class ImportJob(SQLModel, table=True):
    """A bulk import sent over the API: its items wait in `import_item` and are stored a batch
    per transaction, the job's position moving in the same transaction, so a crash loses at
    most the batch in progress and a resumed job stores no item twice."""

    __tablename__ = "import_job"
    __table_args__ = (
        CheckConstraint("format IN ('jsonl', 'csv', 'pfif')", name="format"),
        CheckConstraint("status IN ('queued', 'running', 'done')", name="status"),
        Index(None, "society_id", "created_at"),
        Index(None, "status", postgresql_where=text("status <> 'done'")),
    )

    id: uuid.UUID = _id()
    society_id: uuid.UUID = _society_fk()
    source: str = Field(sa_column=Column(Text, nullable=False))
    format: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(
        default="queued", sa_column=Column(Text, nullable=False, server_default="queued")
    )
    total_items: int = Field(sa_column=Column(Integer, nullable=False))
    next_item: int = Field(
        default=1, sa_column=Column(Integer, nullable=False, server_default=text("1"))
    )
    created: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    updated: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    unchanged: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    failed: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    created_at: datetime.datetime = _created()
    updated_at: datetime.datetime = _updated()
    finished_at: datetime.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )


class ImportItem(SQLModel, table=True):
    """One record of an import job, as sent (sealed) until it is stored, or the reason it was
    refused. The body is dropped once the item is done."""

    __tablename__ = "import_item"

    job_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True),
            ForeignKey("import_job.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    position: int = Field(sa_column=Column(Integer, primary_key=True))
    society_id: uuid.UUID = _society_fk()
    kind: str | None = _text()
    external_id: str | None = _text()
    body: str | None = _text()
    problem: str | None = _text()


class ExternalRecord(SQLModel, table=True):
    """A partner's own id for a record it sent: re-sending the id updates the record."""

    __tablename__ = "external_record"
    __table_args__ = (Index(None, "record_id"),)

    society_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("society.id", ondelete="RESTRICT"), primary_key=True
        )
    )
    source: str = Field(sa_column=Column(Text, primary_key=True))
    external_id: str = Field(sa_column=Column(Text, primary_key=True))
    record_kind: str = Field(sa_column=Column(Text, nullable=False))
    record_id: uuid.UUID = Field(sa_column=Column(UUID(as_uuid=True), nullable=False))
    digest: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime.datetime = _updated()


class ExternalTombstone(SQLModel, table=True):
    """A partner id whose record was erased: sending it again is refused, never recreated."""

    __tablename__ = "external_tombstone"

    society_id: uuid.UUID = Field(
        sa_column=Column(
            UUID(as_uuid=True), ForeignKey("society.id", ondelete="RESTRICT"), primary_key=True
        )
    )
    source: str = Field(sa_column=Column(Text, primary_key=True))
    external_id: str = Field(sa_column=Column(Text, primary_key=True))
    erased_at: datetime.datetime = _created()
