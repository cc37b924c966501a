"""Queries on societies."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
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
