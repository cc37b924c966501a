"""Blocking keys: the few strings per record a database indexes to find candidates.

Two records become candidates when they share keys; the database counts shared keys and caps
how many candidates one key may bring, so common keys cost little. Keys are plain strings here;
the service stores them as keyed hashes.
"""

from __future__ import annotations

from matching._fields import PreparedRecord, prepare
from matching.dates import date_bounds, to_gregorian
from matching.names import name_blocking_keys
from matching.records import PersonRecord

MAX_YEAR_KEYS = 7


def _year_keys(record: PersonRecord) -> set[str]:
    """One key per plausible birth year (a year-only or approximate date spans several)."""
    if record.birth_date is None:
        return set()
    bounds = date_bounds(to_gregorian(record.birth_date))
    if bounds is None:
        return set()
    first, last = bounds[0].year, bounds[1].year
    if last - first + 1 > MAX_YEAR_KEYS:
        return set()
    return {f"y:{year}" for year in range(first, last + 1)}


def blocking_keys(record: PersonRecord | PreparedRecord) -> frozenset[str]:
    """Index keys of a record: name-part keys (`n:`), father's-name keys (`f:`), birth years.

    Name keys are those of every name of the record (variant class, cross-lingual phonetic
    codes and their prefixes), so a romanised record and its native-script twin share keys.
    """
    prepared = record if isinstance(record, PreparedRecord) else prepare(record)
    keys: set[str] = set()
    for name in prepared.names:
        keys |= {f"n:{key}" for key in name_blocking_keys(name)}
    if prepared.father is not None:
        keys |= {f"f:{key}" for key in name_blocking_keys(prepared.father)}
    keys |= _year_keys(prepared.record)
    return frozenset(keys)
