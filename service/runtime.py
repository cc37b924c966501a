"""Process start-up and shutdown: database, migrations, engine and the acting society."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db import migrate
from service.db.embedded import embedded_server
from service.db.engine import create_engine, redacted, session_factory
from service.idempotency import repository as idempotency
from service.principal import LOCAL_OPERATOR, Principal
from service.settings import Settings
from service.societies import repository as societies

log = structlog.get_logger("kintrace.runtime")


class StartupError(RuntimeError):
    """The service cannot start; the message says why and what to do."""


@dataclass(slots=True)
class Runtime:
    """What a running service holds: settings, engine, sessions and the local principal."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    local_principal: Principal


async def check_reachable(engine: AsyncEngine, url: str) -> None:
    """Fail fast, with the URL (no password) in the message, when the database is down."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as err:  # asyncpg, OSError, timeouts: all mean "cannot use it"
        raise StartupError(
            f"cannot reach the database at {redacted(url)} (DATABASE_URL): "
            f"{type(err).__name__}: {err}. Kintrace never falls back to another database."
        ) from err


@contextlib.asynccontextmanager
async def database_url(settings: Settings, *, exclusive: bool) -> AsyncIterator[str]:
    """The configured database, or the embedded one running for the duration of the block."""
    if settings.database_url:
        yield settings.database_url
        return
    with contextlib.ExitStack() as stack:
        url = await asyncio.to_thread(
            stack.enter_context,
            embedded_server(settings.data_dir, settings.database_name, exclusive=exclusive),
        )
        log.info("embedded database ready", data_dir=str(settings.data_dir))
        try:
            yield url
        finally:
            await asyncio.to_thread(stack.close)
            log.info("embedded database stopped", data_dir=str(settings.data_dir))


async def ensure_acting_society(sessions: async_sessionmaker[AsyncSession], code: str) -> Principal:
    """The local operator's society, created on first start so the dev server is usable.

    Expired idempotency records are purged on the way.
    """
    async with sessions() as session:
        society = await societies.get_or_create(session, code=code, name=f"Society {code}")
        purged = await idempotency.purge_expired(session)
        await session.commit()
    if purged:
        log.info("expired idempotency keys purged", count=purged)
    return Principal(subject=LOCAL_OPERATOR, society_id=society.id, society_code=society.code)


@contextlib.asynccontextmanager
async def open_runtime(settings: Settings, *, exclusive: bool = True) -> AsyncIterator[Runtime]:
    """Start everything the service needs, and stop it again in reverse order."""
    async with database_url(settings, exclusive=exclusive) as url:
        engine = create_engine(url, settings)
        try:
            await check_reachable(engine, url)
            if settings.migrate_on_start:
                await asyncio.to_thread(migrate.upgrade, url)
            sessions = session_factory(engine)
            if not settings.migrate_on_start:
                async with sessions() as session:
                    revision = await migrate.current_revision(session)
                if revision != migrate.head_revision():
                    raise StartupError(
                        f"the database is at migration {revision}, this code needs "
                        f"{migrate.head_revision()}; run `kintrace migrate` first"
                    )
            principal = await ensure_acting_society(sessions, settings.acting_society)
            yield Runtime(settings, engine, sessions, principal)
        finally:
            await engine.dispose()
