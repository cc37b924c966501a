"""Queries behind subject-access exports and erasure."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, or_, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import (
    CandidateLink,
    Disclosure,
    ErasureTombstone,
    PersonKey,
)
from service.persons.repository import shred


async def links_of(session: AsyncSession, person_id: uuid.UUID) -> Sequence[CandidateLink]:
    """Every candidate link involving the person, oldest first."""
    statement = (
        select(CandidateLink)
        .where(
            or_(
                col(CandidateLink.left_person_id) == person_id,
                col(CandidateLink.right_person_id) == person_id,
            )
        )
        .order_by(col(CandidateLink.created_at))
    )
    return (await session.exec(statement)).all()


async def disclosures_of(session: AsyncSession, person_id: uuid.UUID) -> Sequence[Disclosure]:
    """The disclosures the person takes part in (located, sought or enquirer)."""
    statement = (
        select(Disclosure)
        .where(
            or_(
                col(Disclosure.found_person_id) == person_id,
                col(Disclosure.sought_person_id) == person_id,
                col(Disclosure.enquirer_id) == person_id,
            )
        )
        .order_by(col(Disclosure.created_at))
    )
    return (await session.exec(statement)).all()


async def key_count(session: AsyncSession, person_id: uuid.UUID) -> int:
    """How many blocking keys are derived from the person."""
    statement = select(func.count()).select_from(PersonKey).where(PersonKey.person_id == person_id)
    return int((await session.exec(statement)).one())


async def erase(
    session: AsyncSession, society_id: uuid.UUID, person_id: uuid.UUID, reason: str, by: str
) -> ErasureTombstone:
    """Remove the person and everything derived from them; leave a tombstone and a notice.

    Deleting the person cascades to their names, blocking keys, match jobs, candidate links
    (with their decisions and disclosures), consents, relationships and approvals. Stored
    idempotent responses that carry the person's id are deleted too (they hold the person's
    view). The person's data key is deleted too, so copies of their ciphertext elsewhere (a
    backup without the key table) cannot be read. The audit trail keeps ids only.
    """
    await session.exec(  # type: ignore[call-overload]
        text(
            "DELETE FROM idempotency_record WHERE society_id = :s "
            "AND CAST(:p AS uuid) = ANY(person_ids)"
        ).bindparams(s=society_id, p=str(person_id))
    )
    await session.exec(  # type: ignore[call-overload]
        text("DELETE FROM person WHERE id = :p AND society_id = :s").bindparams(
            p=person_id, s=society_id
        )
    )
    await shred(session, person_id)
    tombstone = ErasureTombstone(
        society_id=society_id, person_id=person_id, reason=reason, erased_by=by
    )
    session.add(tombstone)
    await session.flush()
    await session.refresh(tombstone)
    return tombstone
