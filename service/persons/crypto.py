"""Encryption at rest of personal fields: a data key per person (or tracing request), wrapped by
a key of its society.

Names, contact details, exact locations and free-text notes are stored as AES-GCM ciphertext
under the owner's own 256-bit data key, with the owner's id and the field's name as associated
data (a ciphertext moved to another row or column does not decrypt). Data keys are stored
wrapped (AES-GCM) under a society key derived from the service secret (HKDF), in `data_key`;
a dump of the database alone therefore reveals no names, and deleting a person's data key
(erasure) leaves their ciphertext unreadable wherever it was copied, provided the key table is
kept out of long-term backups. Only the repositories call this module.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlmodel.ext.asyncio.session import AsyncSession

PREFIX = "k1:"
NONCE_BYTES = 12
SESSION_WRAPPING_KEY = "kintrace.data_key_wrapping"
SESSION_SOCIETY = "kintrace.data_key_society"
SESSION_KEY_DERIVER = "kintrace.data_key_deriver"
SESSION_ADMITTED = "kintrace.data_key_admitted"
SESSION_KEY_CACHE = "kintrace.data_keys"


class UnreadableData(RuntimeError):
    """A field cannot be decrypted: its data key is gone (erased) or the data was altered."""


def society_wrapping_key(service_secret: bytes, society_id: uuid.UUID) -> bytes:
    """The key that wraps the data keys of one society's records."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"kintrace data keys " + society_id.bytes,
    ).derive(service_secret)


def attach(
    session: AsyncSession,
    society_id: uuid.UUID,
    wrapping_key: bytes,
    derive: Callable[[uuid.UUID], bytes] | None = None,
) -> AsyncSession:
    """Give a society-confined session its society's wrapping key, and the means to derive
    another society's key should the sharing service admit one (see `admit_society`)."""
    session.info[SESSION_SOCIETY] = society_id
    session.info[SESSION_WRAPPING_KEY] = wrapping_key
    if derive is not None:
        session.info[SESSION_KEY_DERIVER] = derive
    return session


def admit_society(session: AsyncSession, society_id: uuid.UUID) -> None:
    """Let the session open records another society shares with it. Only the sharing
    repository calls this, for a society whose grant it has just found (row-level security
    decides which of its rows are visible at all)."""
    try:
        derive: Callable[[uuid.UUID], bytes] = session.info[SESSION_KEY_DERIVER]
    except KeyError:
        raise RuntimeError("this session cannot open another society's records") from None
    session.info.setdefault(SESSION_ADMITTED, {})[society_id] = derive(society_id)


def society_of(session: AsyncSession) -> uuid.UUID | None:
    """The society a session is confined to, as its keys were attached."""
    society: uuid.UUID | None = session.info.get(SESSION_SOCIETY)
    return society


def wrapping_key_for(session: AsyncSession, society_id: uuid.UUID) -> bytes | None:
    """The key wrapping a society's data keys, if the session may use it: its own society's,
    or one admitted for shared records."""
    if session.info.get(SESSION_SOCIETY) == society_id:
        return wrapping_key_of(session)
    admitted: dict[uuid.UUID, bytes] = session.info.get(SESSION_ADMITTED, {})
    return admitted.get(society_id)


def wrapping_key_of(session: AsyncSession) -> bytes:
    """The wrapping key a society-confined session carries."""
    try:
        key: bytes = session.info[SESSION_WRAPPING_KEY]
    except KeyError:
        raise RuntimeError(
            "this session carries no data-key wrapping key; open it with Runtime.tenant_session"
        ) from None
    return key


def new_data_key() -> bytes:
    """A fresh 256-bit data key."""
    return AESGCM.generate_key(bit_length=256)


def wrap(wrapping_key: bytes, owner_id: uuid.UUID, data_key: bytes) -> bytes:
    """A data key as stored: nonce and ciphertext, bound to its owner."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(wrapping_key).encrypt(nonce, data_key, owner_id.bytes)


def unwrap(wrapping_key: bytes, owner_id: uuid.UUID, wrapped: bytes) -> bytes:
    """The data key of an owner, from its stored form."""
    nonce, body = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
    return AESGCM(wrapping_key).decrypt(nonce, body, owner_id.bytes)


class FieldCipher:
    """Seals and opens the personal fields of one owner under its data key."""

    def __init__(self, owner_id: uuid.UUID, data_key: bytes | None) -> None:
        self._owner = owner_id.bytes
        self._aead = AESGCM(data_key) if data_key is not None else None

    def seal(self, field: str, value: str | None) -> str | None:
        """The stored form of a text field (None stays None)."""
        if value is None:
            return None
        if self._aead is None:
            raise UnreadableData("no data key to encrypt with")
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, value.encode("utf-8"), self._owner + field.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, field: str, stored: str | None) -> str | None:
        """A text field as written (None stays None)."""
        if stored is None:
            return None
        if not stored.startswith(PREFIX):
            return stored  # written before encryption at rest (migration 0014)
        if self._aead is None:
            raise UnreadableData(f"no data key for {field}: the record was erased")
        raw = base64.b64decode(stored[len(PREFIX) :])
        nonce, body = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
        plain: bytes = self._aead.decrypt(nonce, body, self._owner + field.encode())
        return plain.decode("utf-8")

    def seal_document(self, field: str, value: dict[str, Any] | None) -> str | None:
        """The stored form of a JSON document field (a JSON string in a jsonb column)."""
        return None if value is None else self.seal(field, json.dumps(value, ensure_ascii=False))

    def open_document(self, field: str, stored: Any) -> dict[str, Any] | None:
        """A JSON document field as written."""
        if stored is None or isinstance(stored, dict):
            return stored  # a dict: written before encryption at rest
        opened = self.open(field, stored)
        return None if opened is None else dict(json.loads(opened))


def society_cipher(session: AsyncSession, purpose: str, scope: str) -> FieldCipher:
    """A cipher under a key of the session's society (derived for `purpose`), bound to `scope`:
    for short-lived records that belong to no single person (stored idempotent responses)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        wrapping_key_of(session)
    )
    return FieldCipher(uuid.uuid5(uuid.NAMESPACE_URL, scope), key)


def remember(session: AsyncSession, owner_id: uuid.UUID, data_key: bytes) -> None:
    """Keep an unwrapped data key for the rest of the session (a later write needs it)."""
    session.info.setdefault(SESSION_KEY_CACHE, {})[owner_id] = data_key


def remembered(session: AsyncSession, owner_id: uuid.UUID) -> bytes | None:
    """A data key unwrapped earlier in the session."""
    cache: dict[uuid.UUID, bytes] = session.info.get(SESSION_KEY_CACHE, {})
    return cache.get(owner_id)
