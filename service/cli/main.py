"""`kintrace serve | migrate | openapi | demo | societies | users | clients | keys | audit`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from service.candidates.processes import running_workers
from service.cli.admin import audit_app, clients_app, keys_app, societies_app, users_app
from service.cli.ingest import import_command
from service.cli.link import dedupe_command, link_command, train_command
from service.cli.matching import model_app, rematch_command
from service.cli.retention import retention_app
from service.db.embedded import EmbeddedDatabaseError
from service.observability import configure_logging
from service.runtime import Runtime, StartupError, open_runtime
from service.settings import Settings, get_settings

app = typer.Typer(
    name="kintrace",
    help="Kintrace: Restoring Family Links tracing requests and matching.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

OPENAPI_PATH = Path("openapi/openapi.json")


def _fail(message: str) -> typer.Exit:
    typer.secho(f"kintrace: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=1)


@contextlib.contextmanager
def _startup_errors() -> Iterator[None]:
    """Show the reasons the service cannot start as one clear line, not a traceback."""
    try:
        yield
    except (StartupError, EmbeddedDatabaseError) as err:
        raise _fail(str(err)) from None


class _Server(uvicorn.Server):
    """uvicorn re-raises the stop signal after its graceful shutdown; with SIGTERM that kills
    the process before the embedded database is stopped. We have already shut down, so the
    captured signals are consumed here instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


async def _serve(settings: Settings, host: str, port: int) -> None:
    from service.app import create_app

    async with open_runtime(settings, exclusive=True) as runtime:

        @contextlib.asynccontextmanager
        async def opened(_: Settings) -> AsyncIterator[Runtime]:
            with running_workers(settings.workers):
                yield runtime

        config = uvicorn.Config(
            create_app(settings, runtime_factory=opened),
            host=host,
            port=port,
            log_config=None,
            access_log=True,
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
        )
        await _Server(config).serve()


@app.command()
def serve(
    host: Annotated[
        str,
        typer.Option(envvar="KINTRACE_HOST", help="Address to bind (put TLS in front)."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="KINTRACE_PORT", help="TCP port.")] = 8000,
    migrate: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Apply pending migrations at start.")
    ] = True,
) -> None:
    """Run the API (and the embedded PostgreSQL when DATABASE_URL is unset)."""
    settings = get_settings().model_copy(update={"migrate_on_start": migrate})
    configure_logging(settings.log_level, settings.log_json)
    with _startup_errors():
        asyncio.run(_serve(settings, host, port))


@app.command()
def migrate() -> None:
    """Apply pending migrations to the configured (or embedded) database."""
    settings = get_settings().model_copy(update={"migrate_on_start": True})
    configure_logging(settings.log_level, settings.log_json)

    async def run() -> None:
        async with open_runtime(settings, exclusive=False):
            pass

    with _startup_errors():
        asyncio.run(run())
    typer.echo("migrations applied", err=True)


@app.command()
def openapi(
    out: Annotated[Path, typer.Option(help="Where to write the document.")] = OPENAPI_PATH,
) -> None:
    """Write the OpenAPI document (sorted keys, independent of settings)."""
    from service.app import openapi_document

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    typer.echo(f"wrote {out}", err=True)


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data set.")] = 2026,
    requests: Annotated[int, typer.Option(help="Tracing requests to create.")] = 300,
    registrations: Annotated[int, typer.Option(help="Registrations to create.")] = 400,
) -> None:
    """Load a realistic synthetic demo data set (several societies, many scripts)."""
    from service.cli.demo import load_demo

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    with _startup_errors():
        asyncio.run(load_demo(settings, seed, requests, registrations))


@app.command()
def worker(
    parent_pid: Annotated[
        int | None, typer.Option(help="Exit when this process (the starting serve) dies.")
    ] = None,
) -> None:
    """Take match jobs from the queue and store candidate links, until stopped."""
    from service.candidates.processes import die_with_parent

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    if settings.worker_niceness and hasattr(os, "nice"):
        os.nice(settings.worker_niceness)  # scoring is background work: requests go first
    if parent_pid is not None:
        die_with_parent()
    with _startup_errors():
        asyncio.run(_work(settings, parent_pid))


async def _work(settings: Settings, parent_pid: int | None) -> None:
    import signal

    from service.auth.keys import service_secret
    from service.candidates.processes import watch_parent
    from service.candidates.worker import work_forever
    from service.exchange.service import import_forever
    from service.runtime import open_database, tenant_sessions
    from service.societies import repository as societies
    from service.webhooks.outbox import deliver_forever

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with open_database(settings) as sessions:
        tenant = tenant_sessions(sessions, service_secret(settings))
        watcher = asyncio.create_task(watch_parent(parent_pid, stop)) if parent_pid else None

        async def society_codes() -> list[tuple[uuid.UUID, str]]:
            async with sessions() as session:
                return await societies.all_codes(session)

        await asyncio.gather(
            work_forever(
                sessions, tenant, settings.review_threshold, stop, minor_age=settings.minor_age
            ),
            deliver_forever(society_codes, tenant, settings, stop),
            import_forever(society_codes, tenant, stop),
        )
        if watcher is not None:
            await watcher


app.command("import")(import_command)
app.command("rematch")(rematch_command)
app.add_typer(model_app, name="model")
app.command("link")(link_command)
model_app.command("train")(train_command)
app.command("dedupe")(dedupe_command)
app.add_typer(societies_app, name="societies")
app.add_typer(users_app, name="users")
app.add_typer(clients_app, name="clients")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(retention_app, name="retention")


def main() -> None:
    """Entry point of the `kintrace` script."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
