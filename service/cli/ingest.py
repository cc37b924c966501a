"""`kintrace import FILE --society CODE`: bulk ingestion with progress and per-row reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from service.cli.admin import with_runtime
from service.ingest.formats import FILE_SUFFIXES
from service.ingest.run import ImportReport, import_file
from service.runtime import Runtime
from service.societies import repository as societies


def import_command(
    file: Annotated[Path, typer.Argument(help="A .csv or .jsonl file (see the README).")],
    society: Annotated[str, typer.Option(help="Code of the society the records belong to.")],
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Records per transaction.")
    ] = 500,
    report: Annotated[
        Path | None, typer.Option(help="Also write the rejected rows (`line N: reason`) here.")
    ] = None,
) -> None:
    """Load persons through the API's services, in batches; rerun the same file to resume.

    Exit code 0 when every record was imported, 1 when some rows were rejected (listed), 2 when
    the import could not run.
    """
    if not file.is_file():
        typer.secho(f"kintrace: no file {file}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2)
    if file.suffix.lower() not in FILE_SUFFIXES:
        typer.secho(
            f"kintrace: {file.name}: use a .csv or .jsonl file", err=True, fg=typer.colors.RED
        )
        raise typer.Exit(code=2)

    async def work(runtime: Runtime) -> ImportReport | None:
        async with runtime.sessions() as session:
            found = await societies.get_by_code(session, society)
        if found is None:
            return None
        with Progress(transient=False) as bar:
            task = bar.add_task(f"importing {file.name}", total=None)
            return await import_file(
                runtime,
                file,
                found.id,
                found.code,
                batch_size=batch_size,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )

    try:
        outcome = with_runtime(work)
    except UnicodeDecodeError as err:
        typer.secho(
            f"kintrace: {file.name} is not UTF-8 text ({err})", err=True, fg=typer.colors.RED
        )
        raise typer.Exit(code=2) from None
    if outcome is None:
        typer.secho(f"kintrace: no society {society!r}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2)
    for problem in outcome.problems:
        typer.echo(problem, err=True)
    if report is not None:
        report.write_text("".join(f"{problem}\n" for problem in outcome.problems), "utf-8")
    resumed = (
        f", {outcome.skipped_already_done} done before" if outcome.skipped_already_done else ""
    )
    typer.echo(
        f"{outcome.imported} record(s) imported, {outcome.failed} rejected "
        f"of {outcome.total}{resumed}"
    )
    if outcome.failed:
        raise typer.Exit(code=1)
