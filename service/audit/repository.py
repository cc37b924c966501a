"""Queries on the audit trail: appending events, sealing them, reading and verifying the chain.

All of them run in a session confined to one society (row-level security applies).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import any_, literal, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit.chain import ChainedEvent
from service.db.models import AuditEvent, AuditSeal, AuditUnsealed

_SEALER_LOCK_NAMESPACE = 0x61756469  # "audi": per-society sealer lock, taken by sealers only


async def append(session: AsyncSession, event: AuditEvent) -> None:
    """Add an event to the trail (in the caller's transaction: it commits or fails with it)."""
    session.add(event)
    await session.flush()


async def page(
    session: AsyncSession,
    *,
    after: int | None,
    limit: int,
    record_id: uuid.UUID | None,
    actor: str | None,
    action: str | None,
) -> Sequence[AuditEvent]:
    """Events in order of recording after position `after` (limit + 1 rows)."""
    statement = select(AuditEvent).order_by(col(AuditEvent.position)).limit(limit + 1)
    if after is not None:
        statement = statement.where(col(AuditEvent.position) > after)
    if record_id is not None:
        statement = statement.where(literal(record_id) == any_(col(AuditEvent.record_ids)))
    if actor is not None:
        statement = statement.where(AuditEvent.actor == actor)
    if action is not None:
        statement = statement.where(AuditEvent.action == action)
    return (await session.exec(statement)).all()


async def lock_chain(session: AsyncSession, society_id: uuid.UUID) -> None:
    """Serialise the sealers of one society (requests never take this lock)."""
    await session.exec(  # type: ignore[call-overload]
        text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:society))").bindparams(
            namespace=_SEALER_LOCK_NAMESPACE, society=str(society_id)
        )
    )


async def chain_head(session: AsyncSession) -> AuditSeal | None:
    """The newest seal of the society."""
    statement = select(AuditSeal).order_by(col(AuditSeal.chain_index).desc()).limit(1)
    return (await session.exec(statement)).first()


async def unsealed(session: AsyncSession, limit: int) -> Sequence[AuditEvent]:
    """Committed events not yet chained, in order of recording."""
    statement = (
        select(AuditEvent)
        .join(AuditUnsealed, col(AuditUnsealed.event_id) == col(AuditEvent.id))
        .order_by(col(AuditUnsealed.position))
        .limit(limit)
    )
    return (await session.exec(statement)).all()


async def insert_seals(session: AsyncSession, seals: list[AuditSeal]) -> None:
    """Append chain links and take their events off the queue."""
    session.add_all(seals)
    await session.flush()
    await session.exec(  # type: ignore[call-overload]
        text("DELETE FROM audit_unsealed WHERE event_id = ANY(:ids)").bindparams(
            ids=[seal.event_id for seal in seals]
        )
    )


@dataclass(frozen=True, slots=True)
class SealedRow:
    """A chain link with its event as it is now (None when the event row is gone)."""

    seal: AuditSeal
    event: AuditEvent | None


async def chain_slice(session: AsyncSession, after_index: int, limit: int) -> list[SealedRow]:
    """Chain links after `after_index` with their events, in chain order."""
    statement = (
        select(AuditSeal, AuditEvent)
        .join(AuditEvent, col(AuditEvent.id) == col(AuditSeal.event_id), isouter=True)
        .where(col(AuditSeal.chain_index) > after_index)
        .order_by(col(AuditSeal.chain_index))
        .limit(limit)
    )
    return [SealedRow(seal, event) for seal, event in (await session.exec(statement)).all()]


async def unchained_count(session: AsyncSession) -> tuple[int, int]:
    """Events without a seal: (all of them, those also missing from the sealer's queue)."""
    result = await session.exec(  # type: ignore[call-overload]
        text(
            "SELECT count(*), count(*) FILTER (WHERE u.event_id IS NULL) FROM audit_event e "
            "LEFT JOIN audit_seal s ON s.event_id = e.id "
            "LEFT JOIN audit_unsealed u ON u.event_id = e.id WHERE s.event_id IS NULL"
        )
    )
    total, orphaned = result.one()
    return int(total), int(orphaned)


def chained(event: AuditEvent) -> ChainedEvent:
    """The chain's view of a stored event."""
    return ChainedEvent(
        id=event.id,
        society_id=event.society_id,
        position=event.position,
        occurred_at=event.occurred_at,
        actor=event.actor,
        actor_roles=tuple(event.actor_roles),
        action=event.action,
        record_type=event.record_type,
        record_ids=tuple(event.record_ids),
        purpose=event.purpose,
        request_id=event.request_id,
    )
