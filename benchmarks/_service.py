"""What the service benchmarks share: a database, `kintrace` commands, loading a society.

A benchmark uses `--database-url` / `BENCH_DATABASE_URL` (a server it may own: it creates tables
and extensions of its own there), else an embedded server under `benchmarks/out/<name>/pg`.
Every `kintrace` child process gets the same fixed secret key, so a rerun finds the blocking
keys an earlier run stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg

from benchmarks._linkcsv import kintrace_command

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
BENCH_SECRET = "b" * 64


@contextlib.contextmanager
def database(url: str | None, name: str) -> Iterator[str]:
    """The server to use: the given one, or an embedded one under `benchmarks/out/NAME/pg`."""
    if url:
        yield url
        return
    from service.db.embedded import embedded_server

    with embedded_server(OUT / name / "pg", f"kintrace_{name}", exclusive=True) as embedded:
        yield embedded


def service_env(url: str, **settings: str) -> dict[str, str]:
    """The environment of a `kintrace` child process for the benchmark database."""
    return os.environ | {"DATABASE_URL": url, "KINTRACE_SECRET_KEY": BENCH_SECRET} | settings


def kintrace(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a `kintrace` command against the benchmark database (output captured)."""
    return subprocess.run(
        [*kintrace_command(), *args],
        env=service_env(url),
        text=True,
        capture_output=True,
        check=False,
    )


async def society_size(url: str, society: str) -> int | None:
    """How many persons the society holds (None: no such society, or no schema yet)."""
    connection = await asyncpg.connect(url)
    try:
        if not await connection.fetchval("SELECT to_regclass('society') IS NOT NULL"):
            return None
        if await connection.fetchval("SELECT id FROM society WHERE code = $1", society) is None:
            return None
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM person p JOIN society s ON s.id = p.society_id"
                " WHERE s.code = $1",
                society,
            )
        )
    finally:
        await connection.close()


async def analyze(url: str) -> None:
    """Planner statistics and the visibility map after a bulk load, as after any bulk load
    (autovacuum gets there too, but not before the first queries): the candidate lookup is an
    index-only scan of `person_key` once its pages are marked all-visible."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("VACUUM (ANALYZE) person, person_name, person_key")
    finally:
        await connection.close()


def load_society(
    url: str, society: str, csv_path: Path, expected: int, *, batch_size: int = 1000
) -> float | None:
    """Migrate, create the society and `kintrace import` the file into it, unless it already
    holds `expected` persons. Returns the import's persons per second (None: skipped)."""
    already = asyncio.run(society_size(url, society))
    if already == expected:
        print(f"society {society} already holds {expected:,} persons: import skipped", flush=True)
        asyncio.run(analyze(url))  # after a `kintrace rematch --reindex`, say
        return None
    steps = [("migrate",)]
    if already is None:
        steps.append(("societies", "create", society, "--name", "Benchmark"))
    for args in steps:
        done = kintrace(url, *args)
        if done.returncode != 0:
            sys.exit(f"kintrace {' '.join(args)} failed:\n{done.stderr}")
    print(f"importing {expected:,} persons with kintrace import ...", flush=True)
    command = [*kintrace_command(), "import", str(csv_path), "--society", society]
    start = time.perf_counter()
    imported = subprocess.run(
        [*command, "--batch-size", str(batch_size)],
        env=service_env(url),
        text=True,
        stdout=subprocess.PIPE,
        check=False,
    )
    seconds = time.perf_counter() - start
    lines = imported.stdout.strip().splitlines()
    print(lines[-1] if lines else "")
    if imported.returncode != 0:
        sys.exit("kintrace import failed")
    rate = (expected - (already or 0)) / seconds
    print(f"import: {expected - (already or 0):,} persons in {seconds:.0f} s = {rate:,.0f}/s")
    asyncio.run(analyze(url))
    return rate
