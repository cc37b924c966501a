"""Webhook subscriptions: a partner (or a supervisor) registers an endpoint and the events it
wants, receives the signing secret once, and follows the deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.webhooks import (
    WebhookDeliveryPublic,
    WebhookSubscriptionCreate,
    WebhookSubscriptionPublic,
)
from service.db.models import WebhookMessage, WebhookSubscription
from service.errors import Conflict, NotFound, invalid_fields
from service.principal import Principal
from service.settings import Settings
from service.webhooks import repository, signing
from service.webhooks.outbox import policy_of
from service.webhooks.ssrf import UnsafeEndpoint, check_url


def subscription_public(
    subscription: WebhookSubscription, secret: str | None = None
) -> WebhookSubscriptionPublic:
    """Wire view of a subscription (the secret only when given: at creation)."""
    return WebhookSubscriptionPublic.model_validate(
        {
            **subscription.model_dump(exclude={"secret", "society_id", "link_events_after"}),
            "secret": secret,
        }
    )


def deliveries_public(messages: Sequence[WebhookMessage]) -> list[WebhookDeliveryPublic]:
    """Wire views of outbox messages."""
    return [WebhookDeliveryPublic.model_validate(m, from_attributes=True) for m in messages]


async def subscribe(
    session: AsyncSession, principal: Principal, body: WebhookSubscriptionCreate, settings: Settings
) -> tuple[WebhookSubscription, str]:
    """Register an endpoint (422 for one the outbound policy refuses: not https, an address
    inside the network). The subscription hears of feed events from now on, not the past."""
    try:
        url = check_url(body.url, policy_of(settings))
    except UnsafeEndpoint as err:
        raise invalid_fields(f"this endpoint is refused: {err}", "url") from None
    secret = signing.new_secret()
    subscription = WebhookSubscription(
        id=uuid.uuid4(),
        society_id=principal.society_id,
        owner=principal.subject,
        url=url,
        secret="",
        event_types=[event.value for event in dict.fromkeys(body.event_types)],
        link_events_after=await repository.latest_link_event(session),
    )
    return await repository.insert_subscription(session, subscription, secret), secret


async def get(session: AsyncSession, subscription_id: uuid.UUID) -> WebhookSubscription:
    """A subscription of the caller's society (like every record, it belongs to the society;
    `owner` says who registered it); 404 otherwise, like a missing one."""
    subscription = await repository.get_subscription(session, subscription_id)
    if subscription is None:
        raise NotFound(f"no webhook subscription {subscription_id}")
    return subscription


async def unsubscribe(session: AsyncSession, subscription_id: uuid.UUID) -> WebhookSubscription:
    """Disable a subscription: nothing more is sent to it (409 if already disabled)."""
    subscription = await get(session, subscription_id)
    if subscription.disabled_at is not None:
        raise Conflict("the subscription is disabled already")
    await repository.disable_subscription(session, subscription)
    return subscription
