"""Applying and inspecting Alembic migrations from the service and the CLI."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.engine import async_url

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration for `url`, independent of the working directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", async_url(url).replace("%", "%%"))
    return config


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration shipped with this code."""
    return ScriptDirectory.from_config(alembic_config("postgresql://x/x")).get_current_head()


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision` (blocking; call from a thread inside an event loop)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Revert migrations down to `revision`."""
    command.downgrade(alembic_config(url), revision)


async def current_revision(session: AsyncSession) -> str | None:
    """The revision the database is at (None when it has never been migrated)."""
    exists = await session.exec(  # type: ignore[call-overload]
        text("SELECT to_regclass('alembic_version') IS NOT NULL")
    )
    if not exists.scalar_one():
        return None
    result = await session.exec(text("SELECT version_num FROM alembic_version"))  # type: ignore[call-overload]
    revision: str | None = result.scalar_one_or_none()
    return revision
