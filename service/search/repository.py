"""Queries of the search: a caller's recent searches, and volume flags."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import AuditEvent, SearchFlag

SEARCH_ACTION = "person.search"


async def searches_since(session: AsyncSession, actor: str, since: datetime.datetime) -> int:
    """How many searches `actor` made since `since` (read off the audit trail)."""
    statement = select(func.count()).where(
        AuditEvent.actor == actor,
        AuditEvent.action == SEARCH_ACTION,
        col(AuditEvent.occurred_at) >= since,
    )
    return int((await session.exec(statement)).one())


async def flagged_since(session: AsyncSession, actor: str, since: datetime.datetime) -> bool:
    """Whether `actor` was flagged since `since` (one flag per hour is enough)."""
    statement = select(SearchFlag.id).where(
        SearchFlag.principal == actor, col(SearchFlag.flagged_at) >= since
    )
    return (await session.exec(statement)).first() is not None


async def add_flag(session: AsyncSession, flag: SearchFlag) -> None:
    """Record a flag."""
    session.add(flag)
    await session.flush()


async def flags(session: AsyncSession, limit: int) -> Sequence[SearchFlag]:
    """The society's flags, newest first."""
    statement = select(SearchFlag).order_by(col(SearchFlag.flagged_at).desc()).limit(limit)
    return (await session.exec(statement)).all()
