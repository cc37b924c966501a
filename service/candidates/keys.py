"""Blocking keys as keyed hashes: what the keys table stores instead of names.

Each society has its own HMAC key, derived from the service's secret key and the society's id
(HKDF), so the table reveals no names, and one society's digests say nothing about another's.
Sessions confined to a society carry that society's key in `session.info`; the persons service
refreshes a person's keys in the same transaction as the person's names and dates.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlmodel.ext.asyncio.session import AsyncSession

from matching import PersonRecord, blocking_keys, lookup_keys

DIGEST_BYTES = 16  # 128 bits: no accidental collision in any archive
SESSION_KEY = "kintrace.blocking_secret"


def society_secret(service_secret: bytes, society_id: uuid.UUID) -> bytes:
    """The HMAC key of one society's blocking keys."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"kintrace blocking keys " + society_id.bytes,
    ).derive(service_secret)


def digest(secret: bytes, key: str) -> bytes:
    """The keyed hash stored for one blocking key."""
    return hmac.new(secret, key.encode("utf-8"), hashlib.sha256).digest()[:DIGEST_BYTES]


def digests(secret: bytes, record: PersonRecord) -> list[tuple[bytes, str]]:
    """(digest, kind) of every blocking key of a record, as stored; kind is `n`, `f` or `y`."""
    return sorted({(digest(secret, key), key[0]) for key in blocking_keys(record)})


def lookup_digests(secret: bytes, record: PersonRecord) -> list[bytes]:
    """The digests a probe looks up: its own keys and their neighbours (`lookup_keys`)."""
    return sorted({digest(secret, key) for key in lookup_keys(record)})


def attach(session: AsyncSession, secret: bytes) -> AsyncSession:
    """Give a society-confined session its society's HMAC key."""
    session.info[SESSION_KEY] = secret
    return session


def secret_of(session: AsyncSession) -> bytes:
    """The HMAC key a society-confined session carries."""
    try:
        secret: bytes = session.info[SESSION_KEY]
    except KeyError:
        raise RuntimeError(
            "this session carries no blocking-key secret; open it with Runtime.tenant_session"
        ) from None
    return secret
