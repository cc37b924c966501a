"""Reading person records from the linkage CSV contract and writing scored pairs.

Input: UTF-8 (a byte-order mark is accepted), a header row, RFC 4180 quoting; the columns
`id, full_name, given_name, family_name, father_name, other_names, sex, birth_date, birth_place,
nationality`, all optional but `id`; unknown columns are ignored with one warning. A bad value
becomes missing and is reported; a row without `id` is skipped and reported. Reports are
`line N: reason`, N counting physical lines (the header is line 1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from matching import Comparison, FuzzyDateError, PersonName, PersonRecord, parse_fuzzy_date

COLUMNS = (
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
OUTPUT_COLUMNS = ("left_id", "right_id", "probability", "match_weight", "explanation")
SEXES = {"m": "M", "male": "M", "f": "F", "female": "F", "x": "X"}


class UnreadableFile(Exception):
    """The file cannot be read as the CSV contract (missing, not UTF-8, no `id` column)."""


@dataclass(slots=True)
class ReadResult:
    """Records in file order, and the problems found on the way."""

    records: list[PersonRecord] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)


def _cell(row: dict[str, str | None], column: str) -> str | None:
    value = row.get(column)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _names(row: dict[str, str | None]) -> tuple[PersonName, ...]:
    primary = PersonName(
        full=_cell(row, "full_name") or "",
        given=_cell(row, "given_name"),
        family=_cell(row, "family_name"),
        father=_cell(row, "father_name"),
    )
    names = [] if primary.is_empty() else [primary]
    aliases = _cell(row, "other_names")
    if aliases:
        names += [PersonName(full=alias.strip()) for alias in aliases.split("|") if alias.strip()]
    return tuple(names)


def _record(row: dict[str, str | None], line: int, reports: list[str]) -> PersonRecord | None:
    identifier = _cell(row, "id")
    if identifier is None:
        reports.append(f"line {line}: no id, row skipped")
        return None
    sex_text = _cell(row, "sex")
    sex = SEXES.get(sex_text.casefold()) if sex_text else None
    if sex_text and sex is None:
        reports.append(f"line {line}: sex {sex_text!r} not understood, treated as missing")
    birth_text = _cell(row, "birth_date")
    birth_date = None
    if birth_text:
        try:
            birth_date = parse_fuzzy_date(birth_text)
        except FuzzyDateError as err:
            reports.append(f"line {line}: birth_date {birth_text!r}: {err}; treated as missing")
    return PersonRecord(
        id=identifier,
        names=_names(row),
        sex=sex,
        birth_date=birth_date,
        birth_place=_cell(row, "birth_place"),
        nationality=_cell(row, "nationality"),
        father_name=_cell(row, "father_name"),
    )


def read_records(path: Path) -> ReadResult:
    """Read a linkage CSV; raises `UnreadableFile` when the file itself cannot be used."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise UnreadableFile(f"{path}: {err}") from err
    return read_text(text, str(path))


def read_text(text: str, name: str = "<input>") -> ReadResult:
    """Parse the CSV contract from text (see the module docstring)."""
    lines = io.StringIO(text, newline="")
    reader = csv.DictReader(lines, strict=True)
    try:
        header = reader.fieldnames
    except csv.Error as err:
        raise UnreadableFile(f"{name}: {err}") from err
    if not header or "id" not in [column.strip() for column in header]:
        raise UnreadableFile(f"{name}: no header row with an `id` column")
    result = ReadResult()
    unknown = [column for column in header if column.strip() not in COLUMNS]
    if unknown:
        result.reports.append(f"line 1: unknown columns ignored: {', '.join(unknown)}")
    reader.fieldnames = [column.strip() for column in header]
    previous_end = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            result.reports.append(f"line {previous_end + 1}: {err}; row skipped")
            previous_end = reader.line_num
            continue
        line = previous_end + 1
        previous_end = reader.line_num
        if None in row:
            result.reports.append(f"line {line}: more cells than columns; extra cells ignored")
        record = _record(row, line, result.reports)
        if record is not None:
            result.records.append(record)
    return result


def write_pairs(out: TextIO, comparisons: Iterable[Comparison]) -> int:
    """Write scored pairs in the output contract; returns how many rows were written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    written = 0
    for comparison in comparisons:
        writer.writerow(
            (
                comparison.left_id,
                comparison.right_id,
                f"{comparison.probability:.6f}",
                f"{comparison.match_weight:.3f}",
                comparison.explanation_json(),
            )
        )
        written += 1
    return written


def iter_pairs(path: Path) -> Iterator[dict[str, str]]:
    """Read back an output file (used by benchmarks and tests)."""
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)
