"""Standard Webhooks signatures: what a partner verifies, and every forgery it must refuse.

The expected signature is computed here by hand (HMAC-SHA256 over `id.timestamp.body`), and
the reference library's own verifier must accept our headers, so a shared bug cannot hide.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

import pytest
from standardwebhooks.webhooks import Webhook

from service.webhooks.signing import InvalidSignature, new_secret, sign_headers, verify

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
BODY = b'{"type":"person.updated","data":{"id":"p-1","name":"\xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0"}}'
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


def _by_hand(secret: str, message_id: str, seconds: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{seconds}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def test_headers_are_exactly_the_standard_ones_and_the_signature_is_the_hmac():
    headers = sign_headers(SECRET, "msg_1", NOW, BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature", "content-type"}
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert headers["webhook-signature"] == _by_hand(SECRET, "msg_1", int(NOW.timestamp()), BODY)
    assert headers["content-type"] == "application/json"


def test_sign_then_verify_and_the_reference_verifier_agrees():
    now = datetime.now(UTC)
    headers = sign_headers(SECRET, "msg_2", now, BODY)
    assert verify(SECRET, headers, BODY) == "msg_2"
    assert Webhook(SECRET).verify(BODY, headers, json_parse=False) is None


def test_new_secrets_are_random_whsec_32_bytes_and_work():
    first, second = new_secret(), new_secret()
    assert first != second
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32
    assert verify(first, sign_headers(first, "m", NOW, BODY), BODY, now=NOW) == "m"


def test_the_instant_counts_not_the_wall_clock_of_its_zone():
    # The library alone would read 14:00+02:00 as 14:00 UTC, two hours off.
    plus_two = NOW.astimezone(timezone(timedelta(hours=2)))
    assert sign_headers(SECRET, "m", plus_two, BODY) == sign_headers(SECRET, "m", NOW, BODY)


def test_a_naive_timestamp_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_headers(SECRET, "m", datetime(2026, 5, 1, 12, 0), BODY)


@pytest.mark.parametrize("secret", ["", "abc", "whsec_", "whsec_!!!!", "whsec_" + "QUFB" * 4])
def test_malformed_secrets_are_refused(secret):
    with pytest.raises(ValueError):
        sign_headers(secret, "m", NOW, BODY)


def _signed() -> dict[str, str]:
    return sign_headers(SECRET, "msg_3", NOW, BODY)


FORGERIES = {
    "tampered body": (SECRET, _signed, BODY.replace(b"p-1", b"p-2"), "no matching signature"),
    "wrong secret": (new_secret(), _signed, BODY, "no matching signature"),
    "other message id": (SECRET, lambda: {**_signed(), "webhook-id": "msg_4"}, BODY, "no match"),
    "shifted timestamp": (
        SECRET,
        lambda: {**_signed(), "webhook-timestamp": str(int(NOW.timestamp()) + 1)},
        BODY,
        "no matching signature",
    ),
    "ten minutes old": (
        SECRET,
        lambda: sign_headers(SECRET, "m", NOW - timedelta(minutes=10), BODY),
        BODY,
        "too old",
    ),
    "ten minutes ahead": (
        SECRET,
        lambda: sign_headers(SECRET, "m", NOW + timedelta(minutes=10), BODY),
        BODY,
        "too new",
    ),
    "no signature": (
        SECRET,
        lambda: {k: v for k, v in _signed().items() if k != "webhook-signature"},
        BODY,
        "missing",
    ),
    "no id": (
        SECRET,
        lambda: {k: v for k, v in _signed().items() if k != "webhook-id"},
        BODY,
        "missing",
    ),
    "garbage signature": (
        SECRET,
        lambda: {**_signed(), "webhook-signature": "v1 nonsense,%%% v1,"},
        BODY,
        "no matching signature",
    ),
    "other scheme version": (
        SECRET,
        lambda: {
            **_signed(),
            "webhook-signature": _signed()["webhook-signature"].replace("v1,", "v2,"),
        },
        BODY,
        "no matching signature",
    ),
    "fractional timestamp": (
        SECRET,
        lambda: {**_signed(), "webhook-timestamp": _signed()["webhook-timestamp"] + ".0"},
        BODY,
        "not a number",
    ),
    "not utf-8": (SECRET, _signed, b"\xff" + BODY, "UTF-8"),
}


@pytest.mark.parametrize("case", FORGERIES, ids=list(FORGERIES))
def test_forgeries_and_replays_are_refused(case):
    secret, make_headers, body, reason = FORGERIES[case]
    with pytest.raises(InvalidSignature, match=reason):
        verify(secret, make_headers(), body, now=NOW)


def test_tolerance_is_the_callers_and_symmetric():
    old = sign_headers(SECRET, "m", NOW - timedelta(minutes=10), BODY)
    ahead = sign_headers(SECRET, "m", NOW + timedelta(minutes=10), BODY)
    assert verify(SECRET, old, BODY, timedelta(minutes=11), now=NOW) == "m"
    assert verify(SECRET, ahead, BODY, timedelta(minutes=11), now=NOW) == "m"
    with pytest.raises(InvalidSignature, match="too old"):
        verify(SECRET, old, BODY, timedelta(minutes=9), now=NOW)


def test_one_of_several_signatures_may_match_during_key_rotation():
    headers = _signed()
    old = sign_headers(new_secret(), "msg_3", NOW, BODY)["webhook-signature"]
    rotated = {**headers, "Webhook-Signature": f"{old} {headers['webhook-signature']}"}
    del rotated["webhook-signature"]
    assert verify(SECRET, rotated, BODY, now=NOW) == "msg_3"
