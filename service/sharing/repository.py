"""Queries on sharing grants and the transfers ledger, and the switch that lets a session read
records other societies share with it.

Row-level security decides what is visible: a grant is visible to the sharing and the receiving
society; another society's persons, names and data keys are visible only inside a transaction
that turned shared reading on, and then only those an active grant covers (and never a
sensitive, stopped or archived person).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from service.db.models import Person, SharingGrant, Transfer
from service.db.paging import keyset_page
from service.http import Cursor
from service.persons import crypto


async def insert_grant(session: AsyncSession, grant: SharingGrant) -> SharingGrant:
    """Store a grant (the database sets its id and time)."""
    session.add(grant)
    await session.flush()
    await session.refresh(grant)
    return grant


async def get_grant(session: AsyncSession, grant_id: uuid.UUID) -> SharingGrant | None:
    """A grant the session's society gave or received."""
    return await session.get(SharingGrant, grant_id)


async def lock_grant(session: AsyncSession, grant_id: uuid.UUID) -> SharingGrant | None:
    """A grant the session's society gave, locked until commit."""
    statement = select(SharingGrant).where(SharingGrant.id == grant_id).with_for_update()
    return (await session.exec(statement)).first()


async def revoke_grant(
    session: AsyncSession, grant: SharingGrant, by: str, reason: str
) -> SharingGrant:
    """Revoke a grant (a new version); its recipients are told by the outbox."""
    await session.exec(
        update(SharingGrant)
        .where(col(SharingGrant.id) == grant.id)
        .values(
            revoked_at=func.now(),
            revoked_by=by,
            revocation_reason=reason,
            version=SharingGrant.version + 1,
        )
    )
    await session.refresh(grant)
    return grant


async def grants_page(
    session: AsyncSession,
    society_id: uuid.UUID,
    direction: str | None,
    after: Cursor | None,
    limit: int,
) -> list[SharingGrant]:
    """A page of the grants a society gave (`given`), received (`received`) or both, oldest
    first, plus one to tell whether more follow."""
    statement = select(SharingGrant)
    if direction == "given":
        statement = statement.where(SharingGrant.society_id == society_id)
    elif direction == "received":
        statement = statement.where(SharingGrant.recipient_society_id == society_id)
    statement = keyset_page(
        statement, col(SharingGrant.created_at), col(SharingGrant.id), after, limit
    )
    return list(await session.exec(statement))


def _in_force(statement: SelectOfScalar[SharingGrant]) -> SelectOfScalar[SharingGrant]:
    """Only grants neither revoked nor lapsed, oldest first."""
    return statement.where(
        col(SharingGrant.revoked_at).is_(None), col(SharingGrant.valid_until) > func.now()
    ).order_by(col(SharingGrant.created_at))


async def active_grants_to(
    session: AsyncSession, recipient_id: uuid.UUID, owner_id: uuid.UUID | None = None
) -> list[SharingGrant]:
    """The grants in force that other societies gave the recipient (of one owner, if given)."""
    statement = select(SharingGrant).where(SharingGrant.recipient_society_id == recipient_id)
    if owner_id is not None:
        statement = statement.where(SharingGrant.society_id == owner_id)
    return list(await session.exec(_in_force(statement)))


async def active_grants_from(session: AsyncSession, owner_id: uuid.UUID) -> list[SharingGrant]:
    """The grants in force the society gave other societies."""
    statement = select(SharingGrant).where(SharingGrant.society_id == owner_id)
    return list(await session.exec(_in_force(statement)))


async def read_granted(
    session: AsyncSession, recipient_id: uuid.UUID, owner_id: uuid.UUID | None = None
) -> list[SharingGrant]:
    """The grants in force to the recipient (of one owner, if given), with shared reading
    turned on for their owners when there is any."""
    grants = await active_grants_to(session, recipient_id, owner_id)
    if grants:
        await read_shared(session, sorted({grant.society_id for grant in grants}))
    return grants


async def read_shared(session: AsyncSession, owners: Sequence[uuid.UUID]) -> None:
    """Turn shared reading on for the rest of the transaction, and admit the owners' keys so
    their shared records can be decrypted."""
    await session.exec(  # type: ignore[call-overload]
        text("SELECT set_config('kintrace.shared_read', 'on', true)")
    )
    for owner in owners:
        crypto.admit_society(session, owner)


async def shared_persons(
    session: AsyncSession,
    own_society: uuid.UUID,
    owner: uuid.UUID | None,
    after: Cursor | None,
    limit: int,
) -> list[Person]:
    """A page of other societies' persons visible to the session (shared reading on): row-level
    security admits only those a grant covers. Oldest first, plus one."""
    statement = select(Person).where(col(Person.society_id) != own_society)
    if owner is not None:
        statement = statement.where(Person.society_id == owner)
    statement = keyset_page(statement, col(Person.created_at), col(Person.id), after, limit)
    return list(await session.exec(statement))


async def shared_person(
    session: AsyncSession, own_society: uuid.UUID, person_id: uuid.UUID
) -> Person | None:
    """Another society's person, if visible to the session (shared reading on)."""
    statement = select(Person).where(Person.id == person_id, col(Person.society_id) != own_society)
    return (await session.exec(statement)).first()


async def log_transfers(session: AsyncSession, transfers: Sequence[dict[str, Any]]) -> None:
    """Append entries to the ledger (one per record sent)."""
    if transfers:
        session.add_all([Transfer(**values) for values in transfers])
        await session.flush()


async def transfers_page(
    session: AsyncSession,
    society_id: uuid.UUID,
    direction: str | None,
    since: datetime.datetime | None,
    after: Cursor | None,
    limit: int,
) -> list[Transfer]:
    """A page of the ledger as a society sees it: what it sent (`sent`), received
    (`received`) or both, oldest first, plus one."""
    statement = select(Transfer)
    if direction == "sent":
        statement = statement.where(Transfer.society_id == society_id)
    elif direction == "received":
        statement = statement.where(Transfer.recipient_society_id == society_id)
    if since is not None:
        statement = statement.where(col(Transfer.sent_at) >= since)
    statement = keyset_page(statement, col(Transfer.sent_at), col(Transfer.id), after, limit)
    return list(await session.exec(statement))


async def recipients_of(
    session: AsyncSession, record_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Per record, the societies it was ever sent to (they must hear of its withdrawal or
    erasure); one query for all."""
    if not record_ids:
        return {}
    statement = (
        select(Transfer.record_id, Transfer.recipient_society_id)
        .where(col(Transfer.record_id).in_(set(record_ids)))
        .distinct()
    )
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    for record_id, recipient in await session.exec(statement):
        found.setdefault(record_id, []).append(recipient)
    return found
