"""Routes of `/v1/webhook-subscriptions`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response

from schemas.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from schemas.webhooks import (
    DeliveryStatus,
    WebhookDeliveryPublic,
    WebhookSubscriptionCreate,
    WebhookSubscriptionPublic,
)
from service.audit import service as audit
from service.deps import RuntimeDep, SessionDep, WebhooksAccess
from service.errors import (
    BadRequest,
    Conflict,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    NotFound,
    problem_responses,
)
from service.http import Cursor, IdempotencyKeyHeader, page_cursor
from service.idempotency.service import Outcome, run_once
from service.webhooks import repository, service

router = APIRouter(prefix="/webhook-subscriptions", tags=["webhooks"])

RECORD = "webhook_subscription"


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookSubscriptionPublic,
    summary="Register a webhook endpoint",
    description=(
        "Signed notifications (Standard Webhooks: `webhook-id`, `webhook-timestamp`, "
        "`webhook-signature`, HMAC-SHA256 with the secret returned here, once) for the events "
        "chosen: candidates and decisions of the society's feed, and tombstones (a person's "
        "consent withdrawn, do not trace, erasure; a sharing grant revoked), including for "
        "records another society shared with yours. Payloads carry ids only. The endpoint must "
        "be https on a public address: loopback, private, link-local and metadata addresses "
        "are refused (422) unless the service's settings allow them, and redirects are never "
        "followed. Failed deliveries are retried with exponential backoff; messages about one "
        "record arrive in order; deduplicate on `webhook-id`. Send `Idempotency-Key` to make "
        "a retry safe (a second subscription would deliver every event twice)."
    ),
    responses=problem_responses(IdempotencyInFlight, IdempotencyKeyReused),
)
async def subscribe(
    body: WebhookSubscriptionCreate,
    request: Request,
    session: SessionDep,
    access: WebhooksAccess,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    async def action() -> Outcome:
        subscription, secret = await service.subscribe(
            session, access.principal, body, runtime.settings
        )
        await audit.record(session, access, f"{RECORD}.create", RECORD, [subscription.id])
        return Outcome(
            201,
            service.subscription_public(subscription, secret).model_dump(mode="json"),
            {"Location": f"/v1/webhook-subscriptions/{subscription.id}"},
        )

    ttl = runtime.settings.idempotency_ttl
    return await run_once(
        session, access, idempotency_key, request, action, ttl, RECORD, lambda _: []
    )


@router.get(
    "",
    response_model=Page[WebhookSubscriptionPublic],
    summary="List webhook subscriptions",
    description="The society's subscriptions, oldest first.",
    responses=problem_responses(BadRequest),
)
async def list_subscriptions(
    session: SessionDep,
    access: WebhooksAccess,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[WebhookSubscriptionPublic]:
    rows = await repository.subscriptions_page(session, Cursor.decode(cursor), limit)
    return Page[WebhookSubscriptionPublic](
        items=[service.subscription_public(row) for row in rows[:limit]],
        next_cursor=page_cursor(rows, limit),
    )


@router.get(
    "/{subscription_id}",
    response_model=WebhookSubscriptionPublic,
    summary="Read a webhook subscription",
    description="Its endpoint, events and state (the secret is shown only at creation).",
    responses=problem_responses(NotFound),
)
async def get_subscription(
    subscription_id: uuid.UUID, session: SessionDep, access: WebhooksAccess
) -> WebhookSubscriptionPublic:
    return service.subscription_public(await service.get(session, subscription_id))


@router.post(
    "/{subscription_id}/disable",
    response_model=WebhookSubscriptionPublic,
    summary="Disable a webhook subscription",
    description="Nothing more is sent to it, pending messages included (409 if disabled).",
    responses=problem_responses(NotFound, Conflict),
)
async def disable_subscription(
    subscription_id: uuid.UUID, session: SessionDep, access: WebhooksAccess
) -> WebhookSubscriptionPublic:
    subscription = await service.unsubscribe(session, subscription_id)
    await audit.record(session, access, f"{RECORD}.disable", RECORD, [subscription.id])
    await session.commit()
    return service.subscription_public(subscription)


@router.get(
    "/{subscription_id}/deliveries",
    response_model=Page[WebhookDeliveryPublic],
    summary="Follow a subscription's deliveries",
    description="Its messages, oldest first: pending (with the next attempt's time), "
    "delivered, or failed after the last attempt, with the last status and error.",
    responses=problem_responses(NotFound, BadRequest),
)
async def list_deliveries(
    subscription_id: uuid.UUID,
    session: SessionDep,
    access: WebhooksAccess,
    status: DeliveryStatus | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[WebhookDeliveryPublic]:
    subscription = await service.get(session, subscription_id)
    rows = await repository.messages_page(
        session, subscription.id, status.value if status else None, Cursor.decode(cursor), limit
    )
    return Page[WebhookDeliveryPublic](
        items=service.deliveries_public(rows[:limit]), next_cursor=page_cursor(rows, limit)
    )
