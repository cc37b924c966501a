"""Queries on the identity tables (users, clients, refresh tokens, assertion ids, keys).

Run under the `kintrace_auth` role, which can read and write these and nothing of the tenants'.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import ApiClient, AppUser, ClientAssertionUse, RefreshToken, SigningKey

_SIGNING_KEYS_LOCK = 0x6B696E7472616365  # "kintrace": one advisory lock for key creation


async def user_by_username(session: AsyncSession, username: str) -> AppUser | None:
    """The account with this username (usernames are stored lower-case)."""
    statement = select(AppUser).where(AppUser.username == username.lower())
    return (await session.exec(statement)).first()


async def user_by_id(session: AsyncSession, user_id: uuid.UUID) -> AppUser | None:
    """The account with this id."""
    return await session.get(AppUser, user_id)


async def lock_user(session: AsyncSession, user_id: uuid.UUID) -> AppUser | None:
    """The account, locked for the rest of the transaction (login bookkeeping)."""
    statement = select(AppUser).where(AppUser.id == user_id).with_for_update()
    return (await session.exec(statement)).first()


async def insert_user(session: AsyncSession, user: AppUser) -> AppUser:
    """Store a new account."""
    session.add(user)
    await session.flush()
    return user


async def record_failed_login(
    session: AsyncSession, user_id: uuid.UUID, *, threshold: int, lockout: datetime.timedelta
) -> None:
    """Count a failure; lock the account once `threshold` failures follow each other."""
    await session.exec(  # type: ignore[call-overload]
        text(
            # Failures during a lock neither extend it nor count; after it the count restarts.
            "UPDATE app_user SET "
            "failed_logins = CASE WHEN locked_until > now() THEN failed_logins "
            "  WHEN locked_until IS NOT NULL THEN 1 ELSE failed_logins + 1 END, "
            "locked_until = CASE WHEN locked_until > now() THEN locked_until "
            "  WHEN (CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_logins + 1 END) "
            "    >= :threshold THEN now() + :lockout END "
            "WHERE id = :user_id"
        ).bindparams(threshold=threshold, lockout=lockout, user_id=user_id)
    )


async def record_successful_login(
    session: AsyncSession, user_id: uuid.UUID, totp_step: int | None
) -> None:
    """Reset the failure count (and remember the TOTP step used, so it cannot be replayed)."""
    values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
    if totp_step is not None:
        values["totp_last_step"] = totp_step
    await session.exec(update(AppUser).where(col(AppUser.id) == user_id).values(**values))


async def disable_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Disable the account and revoke every refresh token it holds, at once."""
    await session.exec(
        update(AppUser)
        .where(col(AppUser.id) == user_id, col(AppUser.disabled_at).is_(None))
        .values(disabled_at=func.now())
    )
    await revoke_user_refresh_tokens(session, user_id)


async def client_by_client_id(session: AsyncSession, client_id: str) -> ApiClient | None:
    """The partner client with this `client_id`."""
    statement = select(ApiClient).where(ApiClient.client_id == client_id)
    return (await session.exec(statement)).first()


async def insert_client(session: AsyncSession, client: ApiClient) -> ApiClient:
    """Register a partner client."""
    session.add(client)
    await session.flush()
    return client


async def use_assertion_id(
    session: AsyncSession, client_id: str, jti: str, expires_at: datetime.datetime
) -> bool:
    """Record a client assertion's `jti`; False when it was seen before (a replay)."""
    statement = (
        insert(ClientAssertionUse)
        .values(client_id=client_id, jti=jti, expires_at=expires_at)
        .on_conflict_do_nothing()
        .returning(col(ClientAssertionUse.jti))
    )
    result = await session.exec(statement)
    return result.first() is not None


async def purge_assertion_ids(session: AsyncSession) -> int:
    """Forget assertion ids whose assertions have expired (they can no longer be replayed)."""
    result = await session.exec(  # type: ignore[call-overload]
        text("DELETE FROM client_assertion_use WHERE expires_at < now()")
    )
    return int(result.rowcount or 0)


async def insert_refresh_token(
    session: AsyncSession,
    *,
    family_id: uuid.UUID,
    user_id: uuid.UUID,
    digest: str,
    expires_at: datetime.datetime,
) -> None:
    """Store a refresh token's digest."""
    session.add(
        RefreshToken(
            family_id=family_id, user_id=user_id, token_digest=digest, expires_at=expires_at
        )
    )
    await session.flush()


async def lock_refresh_token(session: AsyncSession, digest: str) -> RefreshToken | None:
    """The refresh token with this digest, locked (two concurrent uses cannot both win)."""
    statement = select(RefreshToken).where(RefreshToken.token_digest == digest).with_for_update()
    return (await session.exec(statement)).first()


async def mark_refresh_token_used(session: AsyncSession, token_id: uuid.UUID) -> None:
    """A rotated token is spent."""
    await session.exec(
        update(RefreshToken).where(col(RefreshToken.id) == token_id).values(used_at=func.now())
    )


async def revoke_refresh_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    """Revoke every token descended from one login (after a reuse was detected)."""
    await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=func.now())
    )


async def lock_signing_keys(session: AsyncSession) -> None:
    """Serialise key creation and rotation across processes (transaction-scoped)."""
    await session.exec(  # type: ignore[call-overload]
        text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=_SIGNING_KEYS_LOCK)
    )


async def current_signing_key(session: AsyncSession) -> SigningKey | None:
    """The newest key not retired."""
    statement = (
        select(SigningKey)
        .where(col(SigningKey.retired_at).is_(None))
        .order_by(col(SigningKey.created_at).desc())
    )
    return (await session.exec(statement)).first()


async def insert_signing_key(
    session: AsyncSession, *, kid: str, alg: str, private_key: str, public_jwk: dict[str, Any]
) -> None:
    """Store a new signing key."""
    session.add(SigningKey(kid=kid, alg=alg, private_key=private_key, public_jwk=public_jwk))
    await session.flush()


async def retire_signing_keys(session: AsyncSession) -> None:
    """Stop signing with the current key(s); they remain published for the overlap window."""
    await session.exec(
        update(SigningKey).where(col(SigningKey.retired_at).is_(None)).values(retired_at=func.now())
    )


async def published_signing_keys(
    session: AsyncSession, overlap_seconds: int
) -> Sequence[SigningKey]:
    """Keys still accepted: the current ones and those retired within the overlap window."""
    cutoff = text("now() - make_interval(secs => :overlap)").bindparams(overlap=overlap_seconds)
    statement = (
        select(SigningKey)
        .where((col(SigningKey.retired_at).is_(None)) | (col(SigningKey.retired_at) > cutoff))
        .order_by(col(SigningKey.created_at).desc())
    )
    return (await session.exec(statement)).all()


async def set_password(session: AsyncSession, user_id: uuid.UUID, password_hash: str) -> None:
    """Store a new password hash, clear the failure count and any lock, and end every session
    (refresh tokens revoked: whoever knew the old password is signed out)."""
    await session.exec(
        update(AppUser)
        .where(col(AppUser.id) == user_id)
        .values(password_hash=password_hash, failed_logins=0, locked_until=None)
    )
    await revoke_user_refresh_tokens(session, user_id)


async def revoke_user_refresh_tokens(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Revoke every refresh token of an account."""
    await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=func.now())
    )


async def set_client_jwks(session: AsyncSession, client_id: str, jwks: dict[str, Any]) -> bool:
    """Replace a partner client's public keys (assertions are checked against them at once)."""
    result = await session.exec(
        update(ApiClient).where(col(ApiClient.client_id) == client_id).values(jwks=jwks)
    )
    return bool(result.rowcount)


async def disable_client(session: AsyncSession, client_id: str) -> bool:
    """Disable a partner client (its access tokens are refused from the next request)."""
    result = await session.exec(
        update(ApiClient)
        .where(col(ApiClient.client_id) == client_id, col(ApiClient.disabled_at).is_(None))
        .values(disabled_at=func.now())
    )
    return bool(result.rowcount)
