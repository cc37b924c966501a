"""Queries on societies."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import Society


async def get_by_code(session: AsyncSession, code: str) -> Society | None:
    """The society with this code, if any."""
    return (await session.exec(select(Society).where(Society.code == code))).first()


async def get_or_create(session: AsyncSession, *, code: str, name: str) -> Society:
    """The society with this code, created with `name` if missing (safe under concurrency)."""
    statement = (
        insert(Society).values(code=code, name=name).on_conflict_do_nothing(index_elements=["code"])
    )
    await session.exec(statement)
    society = await get_by_code(session, code)
    assert society is not None
    return society


async def get_by_id(session: AsyncSession, society_id: uuid.UUID) -> Society | None:
    """The society with this id, if any."""
    return await session.get(Society, society_id)


async def all_ids(session: AsyncSession) -> list[uuid.UUID]:
    """Every society's id."""
    return list((await session.exec(select(Society.id).order_by(Society.code))).all())


async def all_codes(session: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    """Every society's id and code, by code."""
    statement = select(Society.id, Society.code).order_by(Society.code)
    return [(row[0], row[1]) for row in (await session.exec(statement)).all()]


async def codes_of(session: AsyncSession, society_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Codes of societies, by id."""
    wanted = set(society_ids)
    if not wanted:
        return {}
    statement = select(Society.id, Society.code).where(col(Society.id).in_(wanted))
    return {row[0]: row[1] for row in (await session.exec(statement)).all()}
