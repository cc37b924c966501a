"""The OpenAPI document describes every webhook a partner endpoint can receive: its body and the
signature headers (`tests/service/test_ops.py` keeps the committed `openapi/openapi.json` equal
to it)."""

from __future__ import annotations

from schemas.webhooks import WEBHOOK_BODIES, WebhookEventType
from service.app import create_app
from service.settings import Settings

SIGNATURE_HEADERS = {"webhook-id", "webhook-timestamp", "webhook-signature"}


def test_every_event_type_is_documented_with_its_body_and_signature_headers() -> None:
    document = create_app(Settings(database_url="postgresql://unused@127.0.0.1/unused")).openapi()
    webhooks = document["webhooks"]
    assert set(webhooks) == {event.value for event in WebhookEventType}
    for event, body in WEBHOOK_BODIES.items():
        operation = webhooks[event.value]["post"]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers == SIGNATURE_HEADERS, event
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith(f"/{body.__name__}"), event
        assert operation["requestBody"]["required"] is True
