"""`kintrace serve` as a real process: start, readiness, stop, kill -9 and restart."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import EMBEDDED_ONLY
from tests.service.payloads import (
    REGISTERED_MOTHER,
    SOUGHT_MOTHER,
    enquirer,
    registration,
    sought_person,
    tracing_request,
)
from tests.service.test_embedded import postgres_processes

READY_WITHIN_SECONDS = 15


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def data_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="kintrace-serve-"))
    folder.chmod(0o755)
    yield folder
    for process in postgres_processes(folder):
        process.kill()
    shutil.rmtree(folder, ignore_errors=True)


def serve(data_dir: Path, port: int, **env: str) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    environment |= {"KINTRACE_DATA_DIR": str(data_dir), "KINTRACE_LOG_JSON": "true", **env}
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


PASSWORD = "a long enough demo password"


def cli(data_dir: Path, *args: str, stdin: str | None = None) -> str:
    """Run a `kintrace` command against the same (embedded) database; its output."""
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    environment |= {"KINTRACE_DATA_DIR": str(data_dir), "KINTRACE_LOG_JSON": "true"}
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def sign_in(data_dir: Path, port: int) -> dict[str, str]:
    """Create a society and a caseworker with the CLI, sign in over HTTP: request headers."""
    cli(data_dir, "societies", "create", "local", "--name", "Local")
    cli(
        data_dir,
        "users",
        "create",
        "cw@local",
        "--society",
        "local",
        "--role",
        "caseworker",
        "--role",
        "reviewer",
        stdin=PASSWORD + "\n",
    )
    issued = httpx.post(
        f"http://127.0.0.1:{port}/v1/auth/token",
        data={"grant_type": "password", "username": "cw@local", "password": PASSWORD},
    )
    assert issued.status_code == 200, issued.text
    return {
        "Authorization": f"Bearer {issued.json()['access_token']}",
        "Kintrace-Purpose": "tracing",
    }


def wait_ready(port: int, process: subprocess.Popen[str]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 60:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the service did not become ready")


def stop(process: subprocess.Popen[str], sig: int = signal.SIGINT) -> tuple[int, str]:
    process.send_signal(sig)
    output, _ = process.communicate(timeout=60)
    return process.returncode, output


@EMBEDDED_ONLY
def test_serve_starts_ready_and_stops_leaving_nothing_behind(data_dir):
    port = free_port()
    process = serve(data_dir, port)
    elapsed = wait_ready(port, process)
    assert elapsed < READY_WITHIN_SECONDS
    created = httpx.post(
        f"http://127.0.0.1:{port}/v1/registrations",
        json={"registration_kind": "found", "names": [{"full_name": "Ayan Warsame"}]},
        headers=sign_in(data_dir, port),
    )
    assert created.status_code == 201
    workers = worker_processes(process.pid)
    assert len(workers) == 1, "serve starts one match worker by default"
    busy = serve(data_dir, free_port())
    output, _ = busy.communicate(timeout=60)
    assert busy.returncode == 1
    assert "in use by another kintrace process" in output
    returncode, output = stop(process)
    assert returncode == 0, output
    assert f'"request_id": "{created.headers["x-request-id"]}"' in output
    assert postgres_processes(data_dir) == []
    assert not psutil.pid_exists(process.pid)
    assert not any(worker.is_running() for worker in workers)


def worker_processes(serve_pid: int) -> list[psutil.Process]:
    """The match workers `serve` started."""
    children = psutil.Process(serve_pid).children()
    return [child for child in children if "worker" in child.cmdline()]


def wait_for_candidates(port: int, headers: dict[str, str]) -> list[dict[str, object]]:
    """Poll the review queue until the worker has proposed something (or 60 s pass)."""
    started = time.monotonic()
    while time.monotonic() - started < 60:
        listed = httpx.get(
            f"http://127.0.0.1:{port}/v1/candidate-links",
            headers={**headers, "Kintrace-Purpose": "review"},
        )
        assert listed.status_code == 200, listed.text
        if listed.json()["items"]:
            return list(listed.json()["items"])
        time.sleep(0.25)
    raise AssertionError("no candidate link was proposed")


@EMBEDDED_ONLY
def test_kill_9_then_restart_then_stop_leaves_nothing_behind(data_dir):
    """The worker serve started proposes the pair; kill -9 of serve takes the worker with it;
    the next serve adopts the orphaned PostgreSQL, serves the data, and stops cleanly."""
    port = free_port()
    first = serve(data_dir, port)
    wait_ready(port, first)
    headers = sign_in(data_dir, port)
    body = tracing_request(persons=[enquirer(), sought_person(**SOUGHT_MOTHER)])
    request = httpx.post(f"http://127.0.0.1:{port}/v1/tracing-requests", json=body, headers=headers)
    assert request.status_code == 201
    found = registration(**REGISTERED_MOTHER)
    created = httpx.post(f"http://127.0.0.1:{port}/v1/registrations", json=found, headers=headers)
    assert created.status_code == 201
    (link,) = wait_for_candidates(port, headers)
    assert link["kind"] == "sought_registration"
    workers = worker_processes(first.pid)
    first.kill()
    first.communicate(timeout=30)
    _, alive = psutil.wait_procs(workers, timeout=15)
    assert alive == [], "workers exit when their serve dies"
    assert postgres_processes(data_dir), "the orphaned server is still running"
    second = serve(data_dir, port)
    wait_ready(port, second)
    read = httpx.get(f"http://127.0.0.1:{port}/v1/persons/{created.json()['id']}", headers=headers)
    assert read.status_code == 200
    returncode, output = stop(second, signal.SIGTERM)
    assert returncode == 0, output
    assert postgres_processes(data_dir) == []


def test_unreachable_database_url_fails_fast_without_fallback(data_dir):
    process = serve(data_dir, free_port(), DATABASE_URL="postgresql://kintrace@127.0.0.1:1/x")
    started = time.monotonic()
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert time.monotonic() - started < 30
    assert "cannot reach the database at postgresql://kintrace@127.0.0.1:1/x" in output
    assert "never falls back" in output
    assert not (data_dir / "pgdata").exists()
    assert postgres_processes(data_dir) == []
