"""Stored persons as the matching engine sees them (a pure conversion)."""

from __future__ import annotations

import datetime
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
