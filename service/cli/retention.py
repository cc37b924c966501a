"""`kintrace retention run` and `kintrace retention policy`."""

from __future__ import annotations

import datetime
from typing import Annotated

import typer

from service.cli.admin import with_runtime
from service.cli.matching import society_ids
from service.rights import retention
from service.rights import retention_repository as policies
from service.runtime import Runtime

DEFAULT = policies.Policy()

retention_app = typer.Typer(
    help="Keep cases no longer than the society's policy allows.", no_args_is_help=True
)


@retention_app.command("run")
def run_command(
    society: Annotated[str | None, typer.Option(help="Only this society (default: all).")] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Erase or archive what is due (default: report).")
    ] = False,
    today: Annotated[str | None, typer.Option(help="Take this date (YYYY-MM-DD) as today.")] = None,
) -> None:
    """Report, or with --apply erase or archive, what each society's retention policy makes
    due: closed requests past their review date, registrations past their retention period.
    Open requests due for review are only reported."""
    day = datetime.date.fromisoformat(today) if today else datetime.date.today()

    async def work(runtime: Runtime) -> list[tuple[str, retention.RetentionReport]]:
        reports = []
        for society_id, code in await society_ids(runtime, society):
            async with runtime.tenant_session(society_id) as session:
                report = await retention.run(session, society_id, day, apply=apply)
                await session.commit()
            reports.append((code, report))
        return reports

    for code, report in with_runtime(work):
        verb = f"{report.action}d"  # erased, archived
        done = verb if report.applied else f"due to be {verb}"
        typer.echo(f"{code} ({day}, {'applied' if report.applied else 'dry run'}):")
        typer.echo(f"  closed requests {done}: {len(report.closed_requests)}")
        for reference in report.closed_requests:
            typer.echo(f"    {reference}")
        typer.echo(f"  registrations {done}: {len(report.registrations)}")
        typer.echo(f"  open requests due for review: {len(report.open_requests_to_review)}")
        for reference in report.open_requests_to_review:
            typer.echo(f"    {reference}")
        if report.applied:
            typer.echo(f"  persons erased: {report.persons_erased}")


@retention_app.command("policy")
def policy_command(
    society: Annotated[str, typer.Option(help="The society whose policy to set.")],
    open_review_days: Annotated[int, typer.Option(min=1)] = DEFAULT.open_review_days,
    closed_retention_days: Annotated[int, typer.Option(min=0)] = DEFAULT.closed_retention_days,
    registration_retention_days: Annotated[
        int, typer.Option(min=1)
    ] = DEFAULT.registration_retention_days,
    closed_action: Annotated[
        str, typer.Option(help="`erase` or `archive` what is due.")
    ] = DEFAULT.closed_action,
) -> None:
    """Set a society's retention policy (review dates already given keep their value)."""
    if closed_action not in ("erase", "archive"):
        raise typer.BadParameter("`erase` or `archive`", param_hint="--closed-action")
    chosen = policies.Policy(
        open_review_days, closed_retention_days, registration_retention_days, closed_action
    )

    async def work(runtime: Runtime) -> None:
        ((society_id, _),) = await society_ids(runtime, society)
        async with runtime.tenant_session(society_id) as session:
            await policies.save_policy(session, society_id, chosen)
            await session.commit()

    with_runtime(work)
    typer.echo(f"{society}: {chosen}")
