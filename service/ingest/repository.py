"""Queries on import runs (in a society-confined session)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import ImportRun


async def claim_run(
    session: AsyncSession, society_id: uuid.UUID, digest: str, name: str, total: int
) -> ImportRun:
    """The run of this file (created if new), locked: two imports of one file take turns."""
    await session.exec(
        insert(ImportRun)
        .values(society_id=society_id, file_digest=digest, file_name=name, total_items=total)
        .on_conflict_do_nothing(index_elements=["society_id", "file_digest"])
    )
    statement = select(ImportRun).where(ImportRun.file_digest == digest).with_for_update()
    return (await session.exec(statement)).one()


async def advance_run(
    session: AsyncSession, digest: str, next_item: int, imported: int, failed: int
) -> None:
    """Record a committed batch (in its transaction)."""
    await session.exec(
        update(ImportRun)
        .where(col(ImportRun.file_digest) == digest)
        .values(
            next_item=next_item,
            imported=ImportRun.imported + imported,
            failed=ImportRun.failed + failed,
            updated_at=func.now(),
        )
    )


async def finish_run(session: AsyncSession, digest: str) -> None:
    """Mark the run finished (once)."""
    await session.exec(
        update(ImportRun)
        .where(col(ImportRun.file_digest) == digest, col(ImportRun.finished_at).is_(None))
        .values(finished_at=func.now())
    )
