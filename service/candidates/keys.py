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
from collections.abc import Callable, Iterable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlmodel.ext.asyncio.session import AsyncSession

from matching import SEED_KINDS, PersonRecord, PreparedRecord, blocking_keys, lookup_plan
from service.persons import crypto

DIGEST_BYTES = 16  # 128 bits: no accidental collision in any archive
SESSION_KEY = "kintrace.blocking_secret"
SESSION_DERIVER = "kintrace.blocking_secret_deriver"


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


def lookup_digests(
    secret: bytes, record: PersonRecord | PreparedRecord
) -> list[tuple[bytes, int, bool]]:
    """The digests a probe looks up, its own keys and their neighbours, each with the piece of
    the probe's evidence it stands for (`lookup_plan`), which ranks the candidates, and whether
    it alone makes a candidate (`SEED_KINDS`). A record the matcher has prepared is not
    analysed again."""
    return sorted(
        {
            (digest(secret, key), slot, key[0] in SEED_KINDS)
            for key, slot in lookup_plan(record).items()
        }
    )


def attach(
    session: AsyncSession,
    secret: bytes,
    derive: Callable[[uuid.UUID], bytes] | None = None,
) -> AsyncSession:
    """Give a society-confined session its society's HMAC key, and the means to derive the
    key of a society that shares records with it (see `secret_for`)."""
    session.info[SESSION_KEY] = secret
    if derive is not None:
        session.info[SESSION_DERIVER] = derive
    return session


def secret_for(session: AsyncSession, society_id: uuid.UUID) -> bytes:
    """The HMAC key of a society's blocking keys: the session's own, or, to probe the records
    another society shares with it, that society's once the sharing repository has admitted
    it (a grant in force was found; row-level security still decides which keys are read)."""
    if society_id == crypto.society_of(session):
        return secret_of(session)
    if crypto.wrapping_key_for(session, society_id) is None:
        raise RuntimeError(f"society {society_id} shares nothing with this session")
    derive: Callable[[uuid.UUID], bytes] = session.info[SESSION_DERIVER]
    return derive(society_id)


def secret_of(session: AsyncSession) -> bytes:
    """The HMAC key a society-confined session carries."""
    try:
        secret: bytes = session.info[SESSION_KEY]
    except KeyError:
        raise RuntimeError(
            "this session carries no blocking-key secret; open it with Runtime.tenant_session"
        ) from None
    return secret


# Who asks, whose keys, for which roles, at which cap: a key's postings count depends on all four
# (row security shows a recipient only the persons shared with it).
CommonScope = tuple[uuid.UUID, uuid.UUID, tuple[str, ...], int]


class CommonKeys:
    """Keys this process found shared by more persons than the cap, remembered for a while.

    A lookup reads up to cap + 1 postings of every key of the probe only to learn that a common
    key (a birth year, a frequent name's phonetic code) is too common to rank anyone. At a million
    persons that was the larger part of what a lookup read (a median of 7 such keys, 7,000 of its
    12,000 postings), and it is the same few thousand keys again and again: remembered, later
    probes leave them out and find the same candidates. A key stays common as an archive grows;
    one whose persons were closed or erased is read again once its memory expires (`ttl`).
    """

    def __init__(self, ttl: float = 3600.0, limit: int = 500_000) -> None:
        self.ttl = ttl
        self.limit = limit
        self._until: dict[tuple[CommonScope, bytes], float] = {}

    def known(self, scope: CommonScope, digests: Iterable[bytes], now: float) -> set[bytes]:
        """Which of these digests are remembered as common in this scope (and not expired)."""
        return {d for d in digests if self._until.get((scope, d), 0.0) > now}

    def remember(self, scope: CommonScope, digests: Iterable[bytes], now: float) -> None:
        """Remember digests a lookup found over the cap (the oldest are forgotten first when
        the memory is full)."""
        for digest in digests:
            self._until.pop((scope, digest), None)
            self._until[(scope, digest)] = now + self.ttl
        while len(self._until) > self.limit:
            del self._until[next(iter(self._until))]
