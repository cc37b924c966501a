"""Test fixtures: one real PostgreSQL database per test session, built by the migrations.

`TEST_DATABASE_URL` set: a fresh database is created on that server for the session and
dropped afterwards. Unset: an embedded server of the suite's own runs in a temporary folder.

Ordinary tests get `client`, whose requests run inside one transaction that is rolled back
after the test (the service's commits become savepoint releases). It is signed in as a
caseworker of the society `local` and states the purpose `tracing`; `bare_client` talks to the
same application with no headers, and `staff` makes signed-in users of any roles and society.
Tests of real concurrency get `committing_client`, backed by a real pool; it truncates every
table afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from service.app import create_app
from service.auth import credentials
from service.db import migrate
from service.db.embedded import embedded_server
from service.db.engine import OWNER_ROLE, async_url, auth_session, create_engine, scoped_session
from service.db.models import AppUser, metadata
from service.observability import configure_logging
from service.runtime import Runtime, build_runtime
from service.settings import Settings
from service.societies import repository as societies

# Logs as in production (JSON, tracebacks without frame locals): structlog's default console
# renderer would print every frame's locals, which is slow and not what the service does.
configure_logging("INFO", as_json=True)

TEST_PASSWORD = "correct horse battery staple"
DEFAULT_SOCIETY = "local"

# Tests that run `kintrace serve` with its own embedded PostgreSQL, whatever server the suite
# uses: they run in the embedded pass; against an external server they would repeat it exactly.
EMBEDDED_ONLY = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="starts its own embedded PostgreSQL (run in the embedded pass)",
)


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
    return Settings(
        database_url=database_url,
        migrate_on_start=False,
        max_body_bytes=65_536,
        secret_key="kintrace-test-secret",
        rate_limit_per_second=100_000,
        rate_limit_burst=100_000,
        audit_seal_interval_seconds=0,
        webhook_allow_loopback=True,  # the tests' receivers listen on 127.0.0.1
        webhook_allow_http=True,
        webhook_any_port=True,
        webhook_retry_base_seconds=0.05,
        webhook_retry_cap_seconds=0.2,
        webhook_timeout_seconds=5,
    )


@pytest.fixture(scope="session")
def password_hash() -> str:
    """The argon2id hash of `TEST_PASSWORD`, computed once (hashing is slow on purpose)."""
    return credentials.hash_password(TEST_PASSWORD)


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


@dataclass(frozen=True)
class Staff:
    """A signed-in user: ids, an access token and the headers that carry it."""

    user_id: uuid.UUID
    username: str
    society_id: uuid.UUID
    society_code: str
    roles: tuple[str, ...]
    token: str

    def headers(self, purpose: str | None = "tracing") -> dict[str, str]:
        """`Authorization` (and `Kintrace-Purpose` unless None)."""
        headers = {"Authorization": f"Bearer {self.token}"}
        if purpose is not None:
            headers["Kintrace-Purpose"] = purpose
        return headers


async def make_staff(
    runtime: Runtime,
    password_hash: str,
    roles: tuple[str, ...] = ("caseworker",),
    society: str = DEFAULT_SOCIETY,
    username: str | None = None,
) -> Staff:
    """A society (created if missing), a user of `roles` in it, and an access token."""
    async with scoped_session(runtime.sessions, role=OWNER_ROLE) as session:
        found = await societies.get_or_create(session, code=society, name=f"Society {society}")
        await session.commit()
    name = username or f"{'-'.join(role[:6] for role in roles)}-{uuid.uuid4().hex[:8]}@{society}"
    async with auth_session(runtime.sessions) as session:
        user = AppUser(
            society_id=found.id, username=name, roles=list(roles), password_hash=password_hash
        )
        session.add(user)
        await session.commit()
    token, _, _ = await runtime.issuer.access_token(
        subject=f"user:{user.id}",
        society_id=found.id,
        society_code=found.code,
        roles=frozenset(roles),
        client_id="kintrace-local",
    )
    return Staff(user.id, name, found.id, found.code, tuple(roles), token)


StaffFactory = Callable[..., Awaitable[Staff]]


@contextlib.asynccontextmanager
async def _running(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


def http_client(app: FastAPI, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    """An HTTP client of a running application."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)


def app_for(settings: Settings, runtime: Runtime) -> FastAPI:
    """The application with a ready-made runtime (no embedded server, no migrations)."""

    @contextlib.asynccontextmanager
    async def factory(_: Settings) -> AsyncIterator[Runtime]:
        yield runtime

    return create_app(settings, runtime_factory=factory)


@pytest.fixture(scope="session")
def shared_app(settings: Settings) -> tuple[FastAPI, dict[str, Runtime]]:
    """One application for the whole session, and the slot its lifespan takes its runtime from.

    Building the application analyses every route (about a tenth of a second): once, not per
    test. Everything a test changes lives in the runtime, which each test sets afresh.
    """
    slot: dict[str, Runtime] = {}

    @contextlib.asynccontextmanager
    async def factory(_: Settings) -> AsyncIterator[Runtime]:
        yield slot["runtime"]

    return create_app(settings, runtime_factory=factory), slot


@pytest.fixture
async def app(
    settings: Settings,
    shared_app: tuple[FastAPI, dict[str, Runtime]],
    engine: AsyncEngine,
    connection: AsyncConnection,
) -> FastAPI:
    """The application bound to the test's rolled-back transaction."""
    sessions = async_sessionmaker(
        bind=connection,
        class_=AsyncSession,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )
    application, slot = shared_app
    slot["runtime"] = await build_runtime(settings, engine, sessions)
    return application


@pytest.fixture
async def running_app(app: FastAPI) -> AsyncIterator[FastAPI]:
    """The application with its lifespan entered."""
    async with _running(app) as running:
        yield running


@pytest.fixture
def runtime(running_app: FastAPI) -> Runtime:
    """The running application's runtime."""
    found: Runtime = running_app.state.runtime
    return found


@pytest.fixture
def staff(runtime: Runtime, password_hash: str) -> StaffFactory:
    """Make a signed-in user: `await staff(("reviewer",), society="drk")`."""

    async def make(
        roles: tuple[str, ...] = ("caseworker",),
        society: str = DEFAULT_SOCIETY,
        username: str | None = None,
    ) -> Staff:
        return await make_staff(runtime, password_hash, roles, society, username)

    return make


@pytest.fixture
async def caseworker(staff: StaffFactory) -> Staff:
    """The default caller: a caseworker of the society `local`."""
    return await staff()


@pytest.fixture
async def client(running_app: FastAPI, caseworker: Staff) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client signed in as `caseworker`, stating the purpose `tracing`."""
    async with http_client(running_app, caseworker.headers()) as client:
        yield client


@pytest.fixture
async def bare_client(running_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the same application sending no credentials and no purpose."""
    async with http_client(running_app) as client:
        yield client


async def truncate_all(engine: AsyncEngine) -> None:
    """Empty every application table (committing tests clean up after themselves).

    The audit tables refuse TRUNCATE by trigger; the owner (a superuser on the test servers)
    switches triggers off for this transaction only.
    """
    tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        await connection.execute(text(f"TRUNCATE {tables} CASCADE"))


@pytest.fixture
async def committing_app(settings: Settings, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    """The application on a real pool: commits are real; tables are truncated afterwards."""
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    try:
        app = app_for(settings, await build_runtime(settings, engine, sessions))
        async with _running(app) as running:
            yield running
    finally:
        await truncate_all(engine)


@pytest.fixture
def committing_staff(committing_app: FastAPI, password_hash: str) -> StaffFactory:
    """`staff` for the committing application."""
    runtime: Runtime = committing_app.state.runtime

    async def make(
        roles: tuple[str, ...] = ("caseworker",),
        society: str = DEFAULT_SOCIETY,
        username: str | None = None,
    ) -> Staff:
        return await make_staff(runtime, password_hash, roles, society, username)

    return make


@pytest.fixture
async def committing_client(
    committing_app: FastAPI, committing_staff: StaffFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose requests really commit (for concurrency tests), as a caseworker."""
    caller = await committing_staff()
    async with http_client(committing_app, caller.headers()) as client:
        yield client
