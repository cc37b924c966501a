"""Loading the synthetic demo data set through the same services as the API."""

from __future__ import annotations

import typer
from rich.progress import Progress

from service.demo.generator import generate_demo
from service.persons import service as persons
from service.persons.repository import has_registrations
from service.principal import Principal
from service.runtime import open_runtime
from service.settings import Settings
from service.societies import repository as societies
from service.tracing import service as tracing
from service.tracing.repository import reference_taken

DEMO_PRINCIPAL = "demo-loader"


async def load_demo(settings: Settings, seed: int, requests: int, registrations: int) -> None:
    """Create the demo societies and their records; records already loaded are skipped."""
    data = generate_demo(seed, requests_total=requests, registrations_total=registrations)
    total = sum(len(s.requests) + len(s.registrations) for s in data)
    async with open_runtime(settings, exclusive=False) as runtime:
        with Progress(transient=False) as progress:
            task = progress.add_task("loading demo data", total=total)
            for demo_society in data:
                async with runtime.sessions() as session:
                    society = await societies.get_or_create(
                        session, code=demo_society.code, name=demo_society.name
                    )
                    principal = Principal(DEMO_PRINCIPAL, society.id, society.code)
                    for request in demo_society.requests:
                        reference = request.reference_number
                        if reference is None or not await reference_taken(
                            session, society.id, reference
                        ):
                            await tracing.create(session, principal, request)
                        progress.advance(task)
                    if not await has_registrations(session, society.id):
                        for registration in demo_society.registrations:
                            await persons.create_registration(session, principal, registration)
                            progress.advance(task)
                    else:
                        progress.advance(task, len(demo_society.registrations))
                    await session.commit()
    typer.echo(f"demo data loaded: {len(data)} societies, {total} records", err=True)
