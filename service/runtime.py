"""Process start-up and shutdown: database, migrations, engine, keys and authentication."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from service.auth import repository as auth_repository
from service.auth.authenticate import Authenticator
from service.auth.external import external_issuers, load_all
from service.auth.issuer import Issuer
from service.auth.jwt import check_cryptography_backend
from service.auth.keys import KeyStore, ensure_signing_key, service_secret
from service.candidates import keys as blocking_keys
from service.db import migrate
from service.db.embedded import embedded_server
from service.db.engine import (
    APP_ROLE,
    auth_session,
    create_engine,
    redacted,
    session_factory,
    tenant_session,
)
from service.idempotency import repository as idempotency
from service.persons import crypto
from service.ratelimit import TokenBuckets
from service.settings import Settings
from service.societies import repository as societies

log = structlog.get_logger("kintrace.runtime")


class StartupError(RuntimeError):
    """The service cannot start; the message says why and what to do."""


@dataclass(slots=True)
class Runtime:
    """What a running service holds: settings, engine, sessions, keys and the authenticator."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keys: KeyStore
    issuer: Issuer
    authenticator: Authenticator
    rate_limits: TokenBuckets
    secret: bytes
    search_limits: TokenBuckets

    def tenant_session(self, society_id: uuid.UUID) -> AsyncSession:
        """A request-role session confined to one society, carrying its blocking-key secret."""
        return tenant_sessions(self.sessions, self.secret)(society_id)


def tenant_sessions(
    sessions: async_sessionmaker[AsyncSession], secret: bytes
) -> Callable[[uuid.UUID], AsyncSession]:
    """Society-confined sessions that carry their society's blocking-key secret and the key
    that wraps its data keys."""

    def open_for(society_id: uuid.UUID) -> AsyncSession:
        session = blocking_keys.attach(
            tenant_session(sessions, society_id),
            blocking_keys.society_secret(secret, society_id),
            lambda other: blocking_keys.society_secret(secret, other),
        )
        return crypto.attach(
            session,
            society_id,
            crypto.society_wrapping_key(secret, society_id),
            lambda other: crypto.society_wrapping_key(secret, other),
        )

    return open_for


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


async def check_request_role(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Refuse to start if the request role could bypass row-level security."""
    async with tenant_session(sessions, uuid.UUID(int=0)) as session:
        result = await session.exec(  # type: ignore[call-overload]
            text(
                "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                "WHERE rolname = current_user"
            )
        )
        role, superuser, bypass = result.one()
    if superuser or bypass or role != APP_ROLE:
        raise StartupError(
            f"the request role {role!r} is a superuser or bypasses row-level security; "
            f"`{APP_ROLE}` must be NOSUPERUSER NOBYPASSRLS (see migration 0002)"
        )


async def purge_expired(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Forget expired idempotency records (per society) and client assertion ids."""
    purged = 0
    async with sessions() as session:
        society_ids = await societies.all_ids(session)
    for society_id in society_ids:
        async with tenant_session(sessions, society_id) as session:
            purged += await idempotency.purge_expired(session)
            await session.commit()
    async with auth_session(sessions) as session:
        await auth_repository.purge_assertion_ids(session)
        await session.commit()
    if purged:
        log.info("expired idempotency keys purged", count=purged)


async def build_runtime(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> Runtime:
    """Check the security prerequisites and assemble the runtime on an open database."""
    check_cryptography_backend()
    await check_request_role(sessions)
    secret = service_secret(settings)
    await ensure_signing_key(sessions, settings, secret)
    keys = KeyStore(sessions, settings, secret)
    try:
        await keys.reload()
    except ValueError as err:  # cryptography: wrong password for the stored private key
        raise StartupError(
            "the secret key (KINTRACE_SECRET_KEY, or secret.key in the data directory) does not "
            "decrypt the stored signing keys; use the secret they were created with"
        ) from err
    issuers = external_issuers(settings.oidc_issuers)
    await load_all(issuers)
    await purge_expired(sessions)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        keys=keys,
        issuer=Issuer(sessions, settings, keys, secret),
        authenticator=Authenticator(sessions, settings, keys, issuers),
        rate_limits=TokenBuckets(
            rate_per_second=settings.rate_limit_per_second, burst=settings.rate_limit_burst
        ),
        secret=secret,
        search_limits=TokenBuckets(
            rate_per_second=settings.search_per_minute / 60, burst=settings.search_burst
        ),
    )


@contextlib.asynccontextmanager
async def open_runtime(settings: Settings, *, exclusive: bool = True) -> AsyncIterator[Runtime]:
    """Start everything the service needs, and stop it again in reverse order."""
    async with database_url(settings, exclusive=exclusive) as url:
        await prepare_database(settings, url)
        engine = create_engine(url, settings, role=APP_ROLE)
        try:
            yield await build_runtime(settings, engine, session_factory(engine))
        finally:
            await engine.dispose()


@contextlib.asynccontextmanager
async def open_database(
    settings: Settings, *, exclusive: bool = False
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Only the database (sessions of the request role), for commands that need no keys."""
    async with database_url(settings, exclusive=exclusive) as url:
        await prepare_database(settings, url)
        engine = create_engine(url, settings, role=APP_ROLE)
        try:
            yield session_factory(engine)
        finally:
            await engine.dispose()


async def prepare_database(settings: Settings, url: str) -> None:
    """Over the owner connection: fail fast if unreachable, then migrate (or check the revision).

    The request role is created by the migrations, so nothing may connect as it before.
    """
    owner = create_engine(url, settings, pool_size=1)
    try:
        await check_reachable(owner, url)
        if settings.migrate_on_start:
            await asyncio.to_thread(migrate.upgrade, url)
            return
        async with session_factory(owner)() as session:
            revision = await migrate.current_revision(session)
        if revision != migrate.head_revision():
            raise StartupError(
                f"the database is at migration {revision}, this code needs "
                f"{migrate.head_revision()}; run `kintrace migrate` first"
            )
    finally:
        await owner.dispose()
