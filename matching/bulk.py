"""Bulk blocking: the candidate pairs of a whole file at once, for `kintrace dedupe`.

The service finds one probe's candidates by looking its keys up in an index and ranking every
record they reach (`lookup_plan`, `KeyIndex`). That costs the sum of the keys' postings per
probe: a few milliseconds, which is hours for a file of a million. A file is linked as a set
instead, in three steps:

1. **Compound keys**, each selective on its own so that its block stays small even in a large
   file: two name parts of one name together (any two, unordered, through their variant
   class or phonetic codes; not the codes' three-letter prefixes, whose pairs made half the
   blocks' pairs at 100,000 records and found no more twins), so a swapped order, a spelling
   variant or a romanised twin still meets, and each such pair also with a two-year span of
   the birth years (`_year_spans`), which keeps the pairs of common names in small blocks;
   a part's typo key with a narrow birth year (a typo in one part and a changed script in
   the other); a part's key with the full birth date (a name recorded beyond recognition but
   for one part); the keys of a one-part name with the birth year (alone when there is
   none).
2. **Blocks**: records sharing a compound key are candidate pairs, unless more than
   `max_block` records share it (a very common pair of names is too common to block on; the
   rarer keys of the same records still meet).
3. **Pre-ranking**: each record keeps its `per_record` best partners by a cheap score (the
   similarity of the sorted romanised name parts, plus the agreement of the birth years), and
   only those pairs are scored by the engine. A namesake born decades apart ranks below the
   true counterpart with a typo.

A pair is a candidate when either of its records kept it. Everything here is set-based (NumPy
sorts and rapidfuzz's pairwise similarity): the per-record Python work is building the keys.
Keys are 64-bit hashes of strings; two different keys colliding would only make one block
larger.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from matching._fields import PreparedRecord
from matching.blocking import _birth_day, _birth_years, _narrow, _token_slots
from matching.names import name_blocking_keys, token_typo_keys

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

MAX_BLOCK = 30
BULK_CANDIDATES = 5
NAME_WEIGHT = 8.0
"""Weight of the name similarity (0 to 1) in the pre-ranking, against the birth-year terms of
`_PreRanking.year_terms` (+4 same day, +2 same year, +0.5 a year apart, -4 further apart): a
name that reads the same outranks a namesake, and a birth year decades off outranks a close
name."""

NO_YEAR = -1
CHUNK_ROWS = 5_000_000
SCORE_TOP = NAME_WEIGHT + 4.0
SCORE_STEP = 1e-4


class BulkRecords:
    """What bulk blocking needs of each record of a file, in columns (a million records' keys
    take 8 bytes each here, not a Python object each): its compound keys, its name as sorted
    romanised parts (for the pre-ranking) and its birth years and day."""

    def __init__(self) -> None:
        self.keys = array("q")
        self.key_counts = array("q")
        self.names: list[str] = []
        self.first_years = array("q")
        self.last_years = array("q")
        self.days = array("q")

    def __len__(self) -> int:
        return len(self.names)

    def add(self, prepared: PreparedRecord) -> None:
        """Append a prepared record (its position is the count of records added before it)."""
        years = _birth_years(prepared.record)
        day = _birth_day(prepared.record)
        ordinal = 0 if day is None else day.toordinal()
        keys = _compound_keys(prepared, _narrow(years), ordinal)
        self.keys.extend(keys)
        self.key_counts.append(len(keys))
        self.names.append(_sorted_name(prepared))
        self.first_years.append(NO_YEAR if years is None else years.start)
        self.last_years.append(NO_YEAR if years is None else years.stop - 1)
        self.days.append(ordinal)


def _name_slots(prepared: PreparedRecord) -> Iterator[list[frozenset[str]]]:
    """Per name of the record, the plain keys of each of its content parts and compounds."""
    offset = 0
    slots = _token_slots(prepared)
    for name in prepared.names:
        size = len(name.content) + len(name.compounds)
        yield [plain for plain, _ in slots[offset : offset + size] if plain]
        offset += size


def _year_spans(years: range | None) -> set[tuple[str, int]]:
    """Two-year spans covering the birth years, each year in two (one starting on an even
    year, one on an odd): two records born at most a year apart share a span. A common pair of
    names blocks too many records to be kept in a large file; with the span it blocks a few
    dozen, and a birth year off by one still meets."""
    if years is None:
        return set()
    return {("e", year // 2) for year in years} | {("o", (year + 1) // 2) for year in years}


def _compound_keys(prepared: PreparedRecord, years: range | None, day: int) -> tuple[int, ...]:
    """The record's compound keys (see the module docstring), as 64-bit hashes, given its
    narrow birth years and its birth day's ordinal (0 when not known to the day)."""
    keys: set[int] = set()
    spans = _year_spans(years)
    for slots in _name_slots(prepared):
        paired = [[key for key in slot if not key.startswith("q:")] for slot in slots]
        for left, right in itertools.combinations(paired, 2):
            for x in left:
                for y in right:
                    pair = (x, y) if x < y else (y, x)
                    keys.add(hash(pair))
                    keys.update(hash((pair, span)) for span in spans)
        if len(slots) == 1:
            keys.update(hash(("1", x, year)) for x in slots[0] for year in years or (None,))
    if years is not None:
        for name in prepared.names:
            for token in name.tokens:
                typo = token_typo_keys(token)
                keys.update(hash(("t", key, year)) for key in typo for year in years)
    if day:
        plain = {key for name in prepared.names for key in name_blocking_keys(name)}
        keys.update(hash(("d", key, day)) for key in plain)
    return tuple(keys)


def _sorted_name(prepared: PreparedRecord) -> str:
    """The record's name parts in their most trusted Latin spelling, sorted and joined: a swapped
    order reads the same, and rapidfuzz compares two of them in well under a microsecond."""
    forms = {token.forms[0] for name in prepared.names for token in name.tokens if token.forms}
    return " ".join(sorted(forms))


def _blocks(records: BulkRecords, max_block: int) -> tuple[IntArray, IntArray]:
    """The records sorted by compound key, and the start and end of each block of 2 to
    `max_block` records in that order."""
    keys = np.frombuffer(records.keys, dtype=np.int64) if records.keys else np.empty(0, np.int64)
    sizes = np.frombuffer(records.key_counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(records), dtype=np.int64), sizes)
    order = np.argsort(keys, kind="stable")
    keys, owner = keys[order], owner[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    size = ends - starts
    keep = (size >= 2) & (size <= max_block)
    return owner, np.stack([starts[keep], ends[keep]])


def _block_pairs(owner: IntArray, bounds: IntArray, count: int) -> IntArray:
    """Every pair of records within each block, once, as `low * count + high` with low < high
    (their positions in the file)."""
    starts, ends = bounds
    # Each member of a block but its last pairs with the members after it. Blocks are
    # disjoint runs of the sorted keys, so a running sum marks their members.
    marks = np.zeros(len(owner) + 1, dtype=np.int64)
    marks[starts] += 1  # no block starts where another ends: they are disjoint, of 2 or more
    marks[ends - 1] -= 1
    member = np.flatnonzero(np.cumsum(marks[:-1]) > 0)
    block_end = np.repeat(ends, ends - starts - 1)
    later = block_end - member - 1
    first = np.repeat(member, later)
    step = np.arange(len(first), dtype=np.int64) - np.repeat(np.cumsum(later) - later, later)
    a, b = owner[first], owner[first + 1 + step]
    low, high = np.minimum(a, b), np.maximum(a, b)
    distinct = low != high
    return _distinct(low[distinct] * np.int64(count) + high[distinct])


def _distinct(values: IntArray) -> IntArray:
    """The distinct values, sorted (a sort beats NumPy's hashing unique on these sizes)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


class _PreRanking:
    """The cheap score that picks each record's partners: the similarity of the sorted
    romanised name parts, and the birth years' agreement (`score`)."""

    def __init__(self, records: BulkRecords) -> None:
        self.names = np.array(records.names, dtype=object)
        self.first = np.frombuffer(records.first_years, dtype=np.int64)
        self.last = np.frombuffer(records.last_years, dtype=np.int64)
        self.day = np.frombuffer(records.days, dtype=np.int64)

    def year_terms(self, a: IntArray, b: IntArray) -> FloatArray:
        """Birth-date agreement of each pair: +4 the same day, +2 overlapping years, +0.5 a
        year apart, -4 further apart, 0 when either side has no year."""
        first, last, day = self.first, self.last, self.day
        gap = np.maximum(np.maximum(first[a] - last[b], first[b] - last[a]), 0)
        terms = np.where(gap == 0, 2.0, np.where(gap == 1, 0.5, -4.0))
        terms = np.where((day[a] > 0) & (day[a] == day[b]), 4.0, terms)
        known = (first[a] != NO_YEAR) & (first[b] != NO_YEAR)
        return np.where(known, terms, 0.0)

    def score(self, a: IntArray, b: IntArray) -> FloatArray:
        """The pre-ranking score of each pair `(a[i], b[i])`."""
        similarity = cpdist(list(self.names[a]), list(self.names[b]), scorer=fuzz.ratio, workers=1)
        return NAME_WEIGHT * similarity.astype(np.float64) / 100.0 + self.year_terms(a, b)


Partners = tuple[IntArray, IntArray, FloatArray]
"""Directed rows: a record, one of its partners, and the pair's pre-ranking score."""


def _best_partners(rows: Partners, per_record: int) -> Partners:
    """Each record's best `per_record` partners among the rows (a pair met twice counts
    once); scores within `SCORE_STEP` of each other tie, and ties go to the partner that
    comes first."""
    record, partner, score = rows
    count = int(max(record.max(initial=0), partner.max(initial=0))) + 1
    steps = np.round((SCORE_TOP - score) / SCORE_STEP).astype(np.int64)
    levels = int(steps.max(initial=0)) + 1
    if count * count * levels < 2**62:  # one key to sort on: record, then score, then partner
        order = np.argsort((record * levels + steps) * count + partner)
    else:
        order = np.lexsort((partner, steps, record))
    record, partner, score = record[order], partner[order], score[order]
    repeated = np.r_[False, (record[1:] == record[:-1]) & (partner[1:] == partner[:-1])]
    record, partner, score = record[~repeated], partner[~repeated], score[~repeated]
    starts = np.flatnonzero(np.r_[True, record[1:] != record[:-1]])
    rank = np.arange(len(record)) - np.repeat(starts, np.diff(np.r_[starts, len(record)]))
    best = rank < per_record
    return record[best], partner[best], score[best]


def _merged(parts: list[Partners], per_record: int) -> Partners:
    """Each record's best partners over several chunks' best."""
    rows = tuple(np.concatenate([part[i] for part in parts]) for i in range(3))
    return _best_partners((rows[0], rows[1], rows[2]), per_record)


def _block_chunks(bounds: IntArray, rows: int) -> Iterator[IntArray]:
    """The blocks in runs of about `rows` pairs each, so that a large file's pairs are never
    all in memory at once."""
    sizes = bounds[1] - bounds[0]
    total = np.cumsum(sizes * (sizes - 1) // 2)
    cut = np.searchsorted(total, np.arange(rows, total[-1] if len(total) else 0, rows))
    for lo, hi in itertools.pairwise([0, *np.unique(cut).tolist(), len(sizes)]):
        if hi > lo:
            yield bounds[:, lo:hi]


def candidate_pairs(
    records: BulkRecords,
    *,
    max_block: int = MAX_BLOCK,
    per_record: int = BULK_CANDIDATES,
    chunk_rows: int = CHUNK_ROWS,
) -> tuple[IntArray, IntArray]:
    """The candidate pairs of a file, as two arrays of positions (low < high), ordered: the
    pairs that either of their records ranks among its best `per_record`."""
    count = len(records)
    empty = np.empty(0, dtype=np.int64)
    if count < 2:
        return empty, empty
    ranking = _PreRanking(records)
    owner, bounds = _blocks(records, max_block)
    kept: list[Partners] = []
    held, limit = 0, 4 * count * per_record
    for chunk in _block_chunks(bounds, chunk_rows):
        pairs = _block_pairs(owner, chunk, count)
        a, b = pairs // count, pairs % count
        score = ranking.score(a, b)
        kept.append(_best_partners((np.r_[a, b], np.r_[b, a], np.r_[score, score]), per_record))
        held += len(kept[-1][0])
        if held > limit:  # each chunk's best are few, but a record may be in many chunks
            kept = [_merged(kept, per_record)]
            held = len(kept[0][0])
    best = _merged(kept, per_record) if kept else (empty, empty, np.empty(0))
    record, partner, _ = best
    pairs = _distinct(np.minimum(record, partner) * count + np.maximum(record, partner))
    return pairs // count, pairs % count
