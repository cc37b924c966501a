"""`kintrace rematch`, `kintrace model evaluate` and `kintrace model recalibrate`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

import typer
from rich.progress import Progress, TaskID

from matching import Matcher
from service.candidates.calibration import (
    MIN_DECISIONS,
    NotEnoughDecisions,
    Recalibration,
    recalibrate,
)
from service.candidates.maintenance import BandReport, evaluate_society, rematch_society
from service.cli.admin import with_runtime
from service.runtime import Runtime
from service.societies import repository as societies

model_app = typer.Typer(help="The matching model and reviewers' decisions.", no_args_is_help=True)


async def society_ids(runtime: Runtime, code: str | None) -> list[tuple[uuid.UUID, str]]:
    async with runtime.sessions() as session:
        listed = await societies.all_codes(session)
    chosen = [(society_id, found) for society_id, found in listed if code in (None, found)]
    if code is not None and not chosen:
        raise typer.BadParameter(f"no society {code!r}", param_hint="--society")
    return chosen


def _advance(bar: Progress, task: TaskID) -> Callable[[int], None]:
    def advance(done: int) -> None:
        bar.update(task, completed=done)

    return advance


def rematch_command(
    society: Annotated[str | None, typer.Option(help="Only this society (default: all).")] = None,
    reindex: Annotated[
        bool,
        typer.Option(
            "--reindex", help="Compute every person's blocking keys again first (new key kinds)."
        ),
    ] = False,
) -> None:
    """Queue every open person for matching again (after a new model version or threshold).

    The running workers do the scoring; decided pairs stay decided. Safe to interrupt and rerun.
    After an upgrade that changes the blocking keys, run it once with `--reindex`.
    """

    async def work(runtime: Runtime) -> int:
        total = 0
        with Progress(transient=False) as bar:
            for society_id, code in await society_ids(runtime, society):
                task = bar.add_task(f"{'reindexing' if reindex else 'queueing'} {code}")
                total += await rematch_society(
                    runtime, society_id, _advance(bar, task), reindex=reindex
                )
        return total

    queued = with_runtime(work)
    typer.echo(f"{queued} person(s) queued for matching")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


@model_app.command("evaluate")
def evaluate_command(
    society: Annotated[str, typer.Option(help="The society whose decisions to read.")],
) -> None:
    """Precision and recall per probability band, from reviewers' decisions."""

    async def work(runtime: Runtime) -> list[BandReport]:
        ((society_id, _),) = await society_ids(runtime, society)
        return await evaluate_society(runtime, society_id)

    reports = with_runtime(work)
    typer.echo("band          confirmed  rejected  precision  recall_at_or_above")
    for report in reports:
        typer.echo(
            f"[{report.low:.2f}, {report.high:.2f}{']' if report.high >= 1 else ')'}"
            f"  {report.confirmed:>9}  {report.rejected:>8}  {_percent(report.precision):>9}"
            f"  {_percent(report.recall_at_or_above):>18}"
        )


@model_app.command("recalibrate")
def recalibrate_command(
    society: Annotated[str, typer.Option(help="The society whose decisions to fit.")],
    min_decisions: Annotated[
        int, typer.Option(min=1, help="Refuse with fewer decided links than this.")
    ] = MIN_DECISIONS,
) -> None:
    """Fit the probability of a match weight to reviewers' decisions: a new model version.

    New candidates of the society are scored with it at once; existing links keep their
    version until `kintrace rematch` rescores the open ones (decided pairs stay decided).
    Exit code 1 when there are too few decisions.
    """

    async def work(runtime: Runtime) -> Recalibration:
        ((society_id, _),) = await society_ids(runtime, society)
        async with runtime.tenant_session(society_id) as session:
            fitted = await recalibrate(session, society_id, Matcher(), min_decisions=min_decisions)
            await session.commit()
        return fitted

    try:
        fitted = with_runtime(work)
    except NotEnoughDecisions as err:
        typer.secho(f"kintrace: {err}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=1) from None
    typer.echo(
        f"model version {fitted.model_version}: fitted to {fitted.confirmed} confirmed and "
        f"{fitted.rejected} rejected link(s); logit(p) = {fitted.slope:.4f} * weight "
        f"{fitted.intercept:+.4f}"
    )
    typer.echo(
        f"log loss on those decisions: {fitted.loss_before:.4f} before, "
        f"{fitted.loss_after:.4f} now; run `kintrace rematch --society {society}` to rescore "
        "open candidates"
    )
