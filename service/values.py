"""Conversions between wire value objects and their stored documents.

Fuzzy dates are parsed and converted by the matching engine (`matching.dates`), so the service
and the matcher read dates the same way. The stored document keeps the original as given and
the gregorian interpretation computed when it was written.
"""

from __future__ import annotations

import datetime
from typing import Any

from matching.dates import (
    DEFAULT_UNCERTAINTY_YEARS,
    Calendar,
    FuzzyDate,
    FuzzyDateError,
    date_bounds,
    format_fuzzy_date,
    parse_fuzzy_date,
    to_gregorian,
)
from schemas.problem import InvalidParam
from schemas.values import FuzzyDateIn, FuzzyDatePublic, GregorianInterpretation, Place
from service.errors import UnprocessableContent


def _fuzzy_from_wire(value: FuzzyDateIn) -> FuzzyDate:
    if value.text is not None:
        return parse_fuzzy_date(value.text)
    return FuzzyDate(
        year=value.year,
        month=value.month,
        day=value.day,
        calendar=Calendar(value.calendar.value),
        approximate=value.approximate,
        uncertainty_years=_uncertainty(value),
        age=value.age,
        age_reference=value.age_reference_date,
    )


def _uncertainty(value: FuzzyDateIn) -> int:
    if value.uncertainty_years is not None:
        return value.uncertainty_years
    return DEFAULT_UNCERTAINTY_YEARS if value.approximate else 0


def fuzzy_date_document(value: FuzzyDateIn | None, field: str) -> dict[str, Any] | None:
    """Validate a wire date and build its stored document; a bad date is a 422 on `field`."""
    if value is None:
        return None
    try:
        parsed = _fuzzy_from_wire(value)
        gregorian = to_gregorian(parsed)
        bounds = date_bounds(gregorian)
    except FuzzyDateError as err:
        raise UnprocessableContent(
            f"{field}: {err}",
            invalid_params=[InvalidParam(name=field, location="body", reason=str(err))],
        ) from err
    return {
        "text": value.text,
        "canonical": format_fuzzy_date(parsed),
        "calendar": parsed.calendar.value,
        "year": parsed.year,
        "month": parsed.month,
        "day": parsed.day,
        "approximate": parsed.approximate,
        "uncertainty_years": parsed.uncertainty_years,
        "age": parsed.age,
        "age_reference_date": _iso(parsed.age_reference),
        "gregorian": {
            "year": gregorian.year,
            "month": gregorian.month,
            "day": gregorian.day,
            "approximate": gregorian.approximate,
            "uncertainty_years": gregorian.uncertainty_years,
            "earliest": _iso(bounds[0]) if bounds else None,
            "latest": _iso(bounds[1]) if bounds else None,
        },
    }


def _iso(value: datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def fuzzy_date_public(document: dict[str, Any] | None) -> FuzzyDatePublic | None:
    """The wire form of a stored date document."""
    if document is None:
        return None
    fields = {key: value for key, value in document.items() if key != "gregorian"}
    return FuzzyDatePublic(**fields, gregorian=GregorianInterpretation(**document["gregorian"]))


def place_document(value: Place | None) -> dict[str, Any] | None:
    """The stored document of a place (its wire form, without unset optional fields)."""
    return value.model_dump(mode="json", exclude_none=True) if value is not None else None


def place_public(document: dict[str, Any] | None) -> Place | None:
    """The wire form of a stored place."""
    return Place.model_validate(document) if document is not None else None
