"""Blocking keys: the few strings per record a database indexes to find candidates.

Two records become candidates when they share keys; the database counts shared keys and caps
how many candidates one key may bring, so common keys cost little. Keys are plain strings here;
the service stores them as keyed hashes.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from matching._fields import PreparedRecord, prepare
from matching.dates import date_bounds, to_gregorian
from matching.names import (
    name_blocking_keys,
    name_typo_keys,
    token_blocking_keys,
    token_typo_keys,
)
from matching.records import PersonRecord

MAX_YEAR_KEYS = 7
MAX_POSTINGS = 2000
MAX_CANDIDATES = 200
SEED_KINDS = frozenset({"n", "b"})
"""Kinds of keys (their first letter) that alone make two records candidates: a name key or
the full birth date. A shared birth year or father's name only ranks candidates."""


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


def _birth_day(record: PersonRecord) -> datetime.date | None:
    """The birth date when it is known to the day (neither approximate nor partial), and not
    the first of January, which registries write for a birth year alone (as `compare_dates`
    reads it): thousands share it, and its key would only be dropped as too common."""
    if record.birth_date is None:
        return None
    bounds = date_bounds(to_gregorian(record.birth_date))
    if bounds is None or bounds[0] != bounds[1] or (bounds[0].month, bounds[0].day) == (1, 1):
        return None
    return bounds[0]


def _day_keys(day: datetime.date | None, *, swapped: bool = False) -> set[str]:
    """`b:` keys: the full birth date, which alone seeds candidates. It finds the pair whose
    names were recorded beyond recognition (another given name, a family name left out) yet
    born the same day: about 35 persons share a day in an archive of a million, so the key
    stays selective. A probe also looks up the day/month-swapped date."""
    if day is None:
        return set()
    keys = {f"b:{day.isoformat()}"}
    if swapped and day.day <= 12 and day.day != day.month:
        keys.add(f"b:{day.year:04d}-{day.day:02d}-{day.month:02d}")
    return keys


def _year_keys(years: range | None) -> set[str]:
    """One key per plausible birth year (none when the date is too vague to help)."""
    if years is None or len(years) > MAX_YEAR_KEYS:
        return set()
    return {f"y:{year}" for year in years}


def _typo_keys(typo: set[str], years: Iterable[int] | None) -> set[str]:
    """Name typo keys paired with birth years (`n:d:...@1968`), or alone when the record has
    no narrow birth year. Alone, one-deletion keys of common names reach thousands of persons
    in a large archive and are skipped as too common; paired with the year they stay
    selective, and a probe looks them up for its years and the years beside them."""
    if years is None:
        return {f"n:{key}" for key in typo}
    return _with_years(typo, years)


def _name_keys(prepared: PreparedRecord) -> tuple[set[str], set[str]]:
    """The plain keys (variant class, phonetic codes, prefixes) and the typo keys of every
    name part, unprefixed: computed once per record, paired with several year ranges."""
    plain = {key for name in prepared.names for key in name_blocking_keys(name)}
    typo = {key for name in prepared.names for key in name_typo_keys(name)}
    return plain, typo


def _with_years(keys: Iterable[str], years: Iterable[int]) -> set[str]:
    """Name keys paired with birth years (`n:p:mhmd@1968`). In an archive of a million the
    keys of a common name are carried by thousands and skipped as too common, so a person
    whose every name is common would be found by nothing but a shared birth day; paired with
    the year, the same keys reach a few dozen, find the person again, and rank the namesakes
    born that year (or the years beside it, on the probe's side) above the others."""
    years = tuple(years)
    return {f"n:{key}@{year}" for key in keys for year in years}


def _narrow(years: range | None) -> range | None:
    return years if years is not None and len(years) <= TYPO_YEARS else None


def _stored_keys(
    prepared: PreparedRecord, plain: set[str], typo: set[str], narrow: range | None
) -> set[str]:
    """`blocking_keys` from the record's name keys and narrow birth years, computed once."""
    keys = {f"n:{key}" for key in plain}
    if prepared.father is not None:
        keys |= {f"f:{key}" for key in name_blocking_keys(prepared.father)}
    keys |= _year_keys(_birth_years(prepared.record))
    keys |= _day_keys(_birth_day(prepared.record))
    keys |= _typo_keys(typo, narrow)
    if narrow is not None:
        keys |= _with_years(plain, narrow)
    return keys


def blocking_keys(record: PersonRecord | PreparedRecord) -> frozenset[str]:
    """Index keys of a record: name-part keys (`n:`), father's-name keys (`f:`), birth years
    (`y:`) and the full birth date (`b:`). Name keys and the full date seed candidates.

    Name keys are those of every name of the record (variant class, cross-lingual phonetic
    codes and their prefixes), so a romanised record and its native-script twin share keys;
    each also paired with the birth year when that is narrow, plus typo keys paired with it
    (see `lookup_keys` for the probe's side).
    """
    prepared = record if isinstance(record, PreparedRecord) else prepare(record)
    narrow = _narrow(_birth_years(prepared.record))
    return frozenset(_stored_keys(prepared, *_name_keys(prepared), narrow))


def lookup_keys(record: PersonRecord | PreparedRecord) -> frozenset[str]:
    """The keys to look up for a probe: its blocking keys, its name and typo keys paired with
    the years next to its own (a birth year off by one still meets), and its unpaired typo
    keys (which meet records stored without a narrow birth year)."""
    prepared = record if isinstance(record, PreparedRecord) else prepare(record)
    plain, typo = _name_keys(prepared)
    narrow = _narrow(_birth_years(prepared.record))
    keys = _stored_keys(prepared, plain, typo, narrow)
    if narrow is not None:
        beside = range(narrow.start - 1, narrow.stop + 1)
        keys |= _typo_keys(typo, beside)
        keys |= _with_years(plain, beside)
    keys |= _typo_keys(typo, None)
    keys |= _day_keys(_birth_day(prepared.record), swapped=True)
    return frozenset(keys)


def _token_slots(prepared: PreparedRecord) -> list[tuple[frozenset[str], frozenset[str]]]:
    """(plain keys, typo keys) of every content part and compound of every name, in order."""
    slots = []
    for name in prepared.names:
        tokens = [*name.tokens, *(c.token for c in name.compounds)]
        slots += [(token_blocking_keys(t), token_typo_keys(t)) for t in tokens]
    return slots


def lookup_plan(record: PersonRecord | PreparedRecord) -> dict[str, int]:
    """Each of the probe's `lookup_keys` with the piece of evidence it stands for (its slot).

    Slots are the probe's name parts (and compounds), in order, then its father's name, then
    its birth date (years and full date). A candidate is ranked by the pieces it meets, each
    counted once at the rarest key that meets it (`rank_weight`), not by its raw count of
    shared keys: a namesake born the same year shares every key of a common given name, the
    true counterpart with a typo only one or two keys of each part, yet it meets the given
    *and* the family name.
    Slots are local to the probe, so nothing of them is stored. The keys are those of
    `lookup_keys`, built here with their slots rather than parsed back from its strings (this
    runs for every probe of a bulk linkage and every match job); sorted, as a plan's order
    decides the order in which a lookup sums its weights.
    """
    prepared = record if isinstance(record, PreparedRecord) else prepare(record)
    slots = _token_slots(prepared)
    slot_of: dict[str, int] = {}
    for slot, (plain_keys, typo_keys) in enumerate(slots):
        for key in plain_keys:
            slot_of.setdefault(key, slot)
        for key in typo_keys:
            slot_of.setdefault(key, slot)
    father, birth = len(slots), len(slots) + 1
    plain, typo = _name_keys(prepared)
    years = _birth_years(prepared.record)
    narrow = _narrow(years)
    beside = () if narrow is None else tuple(range(narrow.start - 1, narrow.stop + 1))
    plan: dict[str, int] = {}
    for base in plain | typo:
        slot = slot_of[base]
        plan[f"n:{base}"] = slot
        for year in beside:
            plan[f"n:{base}@{year}"] = slot
    if prepared.father is not None:
        for key in name_blocking_keys(prepared.father):
            plan[f"f:{key}"] = father
    for key in _year_keys(years):
        plan[key] = birth
    for key in _day_keys(_birth_day(prepared.record), swapped=True):
        plan[key] = birth
    return {key: plan[key] for key in sorted(plan)}


def rank_weight(postings: int, cap: int) -> float:
    """Evidence of one shared key for ranking candidates: ln(cap / postings), so a key that
    few records carry weighs more, and a key at the cap (dropped as too common) nothing.
    The database ranks with the same formula (`service.candidates.repository`)."""
    return math.log(cap / postings) if 0 < postings < cap else 0.0


class KeyIndex:
    """Postings of blocking keys over a list of records (positions in that list), in memory.

    Bulk linkage and training find candidates here as the service does in its keys table: a
    record's candidates share at least one seeding key, keys shared by more than
    `max_postings` records are skipped as too common, and candidates are ranked by the pieces
    of the probe's evidence they meet (`lookup_plan`, `rank_weight`).
    """

    def __init__(self, keys: Sequence[frozenset[str]]) -> None:
        postings: dict[str, list[int]] = defaultdict(list)
        for position, record_keys in enumerate(keys):
            for key in record_keys:
                postings[key].append(position)
        self.postings = dict(postings)

    def candidates(
        self,
        plan: Mapping[str, int],
        *,
        max_postings: int = MAX_POSTINGS,
        max_candidates: int = MAX_CANDIDATES,
    ) -> list[int]:
        """Positions sharing a seeding key with a probe's `lookup_plan`, best first (the pieces of
        evidence met, each at its rarest key: `rank_weight`), at most max_candidates."""
        cap = max_postings + 1
        best: dict[tuple[int, int], float] = {}
        seeded: set[int] = set()
        for key, slot in plan.items():
            posting = self.postings.get(key)
            if posting is None or len(posting) >= cap:
                continue
            weight = rank_weight(len(posting), cap)
            for position in posting:
                if best.get((position, slot), -1.0) < weight:
                    best[(position, slot)] = weight
            if key[0] in SEED_KINDS:
                seeded.update(posting)
        score: dict[int, float] = defaultdict(float)
        for (position, _), weight in best.items():
            if position in seeded:
                score[position] += weight
        ranked = sorted(score, key=lambda position: (-round(score[position], 9), position))
        return ranked[:max_candidates]
