"""The webhooks a partner endpoint receives, described in the OpenAPI document (`webhooks`,
OpenAPI 3.1): one operation per event type, with its body and the signature headers."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Body, FastAPI, Header
from pydantic import BaseModel

from schemas.webhooks import WEBHOOK_BODIES, WebhookEventType

SIGNING = (
    "Sent as a POST with a JSON body to each enabled subscription that asked for this event "
    "type, signed by the Standard Webhooks scheme: `webhook-signature` is `v1,` and the base64 "
    "HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` under the subscription's secret. "
    "Verify it, refuse timestamps more than five minutes off (replay), answer 2xx, and "
    "deduplicate on `webhook-id`: a message whose acknowledgement was lost comes again with the "
    "same id. Messages about one record arrive in order. The body carries ids and states only; "
    "read what you may see through the API."
)

SUMMARIES: dict[WebhookEventType, str] = {
    WebhookEventType.CANDIDATE_PROPOSED: "A candidate link was proposed",
    WebhookEventType.CANDIDATE_REPROPOSED: "A candidate link was proposed again",
    WebhookEventType.CANDIDATE_CONFIRMED: "A candidate link was confirmed",
    WebhookEventType.CANDIDATE_REJECTED: "A candidate link was rejected",
    WebhookEventType.CANDIDATE_WITHDRAWN: "A candidate link was withdrawn",
    WebhookEventType.DECISION_RECORDED: "A reviewer recorded a decision",
    WebhookEventType.PERSON_CONSENT_WITHDRAWN: "Tombstone: consent to tracing withdrawn",
    WebhookEventType.PERSON_DO_NOT_TRACE: "Tombstone: the person asked not to be traced",
    WebhookEventType.PERSON_ERASED: "Tombstone: the person was erased",
    WebhookEventType.GRANT_REVOKED: "Tombstone: a sharing grant was revoked",
}


def _receiver(body: type[BaseModel]) -> Callable[..., Awaitable[None]]:
    """An operation signature for the partner's endpoint receiving `body` (never called)."""

    async def receive(**_: Any) -> None:
        raise NotImplementedError("a partner's endpoint receives this")

    annotations: dict[str, Any] = {
        "event": Annotated[body, Body()],
        "webhook_id": Annotated[
            str, Header(alias="webhook-id", description="The message id (deduplicate on it).")
        ],
        "webhook_timestamp": Annotated[
            str, Header(alias="webhook-timestamp", description="Seconds since the epoch.")
        ],
        "webhook_signature": Annotated[
            str, Header(alias="webhook-signature", description="`v1,` and the base64 HMAC.")
        ],
    }
    receive.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)
            for name, annotation in annotations.items()
        ],
        return_annotation=None,
    )
    return receive


def document_webhooks(app: FastAPI) -> None:
    """Describe every event type a subscription can receive."""
    for event_type, body in WEBHOOK_BODIES.items():
        app.webhooks.add_api_route(
            event_type.value,
            _receiver(body),
            methods=["POST"],
            summary=SUMMARIES[event_type],
            description=SIGNING,
            operation_id=f"webhook_{event_type.value.replace('.', '_')}",
            status_code=204,
            responses={204: {"description": "Received (any 2xx acknowledges)."}},
        )
