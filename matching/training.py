"""Training the model's m and u probabilities on unlabelled records, as Splink does.

No label is read: the records are compared, never told apart by a truth file.

1. **u** (how often each level occurs between different persons) comes from random pairs of
   records, almost all of them different persons. Almost: when two files share persons, a
   random pair is the same person about once in as many pairs as a file has records (fewer
   for the duplicates within one file), and for
   the levels strangers hardly ever reach (the same name, the same birth day) those few
   matches are much of what the random pairs show. So once m is known (2, 3), EM over the
   random pairs with m held fixed takes them out of u (`random_match_rate` says how many it
   found; the prior stays the documented constant), and m is estimated again with that u.
2. **m** (how often each level occurs for the same person) comes from expectation-maximisation
   with u held fixed, over the pairs born on the same day (`b:` keys), the birth date itself
   left out (it agrees by construction and would teach EM only itself). Different persons born
   on one day are strangers to each other, so their other fields agree only by chance, as EM
   assumes. That gives m of the name and of every other field.
3. m of the **birth date** comes from the pairs whose names agree exactly (`_same_name_pairs`),
   the date alone compared (`date_m_from_namesakes`). Different persons sharing a name are
   often kin (siblings, cousins): their father's name, places and nationality agree far more
   often than between strangers, and their given names carry their sex, so EM over all fields
   takes kin for the same person (on the synthetic archive it learned that a different birth
   date is almost no evidence). Kin are born on different days, though, so the date alone
   tells them apart as it tells strangers. With the date alone, the data fix each level's
   share but not the match rate: one documented belief settles it, the base model's m of a
   wholly `different` date (how often a person's recorded date is someone else's). When the
   namesakes show too few matches, the base model's date m stays.
4. A level no set of training pairs shows `MIN_SEEN` times keeps the base model's m and u,
   and no level falls below a floor (`_settled`). A level one set shows often is known to
   occur in these records, so its rarity in the other is a measurement, not an absence of
   data: it is learned there, floored (`_kept_levels`; names one typo apart, common among the
   same-day pairs and rare among random ones, get u from the random pairs).

The prior is not estimated. It stays that of the base model, a documented constant, so that a
probability means the same in every search (the match rate EM finds among blocked pairs
depends on how the records were collected). The result is a new `Model`; its version names
the training data's digest.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from matching._em import (
    BoolArray,
    EMResult,
    FloatArray,
    IntArray,
    expectation_maximisation,
    level_counts,
)
from matching._em import level_frequencies as _level_frequencies
from matching._fields import LADDERS, MISSING, PreparedRecord, compare_fields
from matching._model import (
    MIN_COUNT,
    LevelParameters,
    Model,
    NameFrequencies,
    default_model,
    frequencies_from_counts,
)
from matching.blocking import blocking_keys
from matching.records import PersonRecord
from matching.scoring import Matcher

FIELDS = tuple(LADDERS)
M_FLOOR = 0.005
MIN_SEEN = 20
RANDOM_PAIRS = 200_000
DATE_BLOCKED_LEARNS = frozenset(FIELDS) - {"birth_date"}
DATE_DIFFERENT = LADDERS["birth_date"].index("different")
MAX_NAMESAKES = 50


@dataclass(frozen=True, slots=True)
class TrainingReport:
    """The trained model and what it was trained on."""

    model: Model
    random_pairs: int
    date_blocked_pairs: int
    date_pass: EMResult
    same_name_pairs: int = 0
    date_m_learned: bool = False
    random_match_rate: float = 0.0


def comparison_pattern(left: PreparedRecord, right: PreparedRecord) -> tuple[int, ...]:
    """Level index per field of one pair (-1 where a field is missing on a side)."""
    return tuple(
        -1 if level.level == MISSING else LADDERS[level.field].index(level.level)
        for level in compare_fields(left, right)
    )


def _counted(patterns: Sequence[tuple[int, ...]]) -> tuple[IntArray, FloatArray]:
    """Distinct patterns and how often each occurs."""
    if not patterns:
        return np.zeros((0, len(FIELDS)), dtype=np.int64), np.zeros(0)
    unique, counts = np.unique(np.array(patterns, dtype=np.int64), axis=0, return_counts=True)
    return unique, counts.astype(np.float64)


def _random_pairs(
    left: Sequence[PreparedRecord], right: Sequence[PreparedRecord], count: int, seed: int
) -> list[tuple[int, ...]]:
    """Patterns of `count` random pairs, or of every pair when there are no more than that."""
    if len(left) * len(right) <= count:
        return [comparison_pattern(a, b) for a in left for b in right if a is not b]
    rng = random.Random(seed)
    found: list[tuple[int, ...]] = []
    while len(found) < count:
        a, b = rng.choice(left), rng.choice(right)
        if a is not b:
            found.append(comparison_pattern(a, b))
    return found


def _birth_day_keys(records: Sequence[PreparedRecord]) -> list[list[str]]:
    """Each record's full-birth-date keys (`b:`)."""
    return [[key for key in blocking_keys(record) if key.startswith("b:")] for record in records]


def _same_day_pairs(
    left: Sequence[PreparedRecord], right: Sequence[PreparedRecord], one_list: bool
) -> list[tuple[int, ...]]:
    right_days = _birth_day_keys(right)
    left_days = right_days if one_list else _birth_day_keys(left)
    by_day: dict[str, list[int]] = defaultdict(list)
    for position, days in enumerate(right_days):
        for key in days:
            by_day[key].append(position)
    found = []
    for position, days in enumerate(left_days):
        for key in days:
            for other in by_day.get(key, ()):
                if not one_list or other > position:
                    found.append(comparison_pattern(left[position], right[other]))
    return found


def _name_keys(record: PreparedRecord) -> set[tuple[str, ...]]:
    """Each of a record's names as the sorted identities of its parts."""
    return {tuple(sorted(token.identity for token in name.tokens)) for name in record.names}


def _same_name_pairs(
    left: Sequence[PreparedRecord], right: Sequence[PreparedRecord], one_list: bool
) -> list[tuple[int, ...]]:
    """Patterns of the pairs whose names agree exactly (name level `exact`), each pair once.

    A name borne by more than `MAX_NAMESAKES` records on a side is left out: its pairs are
    almost all different persons, many to compare for little more to learn.
    """
    by_name: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for position, record in enumerate(right):
        for key in _name_keys(record):
            by_name[key].append(position)
    found: set[tuple[int, int]] = set()
    for position, record in enumerate(left):
        for key in _name_keys(record):
            others = by_name.get(key, [])
            if len(others) <= MAX_NAMESAKES:
                found.update(
                    (position, other) for other in others if not one_list or other > position
                )
    patterns = (comparison_pattern(left[a], right[b]) for a, b in sorted(found))
    return [pattern for pattern in patterns if pattern[0] == 0]


def date_m_from_namesakes(
    counts: FloatArray, u: FloatArray, base: FloatArray, different: int
) -> FloatArray | None:
    """m of the birth-date levels from how often pairs with the same name reach each level
    (`counts`), given u and the base model's m of the `different` level (index `different`).

    The namesakes are a mixture: a share `rate` of them the same person (dates on m), the rest
    different persons (dates on u), so `p = rate * m + (1 - rate) * u` for every level. With m
    of `different` known, that level gives the rate, and the rate every other level's m (never
    below 0; the floors come later, in `_settled`). None when the pairs show fewer than
    `MIN_SEEN` matches, or no more wholly different dates than a match would.
    """
    total = float(counts.sum())
    if total <= 0 or u[different] <= base[different]:
        return None
    shares = counts / total
    rate = min((u[different] - shares[different]) / (u[different] - base[different]), 1.0)
    if rate * total < MIN_SEEN:
        return None
    m = np.maximum(shares - (1.0 - rate) * u, 0.0) / rate
    m[different] = base[different]
    result: FloatArray = m / m.sum()
    return result


def _tables(model: Model, which: str) -> tuple[FloatArray, ...]:
    return tuple(
        np.array([getattr(model.levels[field][level], which) for level in LADDERS[field]])
        for field in FIELDS
    )


def _em(
    pairs: Sequence[tuple[int, ...]],
    m: tuple[FloatArray, ...],
    u: tuple[FloatArray, ...],
    learns: frozenset[str],
    *,
    learn_u: bool = False,
    rate: float = 0.1,
) -> EMResult:
    """EM over `pairs` with the fields of `learns` active: m learned with u fixed, or
    (`learn_u`) u learned with m fixed."""
    patterns, counts = _counted(pairs)
    active = tuple(field in learns for field in FIELDS)
    return expectation_maximisation(
        patterns, counts, m, u, rate, active=active, fix_u=not learn_u, fix_m=learn_u
    )


def _m_passes(
    same_day: Sequence[tuple[int, ...]],
    namesakes: Sequence[tuple[int, ...]],
    seen_random: tuple[FloatArray, ...],
    m_base: tuple[FloatArray, ...],
    u: tuple[FloatArray, ...],
) -> tuple[tuple[FloatArray, ...], EMResult, bool]:
    """m of every field but the birth date by EM over the same-day pairs, m of the birth date
    from the namesakes (or the base model's), settled; the EM result; whether the date's m
    was learned."""
    date_pass = _em(same_day, m_base, u, DATE_BLOCKED_LEARNS)
    learned = list(date_pass.m)
    seen_m = list(_seen(same_day))
    date = FIELDS.index("birth_date")
    counts = _seen(namesakes)[date]
    date_m = date_m_from_namesakes(counts, u[date], m_base[date], DATE_DIFFERENT)
    if date_m is not None:
        learned[date], seen_m[date] = date_m, counts
    m = tuple(
        _settled(share, before, _kept_levels(seen, elsewhere), M_FLOOR)
        for share, before, seen, elsewhere in zip(learned, m_base, seen_m, seen_random, strict=True)
    )
    return m, date_pass, date_m is not None


def _seen(pairs: Sequence[tuple[int, ...]]) -> tuple[FloatArray, ...]:
    """How many pairs reached each level of each field."""
    return level_counts(*_counted(pairs), tuple(len(LADDERS[field]) for field in FIELDS))


def _kept_levels(seen: FloatArray, seen_elsewhere: FloatArray | None = None) -> BoolArray:
    """The levels that keep the base model's probability: those seen fewer than `MIN_SEEN`
    times by the pairs the parameter is estimated on and (when given) by other pairs of the
    same records.

    Training records without vague dates say nothing of how often vague dates overlap, so such
    a level keeps its base m and u, and their ratio. But a level the same-day pairs show often
    (names one typo apart, say) occurs in these records: that the random pairs show it rarely
    measures how rarely strangers reach it. Keeping the base u there (a guess for other data)
    would overrule the measurement by a factor of ten or more and leave the level's evidence
    too weak; the floor of `_settled` bounds it from below instead.
    """
    kept: BoolArray = seen < MIN_SEEN
    if seen_elsewhere is not None:
        kept &= seen_elsewhere < MIN_SEEN
    return kept


def _settled(learned: FloatArray, base: FloatArray, kept: BoolArray, floor: float) -> FloatArray:
    """A field's learned shares, but the `kept` levels (`_kept_levels`) keep the base model's
    probability, and the learned levels share the rest of the mass. Then no level below
    `floor`: for m, `M_FLOOR`, as the few hundred matches among the pairs cannot prove a level
    rarer than about one in two hundred; for u, `MIN_SEEN` out of the random pairs."""
    shares = np.where(kept, base, 0.0)
    rest = learned * ~kept
    if rest.sum() > 0:
        shares = shares + rest / rest.sum() * max(1.0 - shares.sum(), 0.0)
    floored: FloatArray = np.maximum(shares, floor)
    normalised: FloatArray = floored / floored.sum()
    return normalised


def train_model(
    left: Sequence[PersonRecord],
    right: Sequence[PersonRecord] | None = None,
    *,
    base: Model | None = None,
    seed: int = 1,
    random_pairs: int = RANDOM_PAIRS,
    matcher: Matcher | None = None,
) -> TrainingReport:
    """Estimate m and u on the records to be linked (`left` against `right`, or one list
    against itself), starting from `base` (the shipped model) and keeping its prior."""
    base = base or default_model()
    matcher = matcher or Matcher(model=base)
    lefts = [matcher.prepare(record) for record in left]
    rights = lefts if right is None else [matcher.prepare(record) for record in right]
    one_list = right is None
    randoms = _random_pairs(lefts, rights, random_pairs, seed)
    same_day = _same_day_pairs(lefts, rights, one_list)
    namesakes = _same_name_pairs(lefts, rights, one_list)
    u_floor = MIN_SEEN / max(len(randoms), 1)
    u_base, m_base = _tables(base, "u"), _tables(base, "m")
    seen_random, seen_same_day = _seen(randoms), _seen(same_day)
    kept_u = [
        _kept_levels(seen, elsewhere)
        for seen, elsewhere in zip(seen_random, seen_same_day, strict=True)
    ]
    u = tuple(
        _settled(share, before, kept, u_floor)
        for share, before, kept in zip(
            _level_frequencies(*_counted(randoms), u_base), u_base, kept_u, strict=True
        )
    )
    m, date_pass, date_m_learned = _m_passes(same_day, namesakes, seen_random, m_base, u)
    random_pass = _em(randoms, m, u, frozenset(FIELDS), learn_u=True, rate=base.prior)
    u = tuple(
        _settled(share, before, kept, u_floor)
        for share, before, kept in zip(random_pass.u, u_base, kept_u, strict=True)
    )
    m, date_pass, date_m_learned = _m_passes(same_day, namesakes, seen_random, m_base, u)
    levels = {
        field: {
            level: LevelParameters(float(m[i][j]), float(u[i][j]))
            for j, level in enumerate(LADDERS[field])
        }
        for i, field in enumerate(FIELDS)
    }
    digest = hashlib.sha256(
        json.dumps(
            {f: {lv: [p.m, p.u] for lv, p in ls.items()} for f, ls in levels.items()},
            sort_keys=True,
        ).encode()
    ).hexdigest()[:8]
    description = (
        f"EM on {len(lefts)}{'' if one_list else f' x {len(rights)}'} unlabelled records "
        f"(seed {seed}): u from {len(randoms)} random pairs, less the estimated "
        f"{random_pass.match_rate:.2g} of them the same person; m of every field but the birth "
        f"date from {len(same_day)} pairs born the same day ({date_pass.iterations} "
        f"iterations, converged={date_pass.converged}); "
        + (
            f"m of the birth date from {len(namesakes)} pairs of the same name (m of a "
            f"different date kept from {base.version}); "
            if date_m_learned
            else f"m of the birth date kept from {base.version} ({len(namesakes)} pairs of the "
            "same name show too few matches); "
        )
        + f"the prior kept from {base.version}."
    )
    model = Model(f"em-{digest}", base.prior, levels, description)
    return TrainingReport(
        model,
        len(randoms),
        len(same_day),
        date_pass,
        len(namesakes),
        date_m_learned,
        random_pass.match_rate,
    )


def record_frequencies(records: Sequence[PreparedRecord]) -> NameFrequencies:
    """Name-part frequencies of the records to be linked: how many records hold each token
    identity (once per record, whatever its scripts and aliases), made relative.

    The shipped table counts names across Wikidata; in one archive a name can be far commoner
    (a few hundred given names share a displaced population), and a name shared by namesakes
    there is weak evidence, however rare the world finds it (Splink takes its term frequencies
    from the records too)."""
    counts: Counter[str] = Counter()
    for record in records:
        counts.update({token.identity for name in record.names for token in name.tokens})
    return frequencies_from_counts(counts)


def with_record_frequencies(
    model: Model, records: Sequence[PersonRecord], matcher: Matcher | None = None
) -> Model:
    """`model` with the name-part frequencies of `records` (`record_frequencies`), as a new
    version named after the table's digest; its m, u and prior are unchanged."""
    matcher = matcher or Matcher(model=model)
    frequencies = record_frequencies([matcher.prepare(record) for record in records])
    digest = hashlib.sha256(json.dumps(frequencies.to_json(), sort_keys=True).encode()).hexdigest()[
        :8
    ]
    description = (
        f"{model.description} Name-part frequencies from {len(records)} records "
        f"({len(frequencies.table)} names seen {MIN_COUNT} times or more; typical frequency "
        f"{frequencies.typical:.3g})."
    ).strip()
    return replace(
        model,
        version=f"{model.version}+tf-{digest}",
        description=description,
        frequencies=frequencies,
    )
