"""Reading import files into the API's own request models, one item per record.

JSON Lines: one object per line, `{"type": "registration", ...}` with the fields of
`POST /v1/registrations`, or `{"type": "tracing_request", ...}` with those of
`POST /v1/tracing-requests`.

CSV: the `kintrace link` columns (`id, full_name, given_name, family_name, father_name,
other_names, sex, birth_date, birth_place, nationality`) plus `record_type` (`registration`,
the default, `enquirer` or `sought_person`), `registration_kind` (default `found`),
`registration_source`, `registration_date`, `mother_name`, `last_known_place`, `request_ref`
(the rows sharing it form one tracing request, in the order of their first row) and
`relationship_to_enquirer`. Items come in a fixed order for a given file (a CSV's
registrations in file order, then its tracing requests), so an import can resume at an item
number; they are streamed, so a file of millions of records is never held in memory whole.

A row that cannot become a valid item is reported (`line N: reason`) and skipped.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schemas.persons import RegistrationCreate
from schemas.tracing import TracingRequestCreate

Item = RegistrationCreate | TracingRequestCreate
SEXES = {"m": "male", "male": "male", "f": "female", "female": "female", "x": "other"}


@dataclass(frozen=True, slots=True)
class Parsed:
    """One item of a file (or the reason its line could not become one)."""

    line: int
    item: Item | None
    problem: str | None = None
    external_id: str | None = None


def _validation_problem(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "record"
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


def read_jsonl(path: Path) -> Iterator[Parsed]:
    """Items of a JSON Lines file, in file order."""
    with path.open(encoding="utf-8-sig") as lines:
        yield from parse_jsonl(lines)


def parse_jsonl(lines: Iterable[str]) -> Iterator[Parsed]:
    """Items of JSON Lines text: each line an object with `type` (`registration` or
    `tracing_request`), an optional `external_id` (the sender's own id of the record) and the
    record's fields, as the API takes them."""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        external_id = None
        try:
            document = json.loads(text)
            if not isinstance(document, dict):
                raise ValueError("a line must be a JSON object")
            external_id = _external_id(document.pop("external_id", None))
            kind = document.pop("type", None)
            model: type[Item]
            if kind == "registration":
                model = RegistrationCreate
            elif kind == "tracing_request":
                model = TracingRequestCreate
            else:
                raise ValueError('`type` must be "registration" or "tracing_request"')
            yield Parsed(number, model.model_validate(document), external_id=external_id)
        except ValidationError as err:
            yield Parsed(number, None, _validation_problem(err), external_id)
        except ValueError as err:
            yield Parsed(number, None, str(err), external_id)


def _external_id(value: Any) -> str | None:
    """A sender's id of a record: text of 1 to 200 printable characters, or absent."""
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= 200 or not value.isprintable():
        raise ValueError("`external_id` must be text of 1 to 200 printable characters")
    return value


def _cell(row: dict[str, str | None], column: str) -> str | None:
    value = (row.get(column) or "").strip()
    return value or None


def _person(row: dict[str, str | None]) -> dict[str, Any]:
    """The person fields of a CSV row as a request body (validated by the caller's model)."""
    parts = {
        key: _cell(row, column)
        for key, column in (
            ("given", "given_name"),
            ("family", "family_name"),
            ("father", "father_name"),
        )
        if _cell(row, column)
    }
    names: list[dict[str, Any]] = []
    if _cell(row, "full_name") or parts:
        names.append({"full_name": _cell(row, "full_name"), **({"parts": parts} if parts else {})})
    for alias in (_cell(row, "other_names") or "").split("|"):
        if alias.strip():
            names.append({"kind": "alias", "full_name": alias.strip()})
    person: dict[str, Any] = {"names": names}
    sex = _cell(row, "sex")
    if sex:
        person["sex"] = SEXES.get(sex.casefold(), sex)
    if _cell(row, "birth_date"):
        person["birth_date"] = {"text": _cell(row, "birth_date")}
    for column in ("birth_place", "last_known_place"):
        if _cell(row, column):
            person[column] = {"text": _cell(row, column)}
    nationality = _cell(row, "nationality")
    if nationality:
        person["nationalities"] = [nationality.upper()]
    for column in ("father_name", "mother_name"):
        if _cell(row, column):
            person[column] = _cell(row, column)
    return person


def read_csv(path: Path) -> Iterator[Parsed]:
    """Items of a CSV file, streamed (see `parse_csv`)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from parse_csv(handle)


def parse_csv(handle: Iterable[str]) -> Iterator[Parsed]:
    """Items of CSV text, streamed: registrations (and rows that cannot become an item) in
    file order, then the tracing requests, in the order of their first row (a request is
    complete only at the end of the file). Only request rows are held in memory. A
    registration's `external_id` column, and a request's `request_ref`, are the sender's ids."""
    requests: dict[str, tuple[int, list[dict[str, Any]]]] = {}
    reader = csv.DictReader(handle)
    for row in reader:
        number = reader.line_num
        kind = _cell(row, "record_type") or "registration"
        person = _person(row)
        if kind == "registration":
            body = {
                **person,
                "registration_kind": _cell(row, "registration_kind") or "found",
                **{
                    column: _cell(row, column)
                    for column in ("registration_source", "registration_date")
                    if _cell(row, column)
                },
            }
            yield _validated(number, RegistrationCreate, body, _cell(row, "external_id"))
        elif kind in ("enquirer", "sought_person"):
            reference = _cell(row, "request_ref")
            if reference is None:
                yield Parsed(number, None, "request_ref is missing")
                continue
            person["role"] = kind
            relationship = _cell(row, "relationship_to_enquirer")
            if relationship:
                person["relationship_to_enquirer"] = relationship
            requests.setdefault(reference, (number, []))[1].append(person)
        else:
            problem = f"record_type {kind!r} is not registration, enquirer or sought_person"
            yield Parsed(number, None, problem)
    for reference, (number, persons) in requests.items():
        yield _validated(number, TracingRequestCreate, {"persons": persons}, reference)


def count_csv_items(path: Path) -> int:
    """How many items `read_csv` yields, without validating them (for progress)."""
    count = 0
    references: set[str] = set()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            kind = _cell(row, "record_type") or "registration"
            reference = _cell(row, "request_ref")
            if kind in ("enquirer", "sought_person") and reference is not None:
                references.add(reference)
            else:
                count += 1
    return count + len(references)


def _validated(
    number: int, model: type[Item], body: dict[str, Any], external_id: str | None = None
) -> Parsed:
    try:
        return Parsed(number, model.model_validate(body), external_id=external_id)
    except ValidationError as err:
        return Parsed(number, None, _validation_problem(err), external_id)


FILE_SUFFIXES = (".jsonl", ".ndjson", ".csv")


def iter_items(path: Path) -> Iterator[Parsed]:
    """Every item of a file, streamed, by its extension (`.jsonl`/`.ndjson` or `.csv`)."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return read_jsonl(path)
    if path.suffix.lower() == ".csv":
        return read_csv(path)
    raise ValueError(f"{path.name}: use a .csv or .jsonl file")


def count_items(path: Path) -> int:
    """How many items `iter_items` yields (a cheap first pass, for progress)."""
    if path.suffix.lower() == ".csv":
        return count_csv_items(path)
    with path.open(encoding="utf-8-sig") as lines:
        return sum(1 for text in lines if text.strip())


def read_items(path: Path) -> list[Parsed]:
    """Every item of a file, in memory (small files; imports stream with `iter_items`)."""
    return list(iter_items(path))
