"""Loading the synthetic demo data set through the same services as the API, with demo users."""

from __future__ import annotations

import secrets
import uuid

import typer
from rich.progress import Progress

from schemas.enums import Purpose, StaffRole
from service.audit import service as audit
from service.auth import admin
from service.auth.keys import service_secret
from service.auth.scopes import scopes_of
from service.demo.generator import generate_demo
from service.persons import service as persons
from service.persons.repository import has_registrations
from service.principal import Access, Principal, PrincipalKind
from service.runtime import Runtime, open_runtime
from service.settings import Settings
from service.tracing import service as tracing
from service.tracing.repository import reference_taken

DEMO_PRINCIPAL = "demo-loader"
DEMO_ROLES = (
    StaffRole.CASEWORKER,
    StaffRole.REVIEWER,
    StaffRole.SUPERVISOR,
    StaffRole.AUDITOR,
    StaffRole.DATA_PROTECTION_OFFICER,
)


async def load_demo(settings: Settings, seed: int, requests: int, registrations: int) -> None:
    """Create the demo societies, their records and users; records already loaded are skipped.

    Demo users get fresh random passwords on every run, printed once (local use only).
    """
    data = generate_demo(seed, requests_total=requests, registrations_total=registrations)
    total = sum(len(s.requests) + len(s.registrations) for s in data)
    async with open_runtime(settings, exclusive=False) as runtime:
        with Progress(transient=False) as progress:
            task = progress.add_task("loading demo data", total=total)
            for demo_society in data:
                society = await admin.create_society(
                    runtime.sessions, demo_society.code, demo_society.name
                )
                roles = frozenset({StaffRole.CASEWORKER.value})
                principal = Principal(
                    DEMO_PRINCIPAL,
                    PrincipalKind.USER,
                    society.id,
                    society.code,
                    roles,
                    scopes_of(roles),
                )
                created: list[uuid.UUID] = []
                async with runtime.tenant_session(society.id) as session:
                    for request in demo_society.requests:
                        reference = request.reference_number
                        if reference is None or not await reference_taken(
                            session, society.id, reference
                        ):
                            created.append((await tracing.create(session, principal, request)).id)
                        progress.advance(task)
                    if not await has_registrations(session, society.id):
                        for registration in demo_society.registrations:
                            record = await persons.create_registration(
                                session, principal, registration
                            )
                            created.append(record.id)
                            progress.advance(task)
                    else:
                        progress.advance(task, len(demo_society.registrations))
                    access = Access(principal, Purpose.IMPORT, None)
                    await audit.record(session, access, "demo.load", "tracing_request", created)
                    await session.commit()
        credentials = [await _demo_user(runtime, s.code, role) for s in data for role in DEMO_ROLES]
    typer.echo(f"demo data loaded: {len(data)} societies, {total} records", err=True)
    typer.echo("demo users (local use only; new passwords on every run):")
    for line in credentials:
        typer.echo(f"  {line}")


async def _demo_user(runtime: Runtime, society_code: str, role: StaffRole) -> str:
    """Create (or reset) one demo user and describe its credentials."""
    username = f"{role.value.replace('_', '-')}@{society_code}"
    password = secrets.token_urlsafe(12)
    try:
        created = await admin.create_user(
            runtime.sessions,
            society_code=society_code,
            username=username,
            roles=[role.value],
            password=password,
            service_secret=service_secret(runtime.settings),
        )
        totp = f"  totp secret {created.totp_secret}" if created.totp_secret else ""
    except admin.AdminError:
        await admin.set_password(runtime.sessions, username, password)
        totp = "  (totp secret unchanged)" if role == StaffRole.SUPERVISOR else ""
    return f"{username:<40} password {password}{totp}"
