"""Files and processes of the `kintrace link` / `kintrace dedupe` contract (issue 3, item 7).

Input files: UTF-8, a header row, RFC 4180 quoting, the columns of `LINK_COLUMNS`. Output files:
`left_id, right_id, probability, match_weight, explanation`. `run_kintrace` runs the command as
a child process and measures its wall-clock time and peak resident memory.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

LINK_COLUMNS: tuple[str, ...] = (
    "id",
    "full_name",
    "given_name",
    "family_name",
    "father_name",
    "other_names",
    "sex",
    "birth_date",
    "birth_place",
    "nationality",
)
OUTPUT_COLUMNS: tuple[str, ...] = (
    "left_id",
    "right_id",
    "probability",
    "match_weight",
    "explanation",
)

ScoredPair = tuple[str, str, float]


@dataclass(frozen=True, slots=True)
class OutputPair:
    """One row of a `kintrace link` output file; `explanation` stays compact JSON text."""

    left_id: str
    right_id: str
    probability: float
    match_weight: float
    explanation: str


@dataclass(frozen=True, slots=True)
class TimedRun:
    """Exit status, wall-clock seconds and peak resident set size (bytes) of one child process."""

    returncode: int
    wall_seconds: float
    peak_rss_bytes: int


class KintraceMissingError(RuntimeError):
    """The installed `kintrace` has no such subcommand (yet)."""


class LinkCsvWriter:
    """Streams rows to a link-contract CSV; each row is a sequence in `LINK_COLUMNS` order."""

    def __init__(self, handle: TextIO) -> None:
        self._writer = csv.writer(handle, lineterminator="\r\n")
        self._writer.writerow(LINK_COLUMNS)
        self.rows = 0

    def write(self, row: Sequence[str]) -> None:
        """Write one row; `row` must have exactly one cell per column of `LINK_COLUMNS`."""
        if len(row) != len(LINK_COLUMNS):
            raise ValueError(f"expected {len(LINK_COLUMNS)} cells, got {len(row)}")
        self._writer.writerow(row)
        self.rows += 1


@contextmanager
def open_link_writer(path: Path) -> Iterator[LinkCsvWriter]:
    """Open `path` for writing a link-contract CSV (header written) and close it afterwards."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        yield LinkCsvWriter(handle)


def write_link_csv(path: Path, records: Iterable[Mapping[str, str]]) -> int:
    """Write `records` (dicts keyed by column; missing keys become empty) and return the count."""
    with open_link_writer(path) as writer:
        for record in records:
            unknown = set(record) - set(LINK_COLUMNS)
            if unknown:
                raise ValueError(f"unknown columns: {sorted(unknown)}")
            writer.write([record.get(column, "") or "" for column in LINK_COLUMNS])
        return writer.rows


def iter_link_csv(path: Path) -> Iterator[dict[str, str]]:
    """Yield the rows of a link-contract CSV as dicts (a byte-order mark is accepted)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "id" not in reader.fieldnames:
            raise ValueError(f"{path}: no header row with an `id` column")
        for row in reader:
            yield {column: row.get(column) or "" for column in LINK_COLUMNS}


def read_link_csv(path: Path) -> list[dict[str, str]]:
    """All rows of a link-contract CSV as dicts with every column of `LINK_COLUMNS`."""
    return list(iter_link_csv(path))


def iter_output(path: Path) -> Iterator[OutputPair]:
    """Yield the rows of a `kintrace link` / `dedupe` output file."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(OUTPUT_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: output lacks columns {sorted(missing)}")
        for row in reader:
            yield OutputPair(
                row["left_id"],
                row["right_id"],
                float(row["probability"]),
                float(row["match_weight"]),
                row["explanation"],
            )


def read_scored_pairs(path: Path) -> list[ScoredPair]:
    """`(left_id, right_id, probability)` of every output row (explanations are not kept)."""
    return [(row.left_id, row.right_id, row.probability) for row in iter_output(path)]


def kintrace_command() -> list[str]:
    """How to start `kintrace`: the console script of the running environment when there is one
    (what `uv run kintrace` starts, without a second uv lock and sync inside the timing), else
    `uv run kintrace`. `KINTRACE_CMD` (split on spaces) overrides both."""
    override = os.environ.get("KINTRACE_CMD")
    if override:
        return override.split()
    script = Path(sys.executable).parent / "kintrace"
    if script.exists():
        return [str(script)]
    uv = shutil.which("uv") or "uv"
    return [uv, "run", "kintrace"]


def kintrace_help(subcommand: str) -> str | None:
    """The `--help` text of `kintrace SUBCOMMAND`, or None when the subcommand does not exist."""
    try:
        done = subprocess.run(
            [*kintrace_command(), subcommand, "--help"],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def threshold_from_help(help_text: str) -> float | None:
    """The default of `--threshold` as printed by `--help` (`[default: 0.8]`), if shown."""
    match = re.search(r"--threshold\b.*?\[default:\s*([0-9.]+)\]", help_text, re.DOTALL)
    return float(match.group(1)) if match else None


def default_review_threshold(help_text: str | None) -> float | None:
    """`matching.DEFAULT_REVIEW_THRESHOLD` when the engine exports it, else the CLI's default."""
    import matching

    value = getattr(matching, "DEFAULT_REVIEW_THRESHOLD", None)
    if value is not None:
        return float(value)
    return threshold_from_help(help_text) if help_text else None


def run_timed(command: Sequence[str], **popen: Any) -> TimedRun:
    """Run `command` to completion; wall time and the peak RSS of the child (and any processes
    it waited for), read from `os.wait4` so earlier children do not count."""
    start = time.perf_counter()
    process = subprocess.Popen(list(command), **popen)
    try:
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:
        process.kill()
        process.wait()
        raise
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in kilobytes on Linux.
    return TimedRun(process.returncode, wall, int(usage.ru_maxrss) * 1024)


def kintrace_args(
    subcommand: str,
    inputs: Sequence[Path],
    out: Path,
    *,
    threshold: float | None,
    top: int | None,
    extra: Sequence[str] = (),
) -> list[str]:
    """The exact command line of the contract: `kintrace link L R --out P [--threshold] [--top]`
    (`extra`: further options, such as `--model`)."""
    args = [*kintrace_command(), subcommand, *map(str, inputs), "--out", str(out), *extra]
    if threshold is not None:
        args += ["--threshold", f"{threshold:g}"]
    if top is not None:
        args += ["--top", str(top)]
    return args


def run_kintrace(
    subcommand: str,
    inputs: Sequence[Path],
    out: Path,
    *,
    threshold: float | None = 0.0,
    top: int | None = None,
    extra: Sequence[str] = (),
) -> tuple[TimedRun, list[ScoredPair]]:
    """Run `kintrace link|dedupe` (progress goes to our stderr) and return its timing and pairs.

    Raises `KintraceMissingError` when the subcommand does not exist and `RuntimeError` when it
    fails.
    """
    if kintrace_help(subcommand) is None:
        raise KintraceMissingError(f"`kintrace {subcommand}` is not available")
    out.parent.mkdir(parents=True, exist_ok=True)
    command = kintrace_args(subcommand, inputs, out, threshold=threshold, top=top, extra=extra)
    run = run_timed(command)
    if run.returncode != 0:
        raise RuntimeError(f"`kintrace {subcommand}` exited with status {run.returncode}")
    return run, read_scored_pairs(out)


def missing_kintrace_message(subcommand: str) -> str:
    """The message every benchmark prints when the engine's command has not landed yet."""
    return (
        f"\nKINTRACE NOT RUN: `kintrace {subcommand}` is not available in this checkout "
        f"(command tried: {' '.join(kintrace_command())} {subcommand} --help).\n"
        "The baselines above are complete; the Kintrace figures need `kintrace "
        f"{subcommand}` (issue 3, item 7)."
    )


def train_kintrace_model(inputs: Sequence[Path], out: Path) -> TimedRun:
    """`kintrace model train L [R] --out MODEL`: EM on the unlabelled records to be linked."""
    out.parent.mkdir(parents=True, exist_ok=True)
    run = run_timed([*kintrace_command(), "model", "train", *map(str, inputs), "--out", str(out)])
    if run.returncode != 0:
        raise RuntimeError(f"`kintrace model train` exited with status {run.returncode}")
    return run
