"""Kintrace's matching engine: a pure library behind this facade.

Today: fuzzy dates in every calendar tracing meets (`FuzzyDate`, `parse_fuzzy_date`,
`compare_dates`, ...). Names, scoring (`Matcher`) and blocking keys are added here as they land.
Everything not listed in `__all__` is private.
"""

from matching.dates import (
    DEFAULT_UNCERTAINTY_YEARS,
    Calendar,
    DateComparison,
    DateLevel,
    FuzzyDate,
    FuzzyDateError,
    compare_dates,
    date_bounds,
    format_fuzzy_date,
    parse_fuzzy_date,
    to_gregorian,
)

__all__ = [
    "DEFAULT_UNCERTAINTY_YEARS",
    "Calendar",
    "DateComparison",
    "DateLevel",
    "FuzzyDate",
    "FuzzyDateError",
    "compare_dates",
    "date_bounds",
    "format_fuzzy_date",
    "parse_fuzzy_date",
    "to_gregorian",
]
