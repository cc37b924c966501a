"""Ingestion throughput: persons per second through `kintrace import`, then through the workers.

    timeout 5400 uv run python benchmarks/ingest_throughput.py [--n 1000000] [--workers 2]

The seeded synthetic file of `benchmarks/synthetic_people.py` (see `candidate_latency.py` for
its rates) is imported into a new society of the benchmark database with `kintrace import`:
validation, persons and names, blocking keys (HMAC), one audit event per batch, and one match
job per person, all in the batch's transaction. That is the import figure. Candidate generation
for the imported persons (key lookup, scoring, storing candidate links) is the match workers'
job: `--workers` `kintrace worker` processes then work through the queue for `--score-seconds`,
and the jobs they finish give the scoring rate and the projected time for all `--n` jobs.

Each run adds a society of `--n` persons to the benchmark database (default: an embedded server
under `benchmarks/out/ingest/pg`; delete that folder to start afresh). Goal (issue 5): 1M persons
in under 15 minutes on 2 cores, keys, audit and candidate generation included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

import asyncpg

from benchmarks._linkcsv import kintrace_command
from benchmarks._service import database, load_society, service_env
from benchmarks.candidate_latency import import_file
from benchmarks.dedupe_scale import dataset

GOAL_SECONDS = 15 * 60
GOAL_N = 1_000_000


async def finished_jobs(url: str) -> int:
    """Match jobs finished so far, in every society (the workers serve them all)."""
    connection = await asyncpg.connect(url)
    try:
        query = "SELECT count(*) FROM match_job WHERE finished_at IS NOT NULL"
        return int(await connection.fetchval(query))
    finally:
        await connection.close()


async def next_society(url: str, stem: str) -> str:
    """A society code not used yet in the benchmark database."""
    connection = await asyncpg.connect(url)
    try:
        exists = await connection.fetchval("SELECT to_regclass('society') IS NOT NULL")
        taken = (
            {row["code"] for row in await connection.fetch("SELECT code FROM society")}
            if exists
            else set()
        )
    finally:
        await connection.close()
    number = 1
    while f"{stem}-{number}" in taken:
        number += 1
    return f"{stem}-{number}"


def score_for(url: str, workers: int, seconds: float) -> tuple[int, float]:
    """Run `workers` worker processes for `seconds`; the jobs they finished."""
    before = asyncio.run(finished_jobs(url))
    env = service_env(url, KINTRACE_LOG_LEVEL="WARNING", KINTRACE_WORKER_NICENESS="0")
    processes = [
        subprocess.Popen(
            [*kintrace_command(), "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(workers)
    ]
    start = time.monotonic()
    try:
        time.sleep(seconds)
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:  # never leave a worker behind
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    elapsed = time.monotonic() - start
    after = asyncio.run(finished_jobs(url))
    return after - before, elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=GOAL_N)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--score-seconds", type=float, default=120.0)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args(argv)

    directory = dataset(args.n, args.seed)
    csv_path = import_file(directory)
    expected = sum(1 for _ in csv_path.open(encoding="utf-8")) - 1
    with database(args.database_url, "ingest") as url:
        society = asyncio.run(next_society(url, f"ingest-{args.n}-{args.seed}"))
        rate = load_society(url, society, csv_path, expected)
        assert rate is not None
        print(f"scoring with {args.workers} worker(s) for {args.score_seconds:.0f} s ...")
        jobs, seconds = score_for(url, args.workers, args.score_seconds)
    import_seconds = expected / rate
    scoring_rate = jobs / seconds
    scoring_seconds = expected / scoring_rate if scoring_rate else float("inf")
    total = import_seconds + scoring_seconds
    print()
    print(f"{expected:,} persons (seed {args.seed})")
    print(f"import (validation, persons, names, keys, audit, match jobs): {rate:,.0f} persons/s,")
    print(f"  {import_seconds / 60:.1f} min for all")
    print(
        f"candidate generation ({args.workers} worker(s): lookup, scoring, links): "
        f"{scoring_rate:,.1f} persons/s over {jobs:,} jobs, {scoring_seconds / 60:.1f} min for all"
    )
    projected = total * GOAL_N / expected
    print(
        f"import and candidate generation: {total / 60:.1f} min; at {GOAL_N:,}: "
        f"{projected / 60:.1f} min (goal < {GOAL_SECONDS // 60} min): "
        f"{'met' if projected < GOAL_SECONDS else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
