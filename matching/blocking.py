"""Blocking keys: the few strings per record a database indexes to find candidates.

Two records become candidates when they share keys; the database counts shared keys and caps
how many candidates one key may bring, so common keys cost little. Keys are plain strings here;
the service stores them as keyed hashes.
"""

from __future__ import annotations

from collections.abc import Iterable

from matching._fields import PreparedRecord, prepare
from matching.dates import date_bounds, to_gregorian
from matching.names import name_blocking_keys, name_typo_keys
from matching.records import PersonRecord

MAX_YEAR_KEYS = 7


# A record whose birth year is this narrow pairs its typo keys with each plausible year.
TYPO_YEARS = 3


def _birth_years(record: PersonRecord) -> range | None:
    """The plausible birth years (a year-only or approximate date spans several), if known."""
    if record.birth_date is None:
        return None
    bounds = date_bounds(to_gregorian(record.birth_date))
    if bounds is None:
        return None
    return range(bounds[0].year, bounds[1].year + 1)


def _year_keys(years: range | None) -> set[str]:
    """One key per plausible birth year (none when the date is too vague to help)."""
    if years is None or len(years) > MAX_YEAR_KEYS:
        return set()
    return {f"y:{year}" for year in years}


def _typo_keys(prepared: PreparedRecord, years: Iterable[int] | None) -> set[str]:
    """Name typo keys paired with birth years (`n:d:...@1968`), or alone when the record has
    no narrow birth year. Alone, one-deletion keys of common names reach thousands of persons
    in a large archive and are skipped as too common; paired with the year they stay
    selective, and a probe looks them up for its years and the years beside them."""
    typo = {key for name in prepared.names for key in name_typo_keys(name)}
    if years is None:
        return {f"n:{key}" for key in typo}
    return {f"n:{key}@{year}" for key in typo for year in years}


def _narrow(years: range | None) -> range | None:
    return years if years is not None and len(years) <= TYPO_YEARS else None


def blocking_keys(record: PersonRecord | PreparedRecord) -> frozenset[str]:
    """Index keys of a record: name-part keys (`n:`), father's-name keys (`f:`), birth years.

    Name keys are those of every name of the record (variant class, cross-lingual phonetic
    codes and their prefixes), so a romanised record and its native-script twin share keys,
    plus typo keys paired with the birth year (see `lookup_keys` for the probe's side).
    """
    prepared = record if isinstance(record, PreparedRecord) else prepare(record)
    keys: set[str] = set()
    for name in prepared.names:
        keys |= {f"n:{key}" for key in name_blocking_keys(name)}
    if prepared.father is not None:
        keys |= {f"f:{key}" for key in name_blocking_keys(prepared.father)}
    years = _birth_years(prepared.record)
    keys |= _year_keys(years)
    keys |= _typo_keys(prepared, _narrow(years))
    return frozenset(keys)


def lookup_keys(record: PersonRecord | PreparedRecord) -> frozenset[str]:
    """The keys to look up for a probe: its blocking keys, its typo keys paired with the years
    next to its own (a birth year off by one still meets), and its unpaired typo keys (which
    meet records stored without a narrow birth year)."""
    prepared = record if isinstance(record, PreparedRecord) else prepare(record)
    keys = set(blocking_keys(prepared))
    years = _narrow(_birth_years(prepared.record))
    if years is not None:
        keys |= _typo_keys(prepared, range(years.start - 1, years.stop + 1))
    keys |= _typo_keys(prepared, None)
    return frozenset(keys)
