"""Migrations build the schema from nothing, step down and back up, and match the models."""

from __future__ import annotations

import asyncio
import re

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from service.db import migrate
from service.db.engine import async_url
from service.db.models import metadata


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_async_engine(async_url(url))
        try:
            async with engine.connect() as connection:
                return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _drift(url: str) -> list[object]:
    async def read() -> list[object]:
        engine = create_async_engine(async_url(url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda c: compare_metadata(MigrationContext.configure(c), metadata)
                )
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _scratch_database(base_url: str, name: str) -> str:
    async def run(statement: str) -> None:
        engine = create_async_engine(async_url(base_url), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    from sqlalchemy.engine import make_url

    return make_url(async_url(base_url)).set(database=name).render_as_string(hide_password=False)


def test_upgrade_from_empty_downgrade_one_step_and_back(database_url):
    url = _scratch_database(database_url, "kintrace_migration_test")
    assert _tables(url) == set()
    migrate.upgrade(url)
    expected = {table.name for table in metadata.sorted_tables} | {"alembic_version"}
    assert _tables(url) == expected
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    head = script.get_revision(migrate.head_revision())
    previous = head.down_revision or "base"
    migrate.downgrade(url, str(previous))
    if previous == "base":
        assert _tables(url) <= {"alembic_version"}
    migrate.upgrade(url)
    assert _tables(url) == expected
    assert _drift(url) == []


def test_models_and_migrations_agree(database_url):
    assert _drift(database_url) == []


def _policies(url: str) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    async def read() -> dict[tuple[str, str], tuple[str | None, str | None]]:
        engine = create_async_engine(async_url(url))
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text(
                        "SELECT tablename, policyname, qual, with_check FROM pg_policies "
                        "WHERE schemaname = current_schema()"
                    )
                )
                return {(table, name): (using, check) for table, name, using, check in rows}
        finally:
            await engine.dispose()

    return asyncio.run(read())


# A session setting read in a scalar subquery, as PostgreSQL writes it back.
_READ_ONCE = re.compile(
    r"\( SELECT (kintrace_current_society\(\)|current_setting\([^)]*\)) AS \w+\)"
)


def test_policies_read_the_session_settings_once_per_statement_and_step_back(database_url):
    url = _scratch_database(database_url, "kintrace_migration_test")
    migrate.upgrade(url, "0018")
    per_row = _policies(url)
    migrate.upgrade(url)
    once = _policies(url)
    assert once.keys() >= per_row.keys()
    for policy, expressions in once.items():
        for expression in filter(None, expressions):
            outside = _READ_ONCE.sub("", expression)
            assert "kintrace_current_society()" not in outside, policy
            assert "current_setting(" not in outside, policy
    migrate.downgrade(url, "0018")
    assert _policies(url) == per_row
