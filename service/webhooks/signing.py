"""Standard Webhooks signatures (https://www.standardwebhooks.com), via `standardwebhooks`.

A message is signed as HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}` with the
endpoint's secret, sent as `webhook-signature: v1,<base64>` (several space-separated signatures
are allowed, for key rotation). The library computes the HMAC; this module wraps it because the
library's `verify` has a fixed five-minute tolerance, reports malformed signature headers as
`ValueError`/`binascii.Error` rather than its own error, and its `sign` reads an aware
timestamp's wall clock as UTC (`replace(tzinfo=utc)`), shifting the instant of a non-UTC one.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = timedelta(minutes=5)
_MESSAGE_ID = re.compile(r"[\x21-\x7e]{1,256}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class InvalidSignature(ValueError):
    """The message is not authentic: a header is missing, the signature or the time is wrong."""


def new_secret() -> str:
    """A fresh endpoint secret: `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _webhook(secret: str) -> Webhook:
    """The library's signer for a `whsec_` secret, decoded strictly (24 to 64 bytes)."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with 'whsec_'")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is 'whsec_' and base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError("a webhook secret holds 24 to 64 bytes")
    return Webhook(key)


def _signature(webhook: Webhook, message_id: str, seconds: int, body: bytes) -> bytes:
    """The raw `v1` HMAC; the library takes text, so the body must be UTF-8 (JSON is)."""
    text = body.decode("utf-8")
    signed = webhook.sign(message_id, datetime.fromtimestamp(seconds, UTC), text)
    return base64.b64decode(signed.removeprefix("v1,"))


def sign_headers(secret: str, message_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    """The headers that sign `body` as message `message_id` sent at `timestamp` (aware)."""
    if timestamp.tzinfo is None:
        raise ValueError("the timestamp must be timezone-aware")
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError("a message id is 1 to 256 printable ASCII characters, no spaces")
    seconds = math.floor(timestamp.timestamp())
    raw = _signature(_webhook(secret), message_id, seconds, body)
    signature = base64.b64encode(raw).decode("ascii")
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(seconds),
        "webhook-signature": f"v1,{signature}",
        "content-type": "application/json",
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    *,
    now: datetime | None = None,
) -> str:
    """Check a received message and return its `webhook-id` (the receiver's dedup key).

    Refuses (`InvalidSignature`) a missing header, a timestamp further than `tolerance` from
    `now` in either direction (replay protection), and a body, id or timestamp that no `v1`
    signature in the header matches. A malformed `secret` is a plain `ValueError`.
    """
    webhook = _webhook(secret)
    lowered = {name.lower(): value for name, value in headers.items()}
    message_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    offered = lowered.get("webhook-signature", "")
    if not (message_id and stamp and offered):
        raise InvalidSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    if not _TIMESTAMP.fullmatch(stamp):
        raise InvalidSignature("webhook-timestamp is not a number of seconds")
    age = (now or datetime.now(UTC)) - datetime.fromtimestamp(int(stamp), UTC)
    if age > tolerance:
        raise InvalidSignature("message timestamp too old")
    if -age > tolerance:
        raise InvalidSignature("message timestamp too new")
    try:
        expected = _signature(webhook, message_id, int(stamp), body)
    except UnicodeDecodeError:
        raise InvalidSignature("body is not UTF-8") from None
    for entry in offered.split():
        version, _, value = entry.partition(",")
        try:
            candidate = base64.b64decode(value, validate=True)
        except binascii.Error:
            continue
        if version == "v1" and hmac.compare_digest(candidate, expected):
            return message_id
    raise InvalidSignature("no matching signature")
