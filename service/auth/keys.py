"""The built-in issuer's signing keys: creation, rotation, publication and an in-memory keyring.

Keys live in PostgreSQL so that every API process signs and verifies with the same set; private
keys are stored as PKCS#8 encrypted with the service's secret key. The newest unretired key
signs. A rotated-out key stays published (and accepted) for `key_overlap_seconds`, longer than
any access token it signed can live, so rotation never logs anybody out.
"""

from __future__ import annotations

import base64
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from sqlmodel.ext.asyncio.session import AsyncSession

from service.auth import repository
from service.auth.jwt import VerificationKey, generate_signing_key
from service.db.engine import SessionFactory, auth_session
from service.settings import Settings

REFRESH_AFTER_SECONDS = 60.0
UNKNOWN_KID_REFRESH_SECONDS = 5.0
SECRET_FILE = "secret.key"


def service_secret(settings: Settings) -> bytes:
    """The secret that encrypts private keys: the setting, or a random one kept on disk.

    The file is created once with mode 0600 next to the embedded database, so a development
    install needs no configuration; production sets `KINTRACE_SECRET_KEY`.
    """
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = Path(settings.data_dir) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as handle:
        value = base64.urlsafe_b64encode(secrets.token_bytes(32))
        handle.write(value)
    return value


def seal_private_key(private_pem: bytes, secret: bytes) -> str:
    """PKCS#8 PEM encrypted under `secret` (what the database stores)."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(secret),
    ).decode()


def open_private_key(sealed: str, secret: bytes) -> bytes:
    """The unencrypted PKCS#8 PEM of a stored key (kept in memory only)."""
    key = serialization.load_pem_private_key(sealed.encode(), password=secret)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass(frozen=True, slots=True)
class SigningMaterial:
    """The key new tokens are signed with."""

    kid: str
    alg: str
    private_pem: bytes


@dataclass(slots=True)
class Keyring:
    """Published keys (by `kid`) and the current signing key, as loaded at `loaded_at`."""

    signing: SigningMaterial | None = None
    published: dict[str, VerificationKey] = field(default_factory=dict)
    loaded_at: float = float("-inf")

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set: public members, `kid`, `alg` and `use` only."""
        return {"keys": [dict(key.public_jwk) for key in self.published.values()]}


def _public_jwk(jwk: dict[str, Any], kid: str, alg: str) -> dict[str, Any]:
    public: dict[str, Any] = {
        name: jwk[name] for name in ("kty", "crv", "x", "y", "n", "e") if name in jwk
    }
    return {**public, "kid": kid, "alg": alg, "use": "sig"}


async def create_key(session: AsyncSession, settings: Settings, secret: bytes) -> str:
    """Make a new signing key the current one and return its `kid`."""
    private_pem, jwk = generate_signing_key(settings.signing_alg)
    kid = str(jwk["kid"])
    await repository.insert_signing_key(
        session,
        kid=kid,
        alg=settings.signing_alg,
        private_key=seal_private_key(private_pem, secret),
        public_jwk=_public_jwk(jwk, kid, settings.signing_alg),
    )
    return kid


async def ensure_signing_key(sessions: SessionFactory, settings: Settings, secret: bytes) -> None:
    """Create the first signing key if there is none (one process wins; the others wait)."""
    async with auth_session(sessions) as session:
        await repository.lock_signing_keys(session)
        if await repository.current_signing_key(session) is None:
            await create_key(session, settings, secret)
        await session.commit()


async def rotate(sessions: SessionFactory, settings: Settings, secret: bytes) -> str:
    """Retire the current key (it stays published for the overlap window) and make a new one."""
    async with auth_session(sessions) as session:
        await repository.lock_signing_keys(session)
        await repository.retire_signing_keys(session)
        kid = await create_key(session, settings, secret)
        await session.commit()
    return kid


class KeyStore:
    """The process's view of the signing keys, reloaded every minute or on an unknown `kid`."""

    def __init__(self, sessions: SessionFactory, settings: Settings, secret: bytes) -> None:
        self._sessions = sessions
        self._settings = settings
        self._secret = secret
        self._keyring = Keyring()
        self._last_forced = float("-inf")

    async def keyring(self) -> Keyring:
        """The keyring, reloaded when older than a minute."""
        if time.monotonic() - self._keyring.loaded_at > REFRESH_AFTER_SECONDS:
            await self.reload()
        return self._keyring

    async def knows(self, kid: str) -> bool:
        """Whether `kid` is published, reloading at most every few seconds for a new one.

        The throttle keeps a flood of tokens with random `kid`s from becoming a flood of
        queries.
        """
        if kid in (await self.keyring()).published:
            return True
        now = time.monotonic()
        if now - self._last_forced < UNKNOWN_KID_REFRESH_SECONDS:
            return False
        self._last_forced = now
        await self.reload()
        return kid in self._keyring.published

    async def reload(self) -> None:
        """Read the published keys and the signing key from the database."""
        async with auth_session(self._sessions) as session:
            rows = await repository.published_signing_keys(
                session, self._settings.key_overlap_seconds
            )
        published = {
            row.kid: VerificationKey(kid=row.kid, alg=row.alg, public_jwk=row.public_jwk)
            for row in rows
        }
        current = next((row for row in rows if row.retired_at is None), None)
        signing = None
        if current is not None:
            pem = open_private_key(current.private_key, self._secret)
            signing = SigningMaterial(current.kid, current.alg, pem)
        self._keyring = Keyring(signing, published, time.monotonic())
