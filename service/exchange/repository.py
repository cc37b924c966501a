"""Queries on import jobs, their items, partners' external ids and erased ids."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import ExternalRecord, ExternalTombstone, ImportItem, ImportJob, Person
from service.db.paging import keyset_page
from service.http import Cursor
from service.persons import crypto

ITEM_BODY = "import_item.body"
INSERT_CHUNK = 1000


def _item_cipher(session: AsyncSession, job_id: uuid.UUID) -> crypto.FieldCipher:
    """Items wait sealed under a society key bound to their job."""
    return crypto.society_cipher(session, ITEM_BODY, f"import_job:{job_id}")


async def insert_job(session: AsyncSession, job: ImportJob) -> ImportJob:
    """Store a job (the database sets its times)."""
    session.add(job)
    await session.flush()
    await session.refresh(job)
    return job


async def insert_items(
    session: AsyncSession, job: ImportJob, items: Sequence[dict[str, Any]]
) -> None:
    """Store a job's items, their bodies sealed, a chunk per statement."""
    cipher = _item_cipher(session, job.id)

    def sealed() -> list[dict[str, Any]]:
        return [
            {
                **item,
                "job_id": job.id,
                "society_id": job.society_id,
                "body": cipher.seal(ITEM_BODY, item["body"]),
            }
            for item in items
        ]

    rows = await asyncio.to_thread(sealed)  # seconds for a large import: off the event loop
    for first in range(0, len(rows), INSERT_CHUNK):
        await session.exec(insert(ImportItem).values(rows[first : first + INSERT_CHUNK]))


async def get_job(session: AsyncSession, job_id: uuid.UUID) -> ImportJob | None:
    """A job of the session's society."""
    return await session.get(ImportJob, job_id, populate_existing=True)


async def jobs_page(session: AsyncSession, after: Cursor | None, limit: int) -> list[ImportJob]:
    """A page of the society's jobs, oldest first, plus one."""
    statement = select(ImportJob)
    statement = keyset_page(statement, col(ImportJob.created_at), col(ImportJob.id), after, limit)
    return list(await session.exec(statement))


async def claim_job(session: AsyncSession) -> ImportJob | None:
    """The society's oldest unfinished job, locked until commit (one worker per job at a
    time; others skip it)."""
    statement = (
        select(ImportJob)
        .where(ImportJob.status != "done")
        .order_by(col(ImportJob.created_at))
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return (await session.exec(statement)).first()


async def items_of(
    session: AsyncSession, job: ImportJob, first: int, count: int
) -> list[ImportItem]:
    """Items `first` .. `first + count - 1` of a job, their bodies decrypted (copies)."""
    statement = (
        select(ImportItem)
        .where(
            ImportItem.job_id == job.id,
            col(ImportItem.position) >= first,
            col(ImportItem.position) < first + count,
        )
        .order_by(col(ImportItem.position))
    )
    cipher = _item_cipher(session, job.id)
    return [
        ImportItem(
            job_id=row.job_id,
            position=row.position,
            society_id=row.society_id,
            kind=row.kind,
            external_id=row.external_id,
            body=cipher.open(ITEM_BODY, row.body),
            problem=row.problem,
        )
        for row in await session.exec(statement)
    ]


async def finish_items(
    session: AsyncSession, job: ImportJob, first: int, last: int, problems: dict[int, str]
) -> None:
    """Items done: their bodies dropped (nothing personal waits once stored), problems kept."""
    await session.exec(
        update(ImportItem)
        .where(
            col(ImportItem.job_id) == job.id,
            col(ImportItem.position) >= first,
            col(ImportItem.position) <= last,
        )
        .values(body=None)
    )
    for position, problem in problems.items():
        await session.exec(
            update(ImportItem)
            .where(col(ImportItem.job_id) == job.id, col(ImportItem.position) == position)
            .values(problem=problem)
        )


async def advance_job(session: AsyncSession, job: ImportJob, **values: Any) -> None:
    """Move a locked job on (its position and counters, in the batch's transaction)."""
    await session.exec(
        update(ImportJob).where(col(ImportJob.id) == job.id).values(**values, updated_at=func.now())
    )


async def problems_page(
    session: AsyncSession, job_id: uuid.UUID, after: int, limit: int
) -> list[ImportItem]:
    """A page of a job's refused items, by position, plus one."""
    statement = (
        select(ImportItem)
        .where(
            ImportItem.job_id == job_id,
            col(ImportItem.problem).is_not(None),
            col(ImportItem.position) > after,
        )
        .order_by(col(ImportItem.position))
        .limit(limit + 1)
    )
    return list(await session.exec(statement))


async def external_record(
    session: AsyncSession, source: str, external_id: str
) -> ExternalRecord | None:
    """What a sender's id stands for in the society, if anything."""
    statement = select(ExternalRecord).where(
        ExternalRecord.source == source, ExternalRecord.external_id == external_id
    )
    return (await session.exec(statement)).first()


async def save_external(
    session: AsyncSession,
    society_id: uuid.UUID,
    source: str,
    external_id: str,
    kind: str,
    record_id: uuid.UUID,
    digest: str,
) -> None:
    """Remember (or update) what a sender's id stands for."""
    statement = insert(ExternalRecord).values(
        society_id=society_id,
        source=source,
        external_id=external_id,
        record_kind=kind,
        record_id=record_id,
        digest=digest,
    )
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["society_id", "source", "external_id"],
            set_={"record_id": record_id, "digest": digest, "updated_at": func.now()},
        )
    )


async def known_ids(session: AsyncSession, source: str, external_ids: Sequence[str]) -> set[str]:
    """Which of a sender's ids are stored or erased already (one query for a batch)."""
    if not external_ids:
        return set()
    wanted = list(set(external_ids))
    stored = select(ExternalRecord.external_id).where(
        ExternalRecord.source == source, col(ExternalRecord.external_id).in_(wanted)
    )
    erased = select(ExternalTombstone.external_id).where(
        ExternalTombstone.source == source, col(ExternalTombstone.external_id).in_(wanted)
    )
    return set(await session.exec(stored)) | set(await session.exec(erased))


async def add_externals(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Remember what new senders' ids stand for (one statement for a batch)."""
    if rows:
        await session.exec(insert(ExternalRecord).values(list(rows)))


async def is_tombstoned(session: AsyncSession, source: str, external_id: str) -> bool:
    """Whether the sender's id belonged to a record that was erased."""
    statement = select(ExternalTombstone.external_id).where(
        ExternalTombstone.source == source, ExternalTombstone.external_id == external_id
    )
    return (await session.exec(statement)).first() is not None


async def tombstone_person(session: AsyncSession, person_id: uuid.UUID) -> None:
    """Before a person is erased: every sender's id of the person, or of their tracing request,
    becomes a tombstone (sending it again is refused), and the ids are forgotten."""
    request_id = (
        await session.exec(select(Person.tracing_request_id).where(Person.id == person_id))
    ).first()
    records = [person_id] + ([request_id] if request_id is not None else [])
    await session.exec(  # type: ignore[call-overload]
        text(
            "WITH gone AS (DELETE FROM external_record WHERE record_id = ANY(:records) "
            "RETURNING society_id, source, external_id) "
            "INSERT INTO external_tombstone (society_id, source, external_id) "
            "SELECT society_id, source, external_id FROM gone ON CONFLICT DO NOTHING"
        ).bindparams(records=records)
    )
