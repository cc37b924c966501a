"""Queries on stored idempotent responses."""

from __future__ import annotations

import datetime
import uuid

from sqlalchemy import delete, func, text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import IdempotencyRecord


async def try_lock(session: AsyncSession, scope: str) -> bool:
    """Take the transaction-scoped advisory lock of one (caller, key); False if a twin has it."""
    result = await session.exec(  # type: ignore[call-overload]
        text("SELECT pg_try_advisory_xact_lock(hashtextextended(:scope, 0))"),
        params={"scope": scope},
    )
    return bool(result.scalar_one())


async def find(
    session: AsyncSession, society_id: uuid.UUID, principal: str, key: str
) -> IdempotencyRecord | None:
    """The unexpired stored response for this caller and key."""
    statement = select(IdempotencyRecord).where(
        IdempotencyRecord.society_id == society_id,
        IdempotencyRecord.principal == principal,
        IdempotencyRecord.key == key,
        IdempotencyRecord.expires_at > func.now(),
    )
    return (await session.exec(statement)).first()


async def delete_expired(
    session: AsyncSession, society_id: uuid.UUID, principal: str, key: str
) -> None:
    """Forget an expired record so that its key can be used afresh."""
    await session.exec(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.society_id == society_id,  # type: ignore[arg-type]
            IdempotencyRecord.principal == principal,  # type: ignore[arg-type]
            IdempotencyRecord.key == key,  # type: ignore[arg-type]
            IdempotencyRecord.expires_at <= func.now(),
        )
    )


async def insert(
    session: AsyncSession,
    *,
    society_id: uuid.UUID,
    principal: str,
    key: str,
    fingerprint: str,
    status: int,
    body: str,
    headers: dict[str, str],
    ttl: datetime.timedelta,
    person_ids: list[uuid.UUID],
) -> None:
    """Store the response (sealed by the caller) in the same transaction as the work it
    describes, with the persons it shows (an erasure deletes it)."""
    session.add(
        IdempotencyRecord(
            society_id=society_id,
            principal=principal,
            key=key,
            request_fingerprint=fingerprint,
            response_status=status,
            response_body=body,
            response_headers=headers,
            person_ids=person_ids,
            expires_at=datetime.datetime.now(datetime.UTC) + ttl,
        )
    )
    await session.flush()


async def purge_expired(session: AsyncSession) -> int:
    """Delete every expired record (run at start-up; expired keys are never replayed anyway)."""
    result = await session.exec(
        delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= func.now())
    )
    return int(result.rowcount or 0)
