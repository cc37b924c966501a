"""Queries on consent records and partner notices.

A consent's guardian name, note and withdrawal reason are encrypted under the person's data
key; the records handed out are decrypted copies, never the session's own rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import ConsentRecord, PartnerNotice
from service.db.rows import detached
from service.persons.repository import ciphers

SEALED = ("giver_name", "note", "withdrawal_reason")


async def _opened(session: AsyncSession, rows: Sequence[ConsentRecord]) -> list[ConsentRecord]:
    by_person = await ciphers(session, [row.person_id for row in rows])
    opened = []
    for row in rows:
        cipher = by_person[row.person_id]
        clear: dict[str, object] = {f: cipher.open(f"consent.{f}", getattr(row, f)) for f in SEALED}
        opened.append(detached(row, clear))
    return opened


async def add_consent(session: AsyncSession, consent: ConsentRecord) -> ConsentRecord:
    """Store a consent (the database sets its id and time of recording)."""
    cipher = (await ciphers(session, [consent.person_id]))[consent.person_id]
    for field in SEALED:
        setattr(consent, field, cipher.seal(f"consent.{field}", getattr(consent, field)))
    session.add(consent)
    await session.flush()
    await session.refresh(consent)
    return (await _opened(session, [consent]))[0]


async def consents_of(session: AsyncSession, person_id: uuid.UUID) -> Sequence[ConsentRecord]:
    """The person's consents, oldest first."""
    rows = await session.exec(
        select(ConsentRecord)
        .where(ConsentRecord.person_id == person_id)
        .order_by(col(ConsentRecord.recorded_at), col(ConsentRecord.id))
    )
    return await _opened(session, rows.all())


async def find_consent(
    session: AsyncSession, person_id: uuid.UUID, consent_id: uuid.UUID
) -> ConsentRecord | None:
    """One of the person's consents."""
    statement = select(ConsentRecord).where(
        ConsentRecord.id == consent_id, ConsentRecord.person_id == person_id
    )
    row = (await session.exec(statement)).first()
    return None if row is None else (await _opened(session, [row]))[0]


async def lock_consent(
    session: AsyncSession, person_id: uuid.UUID, consent_id: uuid.UUID
) -> ConsentRecord | None:
    """One of the person's consents, locked until commit (a withdrawal happens once)."""
    statement = (
        select(ConsentRecord)
        .where(ConsentRecord.id == consent_id, ConsentRecord.person_id == person_id)
        .with_for_update()
    )
    row = (await session.exec(statement)).first()
    return None if row is None else (await _opened(session, [row]))[0]


async def mark_withdrawn(
    session: AsyncSession, consent: ConsentRecord, by: str, reason: str | None
) -> ConsentRecord:
    """Record the withdrawal of a locked consent; the consent as it now stands."""
    cipher = (await ciphers(session, [consent.person_id]))[consent.person_id]
    withdrawn = await session.exec(
        update(ConsentRecord)
        .where(col(ConsentRecord.id) == consent.id)
        .values(
            withdrawn_at=func.clock_timestamp(),
            withdrawn_by=by,
            withdrawal_reason=cipher.seal("consent.withdrawal_reason", reason),
        )
        .returning(col(ConsentRecord.withdrawn_at))
    )
    changes = {"withdrawn_at": withdrawn.one()[0], "withdrawn_by": by, "withdrawal_reason": reason}
    return detached(consent, changes)


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
