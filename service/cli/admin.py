"""`kintrace societies | users | clients | keys | audit`: administration from the command line.

Passwords are read from standard input (never from argv, which other users of the machine can
see in the process list).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from service.audit import service as audit
from service.auth import admin
from service.auth.keys import rotate, service_secret
from service.db.embedded import EmbeddedDatabaseError
from service.db.engine import SessionFactory
from service.observability import configure_logging
from service.runtime import Runtime, StartupError, open_database, open_runtime
from service.settings import get_settings

T = TypeVar("T")

societies_app = typer.Typer(help="Manage societies.", no_args_is_help=True)
users_app = typer.Typer(help="Manage local user accounts.", no_args_is_help=True)
clients_app = typer.Typer(help="Manage partner API clients.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage the token signing keys.", no_args_is_help=True)
audit_app = typer.Typer(help="Seal and verify the audit trail.", no_args_is_help=True)


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's work; known failures are one red line and exit code 2."""
    try:
        return asyncio.run(work)
    except (admin.AdminError, StartupError, EmbeddedDatabaseError) as err:
        typer.secho(f"kintrace: {err}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None


def with_runtime(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Open the database (configured or embedded, as a guest of a running `serve`), run `work`."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)

    async def run() -> T:
        async with open_runtime(settings, exclusive=False) as runtime:
            return await work(runtime)

    return _run(run())


def with_database(work: Callable[[SessionFactory], Awaitable[T]]) -> T:
    """Like `with_runtime`, with sessions only (no signing keys, no secret needed)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)

    async def run() -> T:
        async with open_database(settings) as sessions:
            return await work(sessions)

    return _run(run())


def read_password(prompt: str) -> str:
    """One line from standard input (a terminal is prompted without echo)."""
    if sys.stdin.isatty():
        password: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=True)
        return password
    return sys.stdin.readline().rstrip("\n")


@societies_app.command("create")
def societies_create(
    code: Annotated[str, typer.Argument(help="Short code, e.g. `drk` (lower case).")],
    name: Annotated[str, typer.Option(help="Full name.")],
) -> None:
    """Create a society."""
    society = with_runtime(lambda rt: admin.create_society(rt.sessions, code, name))
    typer.echo(f"society {society.code} ({society.id})")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Login name (lower case).")],
    society: Annotated[str, typer.Option(help="Code of the user's society.")],
    role: Annotated[list[str], typer.Option(help="A role; repeat for several.")],
    display_name: Annotated[str | None, typer.Option(help="Name shown to colleagues.")] = None,
    totp: Annotated[
        bool, typer.Option("--totp/--no-totp", help="Enrol a TOTP second factor.")
    ] = False,
) -> None:
    """Create a user; the password is read from standard input."""
    password = read_password("Password")

    async def work(runtime: Runtime) -> admin.NewUser:
        return await admin.create_user(
            runtime.sessions,
            society_code=society,
            username=username,
            roles=role,
            password=password,
            service_secret=service_secret(runtime.settings),
            display_name=display_name,
            second_factor=totp,
        )

    created = with_runtime(work)
    typer.echo(f"user {created.user.username} ({created.user.id}) roles {created.user.roles}")
    if created.totp_uri:
        typer.echo(f"TOTP secret: {created.totp_secret}")
        typer.echo(f"TOTP URI (scan into an authenticator app): {created.totp_uri}")


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Disable a user at once: refresh tokens revoked, access tokens refused."""
    with_runtime(lambda rt: admin.disable_user(rt.sessions, username))
    typer.echo(f"user {username} disabled")


@users_app.command("set-password")
def users_set_password(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Replace a user's password (read from standard input) and unlock the account."""
    password = read_password("New password")
    with_runtime(lambda rt: admin.set_password(rt.sessions, username, password))
    typer.echo(f"password of {username} replaced")


@clients_app.command("create")
def clients_create(
    name: Annotated[str, typer.Argument(help="The partner system's name.")],
    society: Annotated[str, typer.Option(help="Code of the society the client acts for.")],
    jwks: Annotated[Path, typer.Option(help="JSON file with the client's public JWK Set.")],
    role: Annotated[list[str] | None, typer.Option(help="Roles (default: partner).")] = None,
    client_id: Annotated[str | None, typer.Option(help="Client id (default: generated).")] = None,
) -> None:
    """Register a partner client authenticating with `private_key_jwt`."""
    document = json.loads(jwks.read_text(encoding="utf-8"))

    async def work(runtime: Runtime) -> str:
        client = await admin.create_client(
            runtime.sessions,
            society_code=society,
            name=name,
            jwks=document,
            roles=role,
            client_id=client_id,
        )
        return client.client_id

    identifier = with_runtime(work)
    typer.echo(f"client_id {identifier}")
    typer.echo(f"assertion audience: {get_settings().token_endpoint}")


@clients_app.command("set-keys")
def clients_set_keys(
    client_id: Annotated[str, typer.Argument(help="The client's id.")],
    jwks: Annotated[Path, typer.Option(help="JSON file with the client's new public JWK Set.")],
) -> None:
    """Replace a client's public keys. To rotate without downtime, register the old and the new
    key together, let the partner switch to the new one, then register the new one alone."""
    document = json.loads(jwks.read_text(encoding="utf-8"))
    kids = with_runtime(lambda rt: admin.set_client_keys(rt.sessions, client_id, document))
    typer.echo(f"client {client_id} now accepts keys: {', '.join(kids)}")


@clients_app.command("disable")
def clients_disable(client_id: Annotated[str, typer.Argument(help="The client's id.")]) -> None:
    """Disable a partner client at once (new tokens refused, current ones refused)."""
    with_runtime(lambda rt: admin.disable_client(rt.sessions, client_id))
    typer.echo(f"client {client_id} disabled")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Sign new tokens with a new key; the old one stays published for the overlap window."""

    async def work(runtime: Runtime) -> str:
        settings = runtime.settings
        return await rotate(runtime.sessions, settings, service_secret(settings))

    kid = with_runtime(work)
    typer.echo(f"new signing key {kid}")


@audit_app.command("seal")
def audit_seal() -> None:
    """Chain every committed audit event now (the server does this continuously)."""
    count = with_database(audit.seal_all)
    typer.echo(f"{count} audit event(s) sealed")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute every society's chain; exit 1 naming the first altered or missing row (exit 2
    when the check itself could not run)."""
    reports = with_database(audit.verify_all)
    broken = False
    for report in reports:
        state = "intact" if report.intact else "BROKEN"
        typer.echo(
            f"{report.society_code}: {state}, {report.sealed} sealed, "
            f"{report.unsealed} awaiting the sealer"
        )
        for problem in report.problems:
            broken = True
            typer.echo(f"  {problem}")
    if broken:
        raise typer.Exit(code=1)
