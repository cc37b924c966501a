"""The durable outbox: filling it from what partners must hear of, and delivering it.

Filling copies three sources into per-subscription messages, each with an id derived from its
source, so filling twice (after a crash between two commits, say) adds nothing:
* the society's candidate feed (`link_event`), from each subscription's cursor;
* partner notices (withdrawal, do not trace, erasure), to the society's own subscriptions and
  to those of every society the person was ever sent to (the transfers ledger);
* revoked grants, to the recipient society's subscriptions.

Delivery signs each message (Standard Webhooks), sends it to the vetted address only, and
retries failures with exponential backoff; a record's messages leave one at a time, in order.
Receivers deduplicate on `webhook-id`: a message whose acceptance was not recorded (a crash
right after the receiver said 200) is sent again with the same id.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import random
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.webhooks import (
    CandidateEventData,
    GrantRevokedData,
    PersonTombstoneData,
    WebhookEventType,
)
from service.candidates import repository as candidates
from service.db.models import LinkEvent, PartnerNotice, SharingGrant, WebhookSubscription
from service.settings import Settings
from service.sharing import repository as sharing
from service.webhooks import repository, signing
from service.webhooks.ssrf import DEFAULT_PORTS, EndpointPolicy
from service.webhooks.transport import deliver, make_client

log = structlog.get_logger(__name__)

TenantSessions = Callable[[uuid.UUID], AsyncSession]
MESSAGE_IDS = uuid.UUID("6f1d3c1e-5b7a-4c55-9a43-2f3b0f6a8e10")
FEED_BATCH = 500
NOTICE_BATCH = 200
DELIVERY_BATCH = 20
NOTICE_EVENTS = {
    "consent_withdrawn": WebhookEventType.PERSON_CONSENT_WITHDRAWN,
    "do_not_trace": WebhookEventType.PERSON_DO_NOT_TRACE,
    "erased": WebhookEventType.PERSON_ERASED,
}


@dataclass(frozen=True, slots=True)
class Announcement:
    """Something every subscription of a society that wants `event_type` must hear of."""

    source: str  # unique per source row: the message id derives from it
    event_type: WebhookEventType
    subject_id: uuid.UUID
    data: dict[str, Any]
    at: datetime.datetime


def message_id(subscription_id: uuid.UUID, source: str) -> uuid.UUID:
    """The id of the message carrying `source` to a subscription: the same every time."""
    return uuid.uuid5(MESSAGE_IDS, f"{subscription_id}:{source}")


def payload(announcement: Announcement) -> dict[str, Any]:
    """A webhook body: `type`, `timestamp`, `data` (Standard Webhooks)."""
    return {
        "type": announcement.event_type.value,
        "timestamp": announcement.at.isoformat(),
        "data": announcement.data,
    }


def messages_for(
    subscriptions: Sequence[WebhookSubscription], announcements: Sequence[Announcement]
) -> list[dict[str, Any]]:
    """Outbox rows: each announcement for each subscription that wants its type."""
    return [
        {
            "id": message_id(subscription.id, item.source),
            "society_id": subscription.society_id,
            "subscription_id": subscription.id,
            "event_type": item.event_type.value,
            "subject_id": item.subject_id,
            "payload": payload(item),
        }
        for item in announcements
        for subscription in subscriptions
        if item.event_type.value in subscription.event_types
    ]


def feed_announcement(
    event: LinkEvent, society_code: str, pair: tuple[uuid.UUID, uuid.UUID] | None
) -> Announcement:
    """A candidate-feed event as partners hear of it: ids only, the link's two persons among
    them (so a partner knows which of its records the candidate concerns)."""
    return Announcement(
        source=f"link_event:{event.seq}",
        event_type=WebhookEventType(event.type),
        subject_id=event.link_id,
        data=CandidateEventData(
            society=society_code,
            link_id=event.link_id,
            person_ids=list(pair) if pair else [],
            decision_id=event.decision_id,
            feed_seq=event.seq,
        ).model_dump(mode="json"),
        at=event.occurred_at,
    )


def notice_announcement(notice: PartnerNotice, society_code: str) -> Announcement:
    """A tombstone: the person left tracing or was erased; delete or stop using the record."""
    return Announcement(
        source=f"partner_notice:{notice.id}",
        event_type=NOTICE_EVENTS[notice.kind],
        subject_id=notice.person_id,
        data=PersonTombstoneData(
            society=society_code, person_id=notice.person_id, scope=notice.scope
        ).model_dump(mode="json"),
        at=notice.created_at,
    )


def revocation_announcement(grant: SharingGrant, society_code: str) -> Announcement:
    """A tombstone for a grant: delete everything received under it."""
    assert grant.revoked_at is not None
    return Announcement(
        source=f"grant_revoked:{grant.id}",
        event_type=WebhookEventType.GRANT_REVOKED,
        subject_id=grant.id,
        data=GrantRevokedData(society=society_code, grant_id=grant.id).model_dump(mode="json"),
        at=grant.revoked_at,
    )


async def _fill_from_feed(
    session: AsyncSession, subscriptions: Sequence[WebhookSubscription], society_code: str
) -> int:
    added = 0
    for subscription in subscriptions:
        events = await candidates.events_after(session, subscription.link_events_after, FEED_BATCH)
        if not events:
            continue
        pairs = await candidates.pairs_of(session, [event.link_id for event in events])
        items = [feed_announcement(e, society_code, pairs.get(e.link_id)) for e in events]
        added += await repository.enqueue(session, messages_for([subscription], items))
        await repository.move_feed_cursor(session, subscription, events[-1].seq)
    return added


async def fill_society(tenant: TenantSessions, society_id: uuid.UUID, code: str) -> int:
    """Copy one society's feed, notices and revocations into the outboxes concerned; how many
    messages were added."""
    async with tenant(society_id) as session:
        subscriptions = await repository.enabled_subscriptions(session, lock=True)
        added = await _fill_from_feed(session, subscriptions, code)
        notices = await repository.undispatched_notices(session, NOTICE_BATCH)
        revoked = await repository.unannounced_revocations(session, society_id, NOTICE_BATCH)
        own = [notice_announcement(notice, code) for notice in notices]
        added += await repository.enqueue(session, messages_for(subscriptions, own))
        elsewhere: dict[uuid.UUID, list[Announcement]] = defaultdict(list)
        sent_to = await sharing.recipients_of(session, [notice.person_id for notice in notices])
        for notice, item in zip(notices, own, strict=True):
            for recipient in sent_to.get(notice.person_id, []):
                elsewhere[recipient].append(item)
        for grant in revoked:
            elsewhere[grant.recipient_society_id].append(revocation_announcement(grant, code))
        for recipient, items in elsewhere.items():
            added += await _fill_elsewhere(tenant, recipient, items)
        await repository.mark_notices_dispatched(session, [notice.id for notice in notices])
        await repository.mark_revocations_announced(session, [grant.id for grant in revoked])
        await session.commit()
    return added


async def _fill_elsewhere(
    tenant: TenantSessions, society_id: uuid.UUID, items: Sequence[Announcement]
) -> int:
    """Put tombstones in another society's outboxes (its own transaction, committed first:
    should the sender's commit then fail, the next pass adds nothing twice)."""
    async with tenant(society_id) as session:
        subscriptions = await repository.enabled_subscriptions(session, lock=False)
        added = await repository.enqueue(session, messages_for(subscriptions, items))
        await session.commit()
    return added


def retry_delay(attempt: int, settings: Settings, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): doubling from the
    base, capped, with ±20% jitter so that a recovering endpoint is not hit by every sender at
    once."""
    base = settings.webhook_retry_base_seconds * 2.0 ** min(attempt - 1, 30)
    jitter: float = (rng or random).uniform(0.8, 1.2)
    return min(base, settings.webhook_retry_cap_seconds) * jitter


def policy_of(settings: Settings) -> EndpointPolicy:
    """Which endpoint addresses the settings allow."""
    return EndpointPolicy(
        allow_loopback=settings.webhook_allow_loopback,
        allow_private=settings.webhook_allow_private,
        allow_http=settings.webhook_allow_http,
        ports=None if settings.webhook_any_port else DEFAULT_PORTS,
    )


@dataclass(slots=True)
class DeliveryProgress:
    """What one delivery pass did."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0


async def deliver_society(
    tenant: TenantSessions, society_id: uuid.UUID, client: httpx.AsyncClient, settings: Settings
) -> DeliveryProgress:
    """Send one society's due messages until none is due."""
    progress = DeliveryProgress()
    policy = policy_of(settings)
    while True:
        async with tenant(society_id) as session:
            due = await repository.claim_due(session, DELIVERY_BATCH)
            if not due:
                return progress
            for message in due:
                subscription = await repository.get_subscription(session, message.subscription_id)
                assert subscription is not None
                body = json.dumps(message.payload, separators=(",", ":")).encode()
                headers = signing.sign_headers(
                    repository.secret_of(session, subscription),
                    str(message.id),
                    datetime.datetime.now(datetime.UTC),
                    body,
                )
                result = await deliver(
                    client,
                    subscription.url,
                    body,
                    headers,
                    policy,
                    settings.webhook_timeout_seconds,
                )
                attempt = message.attempts + 1
                retry_at = None
                if not result.ok and attempt < settings.webhook_max_attempts:
                    delay = retry_delay(attempt, settings)
                    retry_at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(
                        seconds=delay
                    )
                await repository.record_attempt(
                    session,
                    message,
                    delivered=result.ok,
                    status_code=result.status_code,
                    error=result.error,
                    retry_at=retry_at,
                )
                if result.ok:
                    progress.delivered += 1
                elif retry_at is not None:
                    progress.retried += 1
                else:
                    progress.failed += 1
                    log.warning("webhook message failed", message=str(message.id))
            await session.commit()


async def pump(
    society_codes: Sequence[tuple[uuid.UUID, str]],
    tenant: TenantSessions,
    client: httpx.AsyncClient,
    settings: Settings,
) -> DeliveryProgress:
    """One pass over every society: fill the outboxes, then deliver what is due."""
    for society_id, code in society_codes:
        await fill_society(tenant, society_id, code)
    total = DeliveryProgress()
    for society_id, _ in society_codes:
        done = await deliver_society(tenant, society_id, client, settings)
        total.delivered += done.delivered
        total.retried += done.retried
        total.failed += done.failed
    return total


async def deliver_forever(
    society_codes: Callable[[], Awaitable[Sequence[tuple[uuid.UUID, str]]]],
    tenant: TenantSessions,
    settings: Settings,
    stop: asyncio.Event,
    *,
    idle_seconds: float = 1.0,
) -> None:
    """Fill and deliver the outboxes until `stop` is set (beside the match worker)."""
    async with make_client(policy_of(settings)) as client:
        while not stop.is_set():
            try:
                await pump(await society_codes(), tenant, client, settings)
            except Exception as err:  # database restart, say: try again shortly
                log.warning("webhook pass failed", error=f"{type(err).__name__}: {err}")
            try:
                await asyncio.wait_for(stop.wait(), timeout=idle_seconds)
            except TimeoutError:
                pass
