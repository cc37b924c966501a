"""Test fixtures: one real PostgreSQL database per test session, built by the migrations.

`TEST_DATABASE_URL` set: a fresh database is created on that server for the session and
dropped afterwards. Unset: an embedded server of the suite's own runs in a temporary folder.

Ordinary tests get `client`, whose requests run inside one transaction that is rolled back
after the test (the service's commits become savepoint releases). Tests of real concurrency
get `committing_client`, backed by a real pool; it truncates every table afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from service.app import create_app
from service.db import migrate
from service.db.embedded import embedded_server
from service.db.engine import async_url, create_engine
from service.db.models import metadata
from service.runtime import Runtime, ensure_acting_society
from service.settings import Settings


@contextlib.contextmanager
def _server_database() -> Iterator[str]:
    """A fresh, empty database on the test server, dropped at the end."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        folder = Path(tempfile.mkdtemp(prefix="kintrace-test-"))
        folder.chmod(0o755)
        try:
            with embedded_server(folder, "kintrace_test", exclusive=True) as url:
                yield url
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"kintrace_test_{uuid.uuid4().hex[:12]}"
    admin = async_url(base)

    async def admin_sql(statement: str) -> None:
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def empty_database_url() -> Iterator[str]:
    """A database with nothing in it (migration tests build on it themselves)."""
    with _server_database() as url:
        yield url


@pytest.fixture(scope="session")
def database_url(empty_database_url: str) -> str:
    """The session's database, migrated to head."""
    migrate.upgrade(empty_database_url)
    return empty_database_url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """Settings pointing at the session's database (no embedded server from the app)."""
    return Settings(database_url=database_url, migrate_on_start=False, max_body_bytes=65_536)


@pytest.fixture(scope="session")
async def engine(settings: Settings, database_url: str) -> AsyncIterator[AsyncEngine]:
    """The session's pooled engine."""
    engine = create_engine(database_url, settings)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session in the test's transaction (its commits release savepoints)."""
    factory = async_sessionmaker(
        bind=connection,
        class_=AsyncSession,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )
    async with factory() as session:
        yield session


async def _runtime(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> Runtime:
    principal = await ensure_acting_society(sessions, settings.acting_society)
    return Runtime(settings, engine, sessions, principal)


@contextlib.asynccontextmanager
async def _client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def app_for(settings: Settings, runtime: Runtime) -> FastAPI:
    """The application with a ready-made runtime (no embedded server, no migrations)."""

    @contextlib.asynccontextmanager
    async def factory(_: Settings) -> AsyncIterator[Runtime]:
        yield runtime

    return create_app(settings, runtime_factory=factory)


@pytest.fixture
async def app(settings: Settings, engine: AsyncEngine, connection: AsyncConnection) -> FastAPI:
    """The application bound to the test's rolled-back transaction."""
    sessions = async_sessionmaker(
        bind=connection,
        class_=AsyncSession,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )
    return app_for(settings, await _runtime(settings, engine, sessions))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the application (requests rolled back after the test)."""
    async with _client_for(app) as client:
        yield client


async def truncate_all(engine: AsyncEngine) -> None:
    """Empty every application table (committing tests clean up after themselves)."""
    tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} CASCADE"))


@pytest.fixture
async def committing_app(settings: Settings, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    """The application on a real pool: commits are real; tables are truncated afterwards."""
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    try:
        yield app_for(settings, await _runtime(settings, engine, sessions))
    finally:
        await truncate_all(engine)


@pytest.fixture
async def committing_client(committing_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose requests really commit (for concurrency tests)."""
    async with _client_for(committing_app) as client:
        yield client
