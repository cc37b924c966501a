"""Outbound notifications to partner systems: subscriptions, deliveries and the payloads sent
(the Standard Webhooks scheme)."""

from __future__ import annotations

import datetime
import uuid
from enum import StrEnum

from pydantic import Field

from schemas.base import WireModel


class WebhookEventType(StrEnum):
    """What a partner can be told. Payloads carry ids and states only, never personal data:
    the partner reads what it may see through the API."""

    CANDIDATE_PROPOSED = "candidate.proposed"
    CANDIDATE_REPROPOSED = "candidate.reproposed"
    CANDIDATE_CONFIRMED = "candidate.confirmed"
    CANDIDATE_REJECTED = "candidate.rejected"
    CANDIDATE_WITHDRAWN = "candidate.withdrawn"
    DECISION_RECORDED = "decision.recorded"
    PERSON_CONSENT_WITHDRAWN = "person.consent_withdrawn"
    PERSON_DO_NOT_TRACE = "person.do_not_trace"
    PERSON_ERASED = "person.erased"
    GRANT_REVOKED = "grant.revoked"


class WebhookSubscriptionCreate(WireModel):
    """A partner endpoint and the events it wants."""

    url: str = Field(
        min_length=8,
        max_length=2000,
        description="An https URL on a public address (no redirects are followed).",
        examples=["https://tracing.example.org/kintrace/webhooks"],
    )
    event_types: list[WebhookEventType] = Field(
        default_factory=lambda: list(WebhookEventType), min_length=1
    )


class WebhookSubscriptionPublic(WireModel):
    """A subscription as its owner sees it (the secret only once, at creation)."""

    id: uuid.UUID
    url: str
    event_types: list[WebhookEventType]
    owner: str = Field(description="The principal that registered it.")
    created_at: datetime.datetime
    disabled_at: datetime.datetime | None
    secret: str | None = Field(
        default=None,
        description="The signing secret (`whsec_...`), shown only in the creation response.",
    )


class DeliveryStatus(StrEnum):
    """Where one message stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDeliveryPublic(WireModel):
    """One message of a subscription's outbox and its delivery so far."""

    id: uuid.UUID = Field(description="The event id (`webhook-id`): receivers deduplicate on it.")
    event_type: WebhookEventType
    subject_id: uuid.UUID = Field(description="The record the event is about (ordering key).")
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime.datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime.datetime
    delivered_at: datetime.datetime | None


class CandidateEventData(WireModel):
    """What a candidate event says: which link, which persons, where in the feed."""

    society: str = Field(description="The society whose feed the event is in (the receiver's).")
    link_id: uuid.UUID
    person_ids: list[uuid.UUID] = Field(
        description="The link's two persons; on a cross-society link one is the partner "
        "society's, known to the receiver by reference only."
    )
    decision_id: uuid.UUID | None = Field(description="`decision.recorded`: the decision.")
    feed_seq: int = Field(description="The event's number in the society's feed (`/v1/events`).")


class PersonTombstoneData(WireModel):
    """A person left tracing or was erased: delete, or stop using, every copy of the record."""

    society: str = Field(description="The society that holds (or held) the person.")
    person_id: uuid.UUID
    scope: str | None = Field(description="`person.consent_withdrawn`: the consent withdrawn.")


class GrantRevokedData(WireModel):
    """A sharing grant was revoked: delete everything received under it."""

    society: str = Field(description="The society that gave the grant.")
    grant_id: uuid.UUID


class CandidateEvent(WireModel):
    """A candidate link was proposed, proposed again, confirmed, rejected or withdrawn, or a
    decision was recorded on it."""

    type: WebhookEventType
    timestamp: datetime.datetime
    data: CandidateEventData


class PersonTombstone(WireModel):
    """A person's consent was withdrawn, the person asked not to be traced, or was erased."""

    type: WebhookEventType
    timestamp: datetime.datetime
    data: PersonTombstoneData


class GrantRevoked(WireModel):
    """A sharing grant was revoked."""

    type: WebhookEventType
    timestamp: datetime.datetime
    data: GrantRevokedData


# The body each event type is sent with (`type`, `timestamp`, `data`: Standard Webhooks).
WEBHOOK_BODIES: dict[WebhookEventType, type[CandidateEvent | PersonTombstone | GrantRevoked]] = {
    **{
        event: CandidateEvent
        for event in WebhookEventType
        if event.value.startswith(("candidate.", "decision."))
    },
    WebhookEventType.PERSON_CONSENT_WITHDRAWN: PersonTombstone,
    WebhookEventType.PERSON_DO_NOT_TRACE: PersonTombstone,
    WebhookEventType.PERSON_ERASED: PersonTombstone,
    WebhookEventType.GRANT_REVOKED: GrantRevoked,
}
