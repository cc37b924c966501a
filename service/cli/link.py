"""`kintrace link` and `kintrace dedupe`: bulk linkage of CSV files with the matching engine."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from matching import (
    BULK_CANDIDATES,
    DEFAULT_REVIEW_THRESHOLD,
    Matcher,
    Model,
    load_model,
    train_model,
    with_record_frequencies,
)
from service.linkage import run
from service.linkage.csvfile import ReadResult, UnreadableFile, read_records, write_pairs

ThresholdOption = Annotated[
    float,
    typer.Option(
        min=0.0,
        max=1.0,
        help="Keep pairs at or above this probability (0 keeps everything blocking found).",
    ),
]
TopOption = Annotated[
    int | None, typer.Option(min=1, help="At most K pairs per left record, best first.")
]
OutOption = Annotated[Path, typer.Option("--out", help="Where to write the pairs (CSV).")]
TablesOption = Annotated[
    bool,
    typer.Option(
        "--wikidata-tables/--no-wikidata-tables",
        help="Use the name tables learned from Wikidata (romanisation model, name frequencies); "
        "off only to measure what they add.",
    ),
]


ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model",
        help="A model file written by `kintrace model train` (default: the shipped model).",
    ),
]


def _read_model(path: Path | None) -> Model | None:
    if path is None:
        return None
    try:
        return load_model(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as err:
        typer.echo(f"kintrace: cannot read the model {path}: {err}", err=True)
        raise typer.Exit(code=2) from None


def _matcher(tables: bool, model: Path | None = None) -> Matcher:
    return Matcher(_read_model(model), use_name_model=tables, use_name_frequencies=tables)


stderr = Console(stderr=True, soft_wrap=True)


def _load(path: Path) -> ReadResult:
    try:
        result = read_records(path)
    except UnreadableFile as err:
        typer.echo(f"kintrace: cannot read {err}", err=True)
        raise typer.Exit(code=2) from None
    for report in result.reports:
        typer.echo(f"{path.name}: {report}", err=True)
    if not result.records:
        typer.echo(f"kintrace: {path} has no usable row", err=True)
        raise typer.Exit(code=2)
    return result


class _Stages:
    """A progress bar per stage on a terminal, else a line of stderr per 10,000 steps."""

    def __init__(self, bar: Progress, label: str, total: int) -> None:
        self.bar, self.label, self.total, self.done = bar, label, total, 0
        self.task = bar.add_task(label, total=total)

    def advance(self, count: int) -> None:
        before, self.done = self.done, self.done + count
        self.bar.advance(self.task, count)
        if not sys.stderr.isatty() and self.done // 10_000 > before // 10_000:
            typer.echo(f"{self.label}: {self.done}/{self.total}", err=True)

    def stage(self, label: str, total: int) -> None:
        if label == self.label and not self.done:
            self.bar.update(self.task, total=total)
        else:
            self.task = self.bar.add_task(label, total=total)
        self.label, self.total, self.done = label, total, 0
        if not sys.stderr.isatty():
            typer.echo(f"{label}: {total} to do", err=True)


@contextlib.contextmanager
def _progress(label: str, total: int) -> Iterator[_Stages]:
    with Progress(console=stderr, transient=False, disable=not sys.stderr.isatty()) as bar:
        yield _Stages(bar, label, total)


def link_command(
    left: Annotated[Path, typer.Argument(help="Records to find (CSV).")],
    right: Annotated[Path, typer.Argument(help="Records to search among (CSV).")],
    out: OutOption,
    threshold: ThresholdOption = DEFAULT_REVIEW_THRESHOLD,
    top: TopOption = None,
    wikidata_tables: TablesOption = True,
    model: ModelOption = None,
) -> None:
    """Match every record of LEFT against RIGHT and write the candidate pairs."""
    lefts, rights = _load(left).records, _load(right).records
    matcher = _matcher(wikidata_tables, model)
    with (
        out.open("w", encoding="utf-8", newline="") as handle,
        _progress("linking", len(lefts)) as stages,
    ):
        pairs = run.link(
            lefts, rights, matcher, threshold=threshold, top=top, progress=stages.advance
        )
        written = write_pairs(handle, pairs)
    typer.echo(f"{written} pairs written to {out}", err=True)


def dedupe_command(
    file: Annotated[Path, typer.Argument(help="Records to deduplicate (CSV).")],
    out: OutOption,
    threshold: ThresholdOption = DEFAULT_REVIEW_THRESHOLD,
    top: TopOption = None,
    wikidata_tables: TablesOption = True,
    model: ModelOption = None,
    candidates: Annotated[
        int,
        typer.Option(
            min=1,
            help="Partners each record keeps from blocking's pre-ranking for the engine to score "
            "(a pair is scored when either record kept it).",
        ),
    ] = BULK_CANDIDATES,
    jobs: Annotated[
        int | None, typer.Option(min=1, help="Scoring processes (default: one per core).")
    ] = None,
) -> None:
    """Find the records of FILE that may be the same person; each pair once."""
    records = _load(file).records
    matcher = _matcher(wikidata_tables, model)
    with _progress("preparing", len(records)) as stages:
        pairs = run.dedupe(
            records,
            matcher,
            threshold=threshold,
            top=top,
            candidates=candidates,
            jobs=jobs or os.cpu_count() or 1,
            progress=stages.advance,
            stage=stages.stage,
        )
    with out.open("w", encoding="utf-8", newline="") as handle:
        written = write_pairs(handle, pairs)
    typer.echo(f"{written} pairs written to {out}", err=True)


def train_command(
    left: Annotated[Path, typer.Argument(help="Records to be linked (CSV).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the model (JSON).")],
    right: Annotated[
        Path | None, typer.Argument(help="Records LEFT is to be linked with (default: itself).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random pairs u is estimated on.")] = 1,
    wikidata_tables: TablesOption = True,
    parameters: Annotated[
        bool,
        typer.Option(
            "--parameters/--no-parameters",
            help="Estimate m and u (EM); --no-parameters keeps the shipped ones.",
        ),
    ] = True,
    frequencies: Annotated[
        bool,
        typer.Option(
            "--frequencies/--no-frequencies",
            help="Also take the name-part frequencies from the records (instead of the "
            "shipped Wikidata table): a name common in these records is weak evidence.",
        ),
    ] = False,
) -> None:
    """Estimate the model on the records to be linked, unlabelled: m and u by EM (as Splink),
    and with `--frequencies` the name-part frequencies.

    Pass the file to `kintrace link` or `kintrace dedupe` with `--model`. The prior stays the
    shipped model's, so a probability keeps its meaning; nothing is read but the records.
    """
    if not parameters and not frequencies:
        typer.echo("kintrace: nothing to train (--no-parameters without --frequencies)", err=True)
        raise typer.Exit(2)
    lefts = _load(left).records
    rights = None if right is None else _load(right).records
    matcher = _matcher(wikidata_tables)
    model = matcher.model
    if parameters:
        typer.echo("training: comparing random and blocked pairs ...", err=True)
        model = train_model(lefts, rights, seed=seed, matcher=matcher).model
    if frequencies:
        typer.echo("training: counting name parts ...", err=True)
        model = with_record_frequencies(model, [*lefts, *(rights or [])], matcher)
    out.write_text(json.dumps(model.to_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")
    typer.echo(model.description, err=True)
    for line in model.weight_lines():
        typer.echo(f"  {line}", err=True)
    typer.echo(f"model {model.version} written to {out}", err=True)
