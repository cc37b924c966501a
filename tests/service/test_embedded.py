"""The embedded PostgreSQL: ownership of a data directory, adoption after a crash."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from service.db.embedded import DataDirectoryBusy, EmbeddedServer


@pytest.fixture
def data_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="kintrace-embedded-"))
    folder.chmod(0o755)
    yield folder
    for process in postgres_processes(folder):
        process.kill()
    shutil.rmtree(folder, ignore_errors=True)


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    """Processes whose command line names the data directory (the postmaster, via -D)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(data_dir) in cmdline:
            found.append(process)
    return found


def test_second_owner_is_refused_and_a_guest_attaches(data_dir):
    owner = EmbeddedServer(data_dir)
    running = owner.start(exclusive=True)
    try:
        with pytest.raises(DataDirectoryBusy, match="in use by another kintrace process"):
            EmbeddedServer(data_dir).start(exclusive=True)
        guest = EmbeddedServer(data_dir)
        assert guest.start(exclusive=False) == running
        assert not guest.owner
        guest.stop()
        assert postgres_processes(data_dir), "a guest must not stop the owner's server"
    finally:
        owner.stop()
    assert postgres_processes(data_dir) == []


def test_a_server_left_by_a_dead_owner_is_adopted_and_stopped(data_dir):
    first = EmbeddedServer(data_dir)
    running = first.start(exclusive=True)
    first._lock.close()  # the owner dies without stopping its server: the kernel drops the lock
    first._lock = None
    second = EmbeddedServer(data_dir)
    assert second.start(exclusive=True) == running
    assert second.owner
    second.stop()
    assert postgres_processes(data_dir) == []
