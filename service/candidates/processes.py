"""Worker processes: `kintrace worker`, and the workers `serve` starts and stops with itself.

A worker started by `serve` exits when its parent dies: Linux delivers SIGTERM to it (parent-death
signal), and it also checks every second that its parent is still the one that started it. A new
`serve` kills workers left behind by a parent that no longer exists (found by command line).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import psutil
import structlog

log = structlog.get_logger("kintrace.worker")

PARENT_FLAG = "--parent-pid"
_PR_SET_PDEATHSIG = 1


def worker_command(parent_pid: int) -> list[str]:
    """The command line of a worker started by `serve`."""
    return [sys.executable, "-m", "service.cli", "worker", PARENT_FLAG, str(parent_pid)]


def die_with_parent() -> None:
    """Ask Linux to send SIGTERM to this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


async def watch_parent(parent_pid: int, stop: asyncio.Event) -> None:
    """Set `stop` as soon as the process is no longer the child of `parent_pid`."""
    while not stop.is_set():
        if os.getppid() != parent_pid:
            log.warning("parent gone, worker stopping", parent=parent_pid)
            stop.set()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


def _orphaned_workers() -> Iterator[psutil.Process]:
    for process in psutil.process_iter(["pid", "cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if "service.cli" not in cmdline or "worker" not in cmdline or PARENT_FLAG not in cmdline:
            continue
        try:
            parent = int(cmdline[cmdline.index(PARENT_FLAG) + 1])
        except (IndexError, ValueError):
            continue
        if not psutil.pid_exists(parent) or process.ppid() != parent:
            yield process


def kill_orphaned_workers() -> int:
    """Stop workers whose `serve` is gone; the number stopped."""
    stopped = 0
    for process in _orphaned_workers():
        with contextlib.suppress(psutil.Error):
            process.terminate()
            try:
                process.wait(timeout=10)
            except psutil.TimeoutExpired:
                process.kill()
            stopped += 1
            log.warning("orphaned worker stopped", pid=process.pid)
    return stopped


@contextlib.contextmanager
def running_workers(count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start `count` workers as children of this process; stop them at the end."""
    kill_orphaned_workers()
    children = [subprocess.Popen(worker_command(os.getpid())) for _ in range(count)]
    if children:
        log.info("match workers started", pids=[child.pid for child in children])
    try:
        yield children
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
