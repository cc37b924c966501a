"""All connection setup: the one place that turns settings into an engine and sessions.

`DATABASE_URL` is the owner connection (it runs migrations). The request path runs as
`kintrace_app`, a role that is no superuser, owns no table and lacks BYPASSRLS: the request
engine's connections start in that role, and every transaction of a scoped session sets its role
and its society again with `set_config(..., true)`, so neither can outlive the transaction on a
pooled connection. With no society set, row-level security shows no tenant row at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from service.settings import Settings


def async_url(url: str) -> str:
    """Normalise any PostgreSQL URL to the asyncpg driver (`postgres://` and `postgresql://`)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, not {parsed.drivername!r}")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


APP_ROLE = "kintrace_app"
AUTH_ROLE = "kintrace_auth"
OWNER_ROLE = "none"  # `SET ROLE NONE`: back to the connecting (owner) user

_ENTER_SCOPE = text(
    "SELECT set_config('role', :role, true), set_config('kintrace.society_id', :society, true)"
)


def create_engine(
    url: str, settings: Settings, *, role: str | None = None, pool_size: int | None = None
) -> AsyncEngine:
    """A pooled engine (timeouts set on every connection), its connections starting as `role`."""
    server_settings = {
        "application_name": "kintrace",
        "statement_timeout": str(settings.statement_timeout_ms),
        "idle_in_transaction_session_timeout": "60000",
        # Compiling a statement to machine code pays off for long analytical scans, never for
        # these short ones; but at archive scale the candidate lookup's cost estimate passes
        # the JIT threshold, and at a million persons compiling took 16 of its 26 ms.
        "jit": "off",
    }
    if role is not None:
        server_settings["role"] = role
    return create_async_engine(
        async_url(url),
        pool_size=pool_size or settings.pool_size,
        max_overflow=settings.pool_max_overflow,
        pool_pre_ping=True,
        # Statement parameters are personal data: never in exception messages or logs.
        hide_parameters=True,
        connect_args={
            "timeout": settings.connect_timeout_seconds,
            "command_timeout": settings.statement_timeout_ms / 1000 or None,
            "server_settings": server_settings,
        },
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that never expire loaded objects on commit (responses are built after it)."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


SessionFactory = Callable[[], AsyncSession]


def scoped_session(
    sessions: SessionFactory, *, role: str, society_id: uuid.UUID | None = None
) -> AsyncSession:
    """A session whose every transaction runs as `role` and sees only `society_id`'s rows.

    Set per transaction (`is_local`), so a pooled connection carries neither to its next user.
    """
    session = sessions()
    parameters = {"role": role, "society": str(society_id) if society_id else ""}

    def enter_scope(_session: Any, _transaction: Any, connection: Any) -> None:
        connection.execute(_ENTER_SCOPE, parameters)

    event.listen(session.sync_session, "after_begin", enter_scope)
    return session


def tenant_session(sessions: SessionFactory, society_id: uuid.UUID) -> AsyncSession:
    """A request-role session confined to one society's data."""
    return scoped_session(sessions, role=APP_ROLE, society_id=society_id)


def auth_session(sessions: SessionFactory) -> AsyncSession:
    """A session of the token issuer's role (identity tables only, no tenant data)."""
    return scoped_session(sessions, role=AUTH_ROLE)
