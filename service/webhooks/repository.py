"""Queries on webhook subscriptions and the outbox, and on what feeds the outbox (the
candidate feed, partner notices, revoked grants)."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import PartnerNotice, SharingGrant, WebhookMessage, WebhookSubscription
from service.db.paging import keyset_page
from service.http import Cursor
from service.persons import crypto

SECRET_FIELD = "webhook_subscription.secret"


def _secret_cipher(session: AsyncSession, subscription_id: uuid.UUID) -> crypto.FieldCipher:
    return crypto.society_cipher(session, SECRET_FIELD, f"webhook_subscription:{subscription_id}")


async def insert_subscription(
    session: AsyncSession, subscription: WebhookSubscription, secret: str
) -> WebhookSubscription:
    """Store a subscription, its secret sealed under a society key."""
    sealed = _secret_cipher(session, subscription.id).seal(SECRET_FIELD, secret)
    assert sealed is not None
    subscription.secret = sealed
    session.add(subscription)
    await session.flush()
    await session.refresh(subscription)
    return subscription


def secret_of(session: AsyncSession, subscription: WebhookSubscription) -> str:
    """A subscription's signing secret, decrypted."""
    opened = _secret_cipher(session, subscription.id).open(SECRET_FIELD, subscription.secret)
    assert opened is not None
    return opened


async def get_subscription(
    session: AsyncSession, subscription_id: uuid.UUID
) -> WebhookSubscription | None:
    """A subscription of the session's society."""
    return await session.get(WebhookSubscription, subscription_id)


async def subscriptions_page(
    session: AsyncSession, after: Cursor | None, limit: int
) -> list[WebhookSubscription]:
    """A page of the society's subscriptions, oldest first, plus one."""
    statement = select(WebhookSubscription)
    statement = keyset_page(
        statement, col(WebhookSubscription.created_at), col(WebhookSubscription.id), after, limit
    )
    return list(await session.exec(statement))


async def enabled_subscriptions(session: AsyncSession, *, lock: bool) -> list[WebhookSubscription]:
    """The society's subscriptions in force; with `lock`, locked until commit (by the pass
    that moves their feed cursors)."""
    statement = (
        select(WebhookSubscription)
        .where(col(WebhookSubscription.disabled_at).is_(None))
        .order_by(col(WebhookSubscription.created_at))
    )
    if lock:
        statement = statement.with_for_update()
    return list(await session.exec(statement))


async def disable_subscription(session: AsyncSession, subscription: WebhookSubscription) -> None:
    """Stop a subscription (its pending messages are not sent any more)."""
    await session.exec(
        update(WebhookSubscription)
        .where(col(WebhookSubscription.id) == subscription.id)
        .values(disabled_at=func.now())
    )
    await session.refresh(subscription)


async def move_feed_cursor(
    session: AsyncSession, subscription: WebhookSubscription, after: int
) -> None:
    """Record how far the candidate feed was copied into the subscription's outbox."""
    await session.exec(
        update(WebhookSubscription)
        .where(col(WebhookSubscription.id) == subscription.id)
        .values(link_events_after=after)
    )


async def latest_link_event(session: AsyncSession) -> int:
    """The number of the society's latest feed event (0 when none)."""
    statement = text("SELECT coalesce(max(seq), 0) FROM link_event")
    return int((await session.exec(statement)).scalar_one())  # type: ignore[call-overload]


async def enqueue(session: AsyncSession, messages: Sequence[dict[str, Any]]) -> int:
    """Add messages to the outbox; a message already there (same id) is not added again, so
    filling the outbox twice from the same source is harmless. How many were added."""
    if not messages:
        return 0
    statement = insert(WebhookMessage).values(list(messages)).on_conflict_do_nothing()
    result = await session.exec(statement.returning(WebhookMessage.id))  # type: ignore[call-overload]
    return len(result.all())


async def claim_due(session: AsyncSession, limit: int) -> list[WebhookMessage]:
    """Due messages, locked until commit, each the oldest pending one of its record for its
    subscription (so messages about one record leave in order), skipping those another
    worker holds."""
    before = aliased(WebhookMessage)
    earlier = (
        select(before.seq)
        .where(
            before.subscription_id == WebhookMessage.subscription_id,
            before.subject_id == WebhookMessage.subject_id,
            before.seq < WebhookMessage.seq,
            before.status == "pending",
        )
        .exists()
    )
    statement = (
        select(WebhookMessage)
        .join(WebhookSubscription, col(WebhookSubscription.id) == WebhookMessage.subscription_id)
        .where(
            WebhookMessage.status == "pending",
            col(WebhookMessage.next_attempt_at) <= func.clock_timestamp(),
            col(WebhookSubscription.disabled_at).is_(None),
            ~earlier,
        )
        .order_by(col(WebhookMessage.seq))
        .limit(limit)
        .with_for_update(of=WebhookMessage, skip_locked=True)
    )
    return list(await session.exec(statement))


async def record_attempt(
    session: AsyncSession,
    message: WebhookMessage,
    *,
    delivered: bool,
    status_code: int | None,
    error: str | None,
    retry_at: datetime.datetime | None,
) -> None:
    """The outcome of one attempt: delivered, to be retried at `retry_at`, or failed for good
    (`retry_at` None)."""
    if delivered:
        values: dict[str, Any] = {"status": "delivered", "delivered_at": func.now()}
    elif retry_at is not None:
        values = {"next_attempt_at": retry_at}
    else:
        values = {"status": "failed", "next_attempt_at": None}
    await session.exec(
        update(WebhookMessage)
        .where(col(WebhookMessage.id) == message.id)
        .values(
            attempts=WebhookMessage.attempts + 1,
            last_status_code=status_code,
            last_error=error,
            **values,
        )
    )


async def messages_page(
    session: AsyncSession,
    subscription_id: uuid.UUID,
    status: str | None,
    after: Cursor | None,
    limit: int,
) -> list[WebhookMessage]:
    """A page of a subscription's messages, oldest first, plus one."""
    statement = select(WebhookMessage).where(WebhookMessage.subscription_id == subscription_id)
    if status is not None:
        statement = statement.where(WebhookMessage.status == status)
    statement = keyset_page(
        statement, col(WebhookMessage.created_at), col(WebhookMessage.id), after, limit
    )
    return list(await session.exec(statement))


async def undispatched_notices(session: AsyncSession, limit: int) -> list[PartnerNotice]:
    """Partner notices not yet copied into any outbox, oldest first, locked until commit."""
    statement = (
        select(PartnerNotice)
        .where(col(PartnerNotice.delivered_at).is_(None))
        .order_by(col(PartnerNotice.created_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(await session.exec(statement))


async def mark_notices_dispatched(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    """Partner notices now in every outbox they belong in."""
    if ids:
        await session.exec(
            update(PartnerNotice)
            .where(col(PartnerNotice.id).in_(ids))
            .values(delivered_at=func.now())
        )


async def unannounced_revocations(
    session: AsyncSession, society_id: uuid.UUID, limit: int
) -> list[SharingGrant]:
    """Grants the society revoked whose recipients were not told yet, locked until commit."""
    statement = (
        select(SharingGrant)
        .where(
            SharingGrant.society_id == society_id,
            col(SharingGrant.revoked_at).is_not(None),
            col(SharingGrant.revocation_notified_at).is_(None),
        )
        .order_by(col(SharingGrant.revoked_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(await session.exec(statement))


async def mark_revocations_announced(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    """Revoked grants whose tombstones are in the recipients' outboxes."""
    if ids:
        await session.exec(
            update(SharingGrant)
            .where(col(SharingGrant.id).in_(ids))
            .values(revocation_notified_at=func.now())
        )
