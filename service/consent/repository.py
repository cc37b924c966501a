"""Queries on consent records and partner notices."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import ConsentRecord, PartnerNotice


async def add_consent(session: AsyncSession, consent: ConsentRecord) -> ConsentRecord:
    """Store a consent (the database sets its id and time of recording)."""
    session.add(consent)
    await session.flush()
    await session.refresh(consent)
    return consent


async def consents_of(session: AsyncSession, person_id: uuid.UUID) -> Sequence[ConsentRecord]:
    """The person's consents, oldest first."""
    rows = await session.exec(
        select(ConsentRecord)
        .where(ConsentRecord.person_id == person_id)
        .order_by(col(ConsentRecord.recorded_at), col(ConsentRecord.id))
    )
    return rows.all()


async def find_consent(
    session: AsyncSession, person_id: uuid.UUID, consent_id: uuid.UUID
) -> ConsentRecord | None:
    """One of the person's consents."""
    statement = select(ConsentRecord).where(
        ConsentRecord.id == consent_id, ConsentRecord.person_id == person_id
    )
    return (await session.exec(statement)).first()


async def lock_consent(
    session: AsyncSession, person_id: uuid.UUID, consent_id: uuid.UUID
) -> ConsentRecord | None:
    """One of the person's consents, locked until commit (a withdrawal happens once)."""
    statement = (
        select(ConsentRecord)
        .where(ConsentRecord.id == consent_id, ConsentRecord.person_id == person_id)
        .with_for_update()
    )
    return (await session.exec(statement)).first()


async def mark_withdrawn(
    session: AsyncSession, consent: ConsentRecord, by: str, reason: str | None
) -> None:
    """Record the withdrawal of a locked consent."""
    await session.exec(
        update(ConsentRecord)
        .where(col(ConsentRecord.id) == consent.id)
        .values(withdrawn_at=func.clock_timestamp(), withdrawn_by=by, withdrawal_reason=reason)
    )
    await session.refresh(consent)


async def add_notice(
    session: AsyncSession, society_id: uuid.UUID, person_id: uuid.UUID, kind: str, scope: str | None
) -> None:
    """Leave a notice for every partner that received the person's data."""
    session.add(PartnerNotice(society_id=society_id, person_id=person_id, kind=kind, scope=scope))
    await session.flush()


async def notices_of(session: AsyncSession, person_id: uuid.UUID) -> Sequence[PartnerNotice]:
    """The notices left about a person, oldest first."""
    rows = await session.exec(
        select(PartnerNotice)
        .where(PartnerNotice.person_id == person_id)
        .order_by(col(PartnerNotice.created_at))
    )
    return rows.all()
