"""Field comparators: each turns two prepared records into a level on its ladder.

A ladder is ordered best first; `missing` (either side without the field) carries no weight.
Name levels come from the optimal part-wise alignment of the two best-matching names; the
frequency of the aligned parts is kept so the scorer can weigh rare names more.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from matching._align import AlignedPair, NameAlignment, PartRole, _build, align_names
from matching.dates import DateLevel, FuzzyDate, compare_dates
from matching.names import AnalysedName, analyse_name
from matching.records import PersonName, PersonRecord

MISSING = "missing"

NAME_LEVELS = ("exact", "strong", "similar", "partial", "one_part", "different")
PARENT_LEVELS = ("exact", "similar", "different")
DATE_LEVELS = tuple(level.value for level in DateLevel if level is not DateLevel.MISSING)
SEX_LEVELS = ("same", "different")
PLACE_LEVELS = ("same", "similar", "different")
NATIONALITY_LEVELS = ("same", "different")

LADDERS: dict[str, tuple[str, ...]] = {
    "name": NAME_LEVELS,
    "birth_date": DATE_LEVELS,
    "sex": SEX_LEVELS,
    "birth_place": PLACE_LEVELS,
    "nationality": NATIONALITY_LEVELS,
    "father_name": PARENT_LEVELS,
    "mother_name": PARENT_LEVELS,
    "last_known_place": PLACE_LEVELS,
}

EXACT_PART = 0.97
STRONG_PART = 0.90


@dataclass(frozen=True, slots=True)
class PreparedRecord:
    """A record analysed once: names, parents and places as analysed names, the date parsed."""

    record: PersonRecord
    names: tuple[AnalysedName, ...]
    own_names: tuple[AnalysedName, ...]
    father: AnalysedName | None
    mother: AnalysedName | None
    birth_place: AnalysedName | None
    last_known_place: AnalysedName | None
    nationality: str | None


class NameMatch(NamedTuple):
    """The alignment of the two best-matching names of a pair."""

    left: AnalysedName
    right: AnalysedName
    alignment: NameAlignment


class FieldLevel(NamedTuple):
    """The level a field reached, with a short reason and (for names) the alignment.

    Named tuples, as a level is made for every field of every pair compared and read once.
    """

    field: str
    level: str
    detail: str
    names: NameMatch | None = None


@lru_cache(maxsize=262144)
def _analyse(name: PersonName, use_model: bool) -> AnalysedName:
    return analyse_name(
        name.full,
        given=name.given,
        father=name.father,
        grandfather=name.grandfather,
        family=name.family,
        other=name.other,
        use_model=use_model,
    )


@lru_cache(maxsize=262144)
def _analyse_text(text: str | None, use_model: bool) -> AnalysedName | None:
    if text is None or not text.strip():
        return None
    analysed = analyse_name(text, use_model=use_model)
    return analysed if analysed.content else None


@lru_cache(maxsize=262144)
def _without_father(name: AnalysedName, use_model: bool) -> AnalysedName:
    """The name without the parts its record gives as the father's name (a nasab's second
    name), or the name itself when it has none."""
    kept = tuple((p.token.text, p.role) for p in name.parts if p.role is not PartRole.FATHER)
    return name if len(kept) == len(name.parts) else _build(name.text, kept, use_model)


def _normalise_nationality(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    folded = unicodedata.normalize("NFKC", value).strip().casefold()
    return folded


def _father_of(record: PersonRecord) -> str | None:
    if record.father_name:
        return record.father_name
    return next((name.father for name in record.names if name.father), None)


def prepare(record: PersonRecord, use_model: bool = True) -> PreparedRecord:
    """Analyse a record's names, parents' names and places once, for many comparisons."""
    names = tuple(
        analysed
        for analysed in (_analyse(name, use_model) for name in record.names if not name.is_empty())
        if analysed.content
    )
    own_names = tuple(
        own for own in (_without_father(name, use_model) for name in names) if own.content
    )
    return PreparedRecord(
        record=record,
        names=names,
        own_names=own_names,
        father=_analyse_text(_father_of(record), use_model),
        mother=_analyse_text(record.mother_name, use_model),
        birth_place=_analyse_text(record.birth_place, use_model),
        last_known_place=_analyse_text(record.last_known_place, use_model),
        nationality=_normalise_nationality(record.nationality),
    )


def best_name_match(
    left: tuple[AnalysedName, ...], right: tuple[AnalysedName, ...]
) -> NameMatch | None:
    """The pair of names (one per side) whose alignment is best, or None when a side has none."""
    best: NameMatch | None = None
    for a in left:
        for b in right:
            alignment = align_names(a, b)
            if best is None or _rank(alignment) > _rank(best.alignment):
                best = NameMatch(a, b, alignment)
    return best


def _rank(alignment: NameAlignment) -> tuple[float, float]:
    return (alignment.coverage * len(alignment.pairs) + alignment.score, alignment.score)


def name_level(alignment: NameAlignment) -> str:
    """Ladder level of an alignment of two whole names."""
    pairs = alignment.pairs
    if not pairs:
        return "different"
    worst = min(pair.score for pair in pairs)
    extras = bool(alignment.unmatched_left or alignment.unmatched_right)
    if len(pairs) == 1 and extras:
        # One part met, the other side has more: a name recorded as one word ("Heron") says
        # nothing of the given name it lacks, so it is one part's evidence, not a whole name's.
        return "one_part"
    if alignment.coverage >= 1.0:
        if worst >= EXACT_PART and not extras:
            return "exact"
        return "strong" if worst >= STRONG_PART else "similar"
    return "partial" if len(pairs) >= 2 else "one_part"


def _describe_pair(match: NameMatch, pair: AlignedPair) -> str:
    left = " ".join(match.left.parts[i].token.text for i in pair.left)
    right = " ".join(match.right.parts[i].token.text for i in pair.right)
    return f"{left}={right} ({pair.key.value})"


def _compared_names(
    left: PreparedRecord, right: PreparedRecord
) -> tuple[tuple[AnalysedName, ...], tuple[AnalysedName, ...]]:
    """The names the name field compares: without the father's part when both records have a
    father's name, which the father field compares (two namesakes' children of one father
    would otherwise count his name twice, as a name part and as the father's)."""
    if left.father is None or right.father is None or not left.own_names or not right.own_names:
        return left.names, right.names
    return left.own_names, right.own_names


def compare_names(left: PreparedRecord, right: PreparedRecord) -> FieldLevel:
    """Names: the best alignment over all names of both records (see `_compared_names`)."""
    match = best_name_match(*_compared_names(left, right))
    if match is None:
        return FieldLevel("name", MISSING, "no name on one side")
    level = name_level(match.alignment)
    aligned = ", ".join(_describe_pair(match, pair) for pair in match.alignment.pairs)
    return FieldLevel("name", level, aligned or "no part agrees", match)


def _parent_level(alignment: NameAlignment) -> str:
    level = name_level(alignment)
    if level in ("exact", "strong"):
        return "exact"
    return "similar" if level in ("similar", "partial", "one_part") else "different"


def compare_parent(field: str, left: AnalysedName | None, right: AnalysedName | None) -> FieldLevel:
    """A parent's name: agreeing, similar (some part agrees), or different."""
    if left is None or right is None:
        return FieldLevel(field, MISSING, "not recorded on one side")
    alignment = align_names(left, right)
    return FieldLevel(field, _parent_level(alignment), f"{left.text} / {right.text}")


def compare_place(field: str, left: AnalysedName | None, right: AnalysedName | None) -> FieldLevel:
    """A place: the same (every word of the shorter agrees), similar (a word agrees), different.

    Places are compared with the name keys, so Halab / حلب / Aleppo's romanisations meet.
    """
    if left is None or right is None:
        return FieldLevel(field, MISSING, "not recorded on one side")
    alignment = align_names(left, right)
    if alignment.coverage >= 1.0 and alignment.pairs:
        level = "same"
    elif alignment.pairs:
        level = "similar"
    else:
        level = "different"
    return FieldLevel(field, level, f"{left.text} / {right.text}")


def compare_birth_dates(left: FuzzyDate | None, right: FuzzyDate | None) -> FieldLevel:
    """Birth dates on the date ladder (exact ... different), see `matching.dates`."""
    if left is None or right is None:
        return FieldLevel("birth_date", MISSING, "not recorded on one side")
    comparison = compare_dates(left, right)
    if comparison.level is DateLevel.MISSING:
        return FieldLevel("birth_date", MISSING, comparison.detail)
    return FieldLevel("birth_date", comparison.level.value, comparison.detail)


def compare_sex(left: str | None, right: str | None) -> FieldLevel:
    """Sex: same or different; "X" and unknown values are missing."""
    known = {"M", "F"}
    if left not in known or right not in known:
        return FieldLevel("sex", MISSING, "not recorded on one side")
    return FieldLevel("sex", "same" if left == right else "different", f"{left} / {right}")


def compare_nationality(left: str | None, right: str | None) -> FieldLevel:
    """Nationality: same or different (codes or names, compared case-folded)."""
    if left is None or right is None:
        return FieldLevel("nationality", MISSING, "not recorded on one side")
    return FieldLevel("nationality", "same" if left == right else "different", f"{left} / {right}")


def compare_fields(left: PreparedRecord, right: PreparedRecord) -> tuple[FieldLevel, ...]:
    """Every field's level, in the order of `LADDERS`."""
    return (
        compare_names(left, right),
        compare_birth_dates(left.record.birth_date, right.record.birth_date),
        compare_sex(left.record.sex, right.record.sex),
        compare_place("birth_place", left.birth_place, right.birth_place),
        compare_nationality(left.nationality, right.nationality),
        compare_parent("father_name", left.father, right.father),
        compare_parent("mother_name", left.mother, right.mother),
        compare_place("last_known_place", left.last_known_place, right.last_known_place),
    )
