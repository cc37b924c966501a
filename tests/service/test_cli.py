"""The `kintrace` command: openapi, migrate and demo against the test database.

`kintrace` runs the command-line application in this process, in a thread of its own (the
commands run their own event loop), with the environment given; `kintrace_process` runs it as
its own Python process, which costs seconds of imports each and is kept for the entry point.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from service.app import openapi_document
from service.cli.main import app
from service.settings import get_settings
from tests.conftest import truncate_all

ENVIRONMENT = {"KINTRACE_LOG_JSON": "true", "KINTRACE_SECRET_KEY": "kintrace-test-secret"}


@dataclass(frozen=True)
class Done:
    """How a command ended, and what it wrote."""

    returncode: int
    stdout: str
    stderr: str


def kintrace(*args: str, **env: str) -> Done:
    """The `kintrace` application in this process (settings read afresh from `env`)."""

    def invoke() -> Done:
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(app, list(args), env=ENVIRONMENT | env)
        finally:
            get_settings.cache_clear()
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Done(result.exit_code, result.stdout, result.stderr)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(invoke).result(timeout=300)


def kintrace_process(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The command as its own process (`python -m service.cli`)."""
    environment = {**os.environ, **ENVIRONMENT, **env}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_openapi_writes_sorted_document(tmp_path: Path):
    out = tmp_path / "openapi.json"
    done = kintrace("openapi", "--out", str(out), DATABASE_URL="postgresql://ignored/x")
    assert done.returncode == 0, done.stderr
    written = out.read_text(encoding="utf-8")
    assert json.loads(written) == openapi_document()
    assert (
        written
        == json.dumps(json.loads(written), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )


def test_migrate_is_idempotent(database_url):
    done = kintrace_process("migrate", DATABASE_URL=database_url)
    assert done.returncode == 0, done.stderr
    assert "migrations applied" in done.stderr


async def test_demo_loads_societies_and_scripts(database_url, engine):
    try:
        done = kintrace(
            "demo", "--requests", "24", "--registrations", "18", DATABASE_URL=database_url
        )
        assert done.returncode == 0, done.stderr
        async with engine.connect() as connection:
            requests = (
                await connection.execute(text("SELECT count(*) FROM tracing_request"))
            ).scalar()
            registrations = (
                await connection.execute(
                    text("SELECT count(*) FROM person WHERE role = 'registration'")
                )
            ).scalar()
            societies = (
                await connection.execute(
                    text("SELECT count(DISTINCT society_id) FROM tracing_request")
                )
            ).scalar()
            scripts = set(
                (
                    await connection.execute(text("SELECT DISTINCT script FROM person_name"))
                ).scalars()
            )
        assert (requests, registrations) == (24, 18)
        printed = dict(
            line.split()[:3:2] for line in done.stdout.splitlines() if " password " in line
        )
        assert {"caseworker@drk", "auditor@drk", "data-protection-officer@sarc"} <= set(printed)
        assert "totp secret" in done.stdout
        assert societies >= 4
        assert {"Arab", "Cyrl", "Ethi", "Latn"} <= scripts
        again = kintrace(
            "demo", "--requests", "24", "--registrations", "18", DATABASE_URL=database_url
        )
        assert again.returncode == 0, again.stderr
        async with engine.connect() as connection:
            assert (
                await connection.execute(text("SELECT count(*) FROM tracing_request"))
            ).scalar() == 24
    finally:
        await truncate_all(engine)
