"""Stored persons as the matching engine sees them (a pure conversion)."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Collection
from typing import Any

from matching import FuzzyDate, PersonName, PersonRecord
from matching.dates import Calendar
from service.persons.records import NameRecord
from service.persons.records import PersonRecord as StoredPerson

# Stored sex values as the engine writes them.
SEX_CODES = {"male": "M", "female": "F", "other": "X"}


def _name(name: NameRecord) -> PersonName:
    return PersonName(
        full=name.full_name or "",
        given=name.given,
        father=name.father,
        grandfather=name.grandfather,
        family=name.family,
        other=(name.other,) if name.other else (),
        script=name.script,
    )


def fuzzy_date(document: dict[str, Any] | None) -> FuzzyDate | None:
    """The engine's fuzzy date from a stored date document (as given, in its own calendar)."""
    if not document or (document.get("year") is None and document.get("age") is None):
        return None
    reference = document.get("age_reference_date")
    return FuzzyDate(
        year=document.get("year"),
        month=document.get("month"),
        day=document.get("day"),
        calendar=Calendar(document.get("calendar") or "gregorian"),
        approximate=bool(document.get("approximate")),
        uncertainty_years=int(document.get("uncertainty_years") or 0),
        age=document.get("age"),
        age_reference=_date(reference),
    )


def _date(text: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text else None


def _place(document: dict[str, Any] | None) -> str | None:
    return str(document["text"]) if document and document.get("text") else None


def matching_record(person: StoredPerson) -> PersonRecord:
    """What the matcher compares for a stored person (its id as the record id)."""
    personal = person.personal
    names = tuple(_name(name) for name in person.names)
    return PersonRecord(
        id=str(person.id),
        names=tuple(name for name in names if not name.is_empty()),
        sex=SEX_CODES.get(personal.sex),
        birth_date=fuzzy_date(personal.birth_date),
        birth_place=_place(personal.birth_place),
        nationality=personal.nationalities[0] if personal.nationalities else None,
        father_name=personal.father_name,
        mother_name=personal.mother_name,
        last_known_place=_place(personal.last_known_place),
    )


# The engine's fields and the grant field that lets each cross a society border.
GRANTED_BY = {
    "sex": "sex",
    "birth_date": "birth_date",
    "birth_place": "birth_place",
    "nationality": "nationalities",
    "father_name": "father_name",
    "mother_name": "mother_name",
    "last_known_place": "last_known_place",
}


def granted_record(record: PersonRecord, fields: Collection[str]) -> PersonRecord | None:
    """A shared person as matching across societies may compare it: only the fields the
    grants share (a field compared reveals itself through the explanation and the score), and
    none at all without its names."""
    if "names" not in fields:
        return None
    withheld: dict[str, Any] = {
        name: None for name, field in GRANTED_BY.items() if field not in fields
    }
    return dataclasses.replace(record, **withheld)
