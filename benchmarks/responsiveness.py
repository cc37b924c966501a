"""Responsiveness: `/healthz` latency while match workers score, beside the same server idle.

    timeout 1800 uv run python benchmarks/responsiveness.py [--n 20000] [--workers 8]

A society is loaded with `--n` synthetic persons through `kintrace import` (which queues one
match job per person; nothing scores them yet). Then `kintrace serve` runs twice on the same
database: first with no workers (the peer: the API alone), then with `--workers` worker
processes, which start taking the queued jobs at once, so that many scoring jobs run at the same
time as the probe. The probe sends `GET /healthz` one request at a time, every 10 ms, for
`--seconds`, and reports p50 / p99 / max; the jobs finished during the loaded window are counted
from the queue, so the figure is only reported when the workers were really busy. Goal
(issue 5): p99 < 50 ms while 8 scoring jobs run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import asyncpg
import httpx

from benchmarks._linkcsv import kintrace_command
from benchmarks._metrics import format_table
from benchmarks._service import database, load_society, service_env
from benchmarks.candidate_latency import import_file
from benchmarks.dedupe_scale import dataset

GOAL_P99_MS = 50.0
PROBE_INTERVAL = 0.01


@dataclass(frozen=True, slots=True)
class Window:
    """One probing window."""

    name: str
    latencies_ms: list[float]
    failures: int
    jobs_done: int
    seconds: float

    def row(self) -> list[str]:
        """Table row: window, requests, p50, p99, max, failures, jobs/s."""
        ordered = sorted(self.latencies_ms)
        p99 = ordered[min(len(ordered) - 1, int(round(0.99 * len(ordered))) - 1)]
        return [
            self.name,
            str(len(ordered)),
            f"{statistics.median(ordered):.1f}",
            f"{p99:.1f}",
            f"{ordered[-1]:.1f}",
            str(self.failures),
            f"{self.jobs_done / self.seconds:.1f}",
        ]


def free_port() -> int:
    """A TCP port nothing listens on right now (loopback only)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serving(url: str, workers: int) -> Iterator[str]:
    """`kintrace serve` on a free loopback port with `workers` workers, until the block ends."""
    port = free_port()
    env = service_env(url, KINTRACE_WORKERS=str(workers), KINTRACE_LOG_LEVEL="WARNING")
    process = subprocess.Popen(
        [*kintrace_command(), "serve", "--port", str(port), "--no-migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit("kintrace serve did not become ready")
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def count_jobs(url: str, *, finished: bool) -> int:
    """Match jobs finished so far, or still waiting (all societies)."""
    condition = "IS NOT NULL" if finished else "IS NULL"
    connection = await asyncpg.connect(url)
    try:
        query = f"SELECT count(*) FROM match_job WHERE finished_at {condition}"
        return int(await connection.fetchval(query))
    finally:
        await connection.close()


def probe(base: str, name: str, seconds: float, url: str, warmup: float) -> Window:
    """`GET /healthz` one at a time for `seconds` (after `warmup`), with the jobs done."""
    latencies: list[float] = []
    failures = 0
    with httpx.Client(base_url=base, timeout=5) as client:
        end_warmup = time.monotonic() + warmup
        while time.monotonic() < end_warmup:
            with contextlib.suppress(httpx.HTTPError):
                client.get("/healthz")
            time.sleep(PROBE_INTERVAL)
        before = asyncio.run(count_jobs(url, finished=True))
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            sent = time.perf_counter()
            try:
                ok = client.get("/healthz").status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append((time.perf_counter() - sent) * 1000)
            failures += not ok
            time.sleep(PROBE_INTERVAL)
        elapsed = time.monotonic() - start
        after = asyncio.run(count_jobs(url, finished=True))
    return Window(name, latencies, failures, after - before, elapsed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args(argv)

    directory = dataset(args.n, args.seed)
    csv_path = import_file(directory)
    society = f"responsiveness-{args.n}-{args.seed}"
    with database(args.database_url, "responsiveness") as url:
        expected = sum(1 for _ in csv_path.open(encoding="utf-8")) - 1
        load_society(url, society, csv_path, expected)
        waiting = asyncio.run(count_jobs(url, finished=False))
        print(f"{waiting:,} match jobs queued", flush=True)
        if waiting < args.workers * 100:
            sys.exit("too few queued jobs to keep the workers busy: load a fresh database")
        with serving(url, 0) as base:
            idle = probe(base, "API alone (no workers)", args.seconds, url, warmup=2)
        with serving(url, args.workers) as base:
            busy = probe(base, f"{args.workers} workers scoring", args.seconds, url, warmup=5)
    print()
    print(
        f"GET /healthz, one request every {PROBE_INTERVAL * 1000:.0f} ms, {args.seconds:.0f} s each"
    )
    headers = ["window", "requests", "p50 ms", "p99 ms", "max ms", "failed", "jobs/s"]
    print(format_table(headers, [idle.row(), busy.row()]))
    p99 = float(busy.row()[3])
    busy_enough = busy.jobs_done >= args.workers
    verdict = "met" if p99 < GOAL_P99_MS and busy_enough and not busy.failures else "NOT met"
    print(f"goal p99 < {GOAL_P99_MS:.0f} ms while {args.workers} scoring jobs run: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
