"""Queries on disclosures and their release log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import Disclosure, DisclosureRelease
from service.db.paging import keyset_page
from service.http import Cursor
from service.persons.repository import ciphers

VERIFICATION_NOTE = "disclosure.verification_note"

# States in which a disclosure can still move towards a release.
OPEN = ("pending", "requested", "no_answer", "awaiting_approval")


async def open_disclosure(session: AsyncSession, values: dict[str, Any]) -> None:
    """Start the disclosure of a confirmed link (once per link)."""
    statement = insert(Disclosure).values(**values)
    await session.exec(statement.on_conflict_do_nothing(index_elements=["link_id"]))


async def get(session: AsyncSession, disclosure_id: uuid.UUID) -> Disclosure | None:
    """A disclosure of the session's society."""
    return await session.get(Disclosure, disclosure_id)


async def lock(session: AsyncSession, disclosure_id: uuid.UUID) -> Disclosure | None:
    """A disclosure, locked until commit (its state moves one step at a time)."""
    statement = select(Disclosure).where(Disclosure.id == disclosure_id).with_for_update()
    return (await session.exec(statement)).first()


async def page(
    session: AsyncSession, status: str | None, after: Cursor | None, limit: int
) -> list[Disclosure]:
    """A page of the society's disclosures, oldest first (plus one to tell whether more
    follow)."""
    statement = select(Disclosure)
    if status is not None:
        statement = statement.where(Disclosure.status == status)
    statement = keyset_page(statement, col(Disclosure.created_at), col(Disclosure.id), after, limit)
    return list(await session.exec(statement))


async def of_request(session: AsyncSession, request_id: uuid.UUID) -> Sequence[Disclosure]:
    """The disclosures of one tracing request, oldest first."""
    statement = (
        select(Disclosure)
        .where(Disclosure.tracing_request_id == request_id)
        .order_by(col(Disclosure.created_at), col(Disclosure.id))
    )
    return (await session.exec(statement)).all()


async def change(session: AsyncSession, disclosure: Disclosure, **values: Any) -> None:
    """Move a locked disclosure on (a new version); a verification note is sealed under the
    located person's data key."""
    if values.get("verification_note") is not None:
        cipher = (await ciphers(session, [disclosure.found_person_id]))[disclosure.found_person_id]
        values["verification_note"] = cipher.seal(VERIFICATION_NOTE, values["verification_note"])
    await session.exec(
        update(Disclosure)
        .where(col(Disclosure.id) == disclosure.id)
        .values(**values, version=Disclosure.version + 1, updated_at=func.now())
    )
    await session.refresh(disclosure)


async def verification_notes(
    session: AsyncSession, disclosures: Sequence[Disclosure]
) -> dict[uuid.UUID, str | None]:
    """The verification notes of these disclosures, decrypted."""
    by_person = await ciphers(session, [d.found_person_id for d in disclosures])
    return {
        d.id: by_person[d.found_person_id].open(VERIFICATION_NOTE, d.verification_note)
        for d in disclosures
    }


async def log_release(
    session: AsyncSession, disclosure: Disclosure, fields: list[str], by: str
) -> None:
    """Log a release with exactly the fields released."""
    session.add(
        DisclosureRelease(
            society_id=disclosure.society_id,
            disclosure_id=disclosure.id,
            fields=fields,
            released_by=by,
        )
    )
    await session.flush()


async def releases_of(
    session: AsyncSession, disclosure_id: uuid.UUID
) -> Sequence[DisclosureRelease]:
    """The releases of a disclosure, oldest first."""
    statement = (
        select(DisclosureRelease)
        .where(DisclosureRelease.disclosure_id == disclosure_id)
        .order_by(col(DisclosureRelease.released_at))
    )
    return (await session.exec(statement)).all()


async def stop_for_person(session: AsyncSession, person_id: uuid.UUID, reason: str) -> None:
    """Stop every disclosure of a located person still open, and withdraw any release (their
    tracing stopped)."""
    await _stop(session, col(Disclosure.found_person_id) == person_id, reason)


async def stop_for_consent(session: AsyncSession, consent_id: uuid.UUID, reason: str) -> None:
    """Stop the disclosures resting on a consent that was withdrawn."""
    await _stop(session, col(Disclosure.consent_id) == consent_id, reason)


async def _stop(session: AsyncSession, which: Any, reason: str) -> None:
    await session.exec(
        update(Disclosure)
        .where(which, col(Disclosure.status).in_((*OPEN, "released")))
        .values(
            status="stopped",
            stop_reason=reason,
            version=Disclosure.version + 1,
            updated_at=func.now(),
        )
    )
