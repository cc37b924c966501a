"""Analysed names and their part-wise alignment.

A name is a sequence of tokens, each with a role when the record gave structured parts. Two names
are aligned by an optimal assignment of their content tokens (particles left out), which allows
any order, unmatched parts on either side (a dropped patronymic, a longer nasab chain), initials,
and compounds: two adjacent tokens on one side may align with one token on the other
("Abdel Rahman" = "Abdelrahman").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz.distance import Indel

from matching._name_keys import (
    MatchKey,
    TokenAnalysis,
    TokenMatch,
    analyse_token,
    compare_tokens,
    compare_tokens_above,
)
from matching._text import split_tokens

MIN_ALIGN = 0.80
MIN_COMPOUND = 0.90
DUPLICATE = 0.90
# Only an article may sit inside a compound (Abd al-Rahman); connectors such as bin or van
# separate two names.
ARTICLES = frozenset({"al", "el", "ul", "il", "ar", "ad", "as", "at", "az", "an", "ash", "ال"})
# Jaro-Winkler rewards a shared prefix, which a compound always has with its first part
# (ivanpetrov ~ ivanov): a compound must also agree in length, or meet through a strong key.
COMPOUND_KEYS = frozenset({MatchKey.EXACT, MatchKey.VARIANT, MatchKey.ROMANISATION})
COMPOUND_MIN_RATIO = 0.85
MAX_EXACT = 10
MAX_COMPOUND_CHARS = 24


class PartRole(StrEnum):
    """Role of a name part when the record says it; ``UNKNOWN`` for a full-name string."""

    GIVEN = "given"
    FATHER = "father"
    GRANDFATHER = "grandfather"
    FAMILY = "family"
    OTHER = "other"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class NamePart:
    """One token of a name, in the order written, with its role and analysis."""

    token: TokenAnalysis
    role: PartRole


@dataclass(frozen=True, slots=True)
class Compound:
    """Adjacent content parts ``first..last`` (and any particles between) read as one token."""

    first: int
    last: int
    token: TokenAnalysis


TokenKey = tuple[str, bool]
# A content part or compound as the aligner meets it: the parts it covers, the key its token's
# comparisons are cached under (None when the token is not the cached analysis of its text, as
# one built by hand may differ from it) and which compound it is (-1 for a single part). The
# token itself is looked up on a cache miss only, so that units hold nothing the garbage
# collector must keep following: a name adds no work to its collections.
Unit = tuple[tuple[int, ...], TokenKey | None, int]


@dataclass(frozen=True, slots=True)
class AnalysedName:
    """A name analysed once for cheap comparisons: parts, content parts, compounds.

    ``single_units`` and ``compound_units`` are derived from the others, once, for the aligner.
    """

    text: str
    parts: tuple[NamePart, ...]
    content: tuple[int, ...]
    compounds: tuple[Compound, ...]
    single_units: tuple[Unit, ...] = field(init=False, repr=False, compare=False)
    compound_units: tuple[Unit, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        singles = tuple(_unit((a,), self.parts[a].token, -1) for a in self.content)
        compounds = tuple(
            _unit((c.first, c.last), c.token, k) for k, c in enumerate(self.compounds)
        )
        object.__setattr__(self, "single_units", singles)
        object.__setattr__(self, "compound_units", compounds)

    @property
    def tokens(self) -> tuple[TokenAnalysis, ...]:
        """Analyses of the content parts, in order."""
        return tuple(self.parts[i].token for i in self.content)


class AlignedPair(NamedTuple):
    """Parts (indices into ``AnalysedName.parts``) of the left and right name aligned together.

    One side holds two indices when a split compound met a joined one. (A named tuple: scoring
    builds and drops many, and it is far cheaper to build than a dataclass.)
    """

    left: tuple[int, ...]
    right: tuple[int, ...]
    score: float
    key: MatchKey


class NameAlignment(NamedTuple):
    """Result of :func:`align_names`.

    ``score`` is the Dice-style similarity of the whole names: twice the similarity mass of the
    aligned content parts over the number of content parts on both sides. ``coverage`` is the
    share of the shorter name's content parts that aligned. ``in_order`` tells whether the
    aligned parts keep their relative order on both sides.
    """

    pairs: tuple[AlignedPair, ...]
    unmatched_left: tuple[int, ...]
    unmatched_right: tuple[int, ...]
    score: float
    coverage: float
    in_order: bool


_ROLE_ORDER = (PartRole.GIVEN, PartRole.FATHER, PartRole.GRANDFATHER, PartRole.FAMILY)


def analyse_name(
    text: str = "",
    *,
    given: str | None = None,
    father: str | None = None,
    grandfather: str | None = None,
    family: str | None = None,
    other: Iterable[str] = (),
    use_model: bool = True,
) -> AnalysedName:
    """Analyse a name given as a full string and/or structured parts.

    Parts keep their role; tokens of the full string are added with role ``UNKNOWN`` unless
    they match a part (the same token, or another spelling of it), so both may be given
    without double counting. ``use_model=False``
    disables the learned romanisation table.
    """
    fields = dict(zip(_ROLE_ORDER, (given, father, grandfather, family), strict=True))
    raw: list[tuple[str, PartRole]] = []
    for role, value in fields.items():
        if value:
            raw.extend((tok, role) for tok in split_tokens(value))
    for value in other:
        raw.extend((tok, PartRole.OTHER) for tok in split_tokens(value))
    known = [analyse_token(tok, use_model) for tok, _ in raw]
    for tok in split_tokens(text):
        token = analyse_token(tok, use_model)
        if not any(compare_tokens(token, k).score >= DUPLICATE for k in known):
            raw.append((tok, PartRole.UNKNOWN))
    return _build(text or " ".join(tok for tok, _ in raw), tuple(raw), use_model)


@lru_cache(maxsize=65536)
def _build(text: str, raw: tuple[tuple[str, PartRole], ...], use_model: bool) -> AnalysedName:
    parts = tuple(NamePart(analyse_token(tok, use_model), role) for tok, role in raw)
    content = tuple(i for i, p in enumerate(parts) if not _is_dropped_particle(parts, i))
    compounds: list[Compound] = []
    for a, b in zip(content, content[1:], strict=False):
        if parts[a].role != parts[b].role or parts[a].token.is_initial or parts[b].token.is_initial:
            continue
        if any(parts[k].token.native not in ARTICLES for k in range(a + 1, b)):
            continue
        joined = "".join(parts[k].token.text for k in range(a, b + 1))
        if len(joined) <= MAX_COMPOUND_CHARS:
            compounds.append(Compound(a, b, analyse_token(joined, use_model)))
    return AnalysedName(text, parts, content, tuple(compounds))


def _unit_token(name: AnalysedName, unit: Unit) -> TokenAnalysis:
    """The token of one of the name's units (its compound's, or its single part's)."""
    covered, _, compound = unit
    return name.compounds[compound].token if compound >= 0 else name.parts[covered[0]].token


def _unit(covered: tuple[int, ...], token: TokenAnalysis, compound: int) -> Unit:
    """A unit of a name; its token is keyed by text only if it is the cached analysis."""
    cached = token is analyse_token(token.text, token.with_model)
    return covered, (token.text, token.with_model) if cached else None, compound


def _is_dropped_particle(parts: tuple[NamePart, ...], i: int) -> bool:
    """A particle is dropped only when a non-particle follows it: a trailing "Da" or "Le" is
    more likely a name (Chinese, Vietnamese) than a connector."""
    if not parts[i].token.is_particle:
        return False
    return any(not p.token.is_particle for p in parts[i + 1 :])


Rule = Callable[[TokenAnalysis, TokenAnalysis], TokenMatch | None]
# Verdicts kept per rule (each worker process holds its own): a new record's tokens meet its
# candidates' within one comparison and seldom again, so a quarter of a million suffices.
MAX_CACHED_PAIRS = 1 << 18
_UNKNOWN = TokenMatch(-1.0, MatchKey.NONE)


class _EdgeCache:
    """A rule's verdicts (the match, or None for no edge) on pairs of tokens, by their keys.

    Rows are per left token so that a name's parts are looked up once each against the other
    name's; everything is dropped at ``MAX_CACHED_PAIRS`` verdicts.
    """

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.rows: dict[TokenKey, dict[TokenKey | None, TokenMatch | None]] = {}
        self.size = 0

    def row(self, key: TokenKey | None) -> dict[TokenKey | None, TokenMatch | None]:
        """The verdicts known for a left token (a fresh, uncached row when it has no key)."""
        if key is None:
            return {}
        row = self.rows.get(key)
        if row is None:
            if self.size >= MAX_CACHED_PAIRS:
                self.clear()
            row = self.rows[key] = {}
        return row

    def clear(self) -> None:
        """Forget every verdict."""
        self.rows.clear()
        self.size = 0

    def add_edges(
        self,
        edges: list[AlignedPair],
        left_name: AnalysedName,
        lefts: tuple[Unit, ...],
        right_name: AnalysedName,
        rights: tuple[Unit, ...],
    ) -> None:
        """Append an edge for each pair of a left and a right unit the rule accepts, in order."""
        for unit in lefts:
            left, key, _ = unit
            row = self.row(key)
            for other in rights:
                right, other_key, _ = other
                m = row.get(other_key, _UNKNOWN)
                if m is _UNKNOWN:
                    m = self.rule(_unit_token(left_name, unit), _unit_token(right_name, other))
                    if key is not None and other_key is not None:
                        row[other_key] = m
                        self.size += 1
                if m is not None:
                    edges.append(AlignedPair(left, right, m.score, m.key))


def _single_verdict(a: TokenAnalysis, b: TokenAnalysis) -> TokenMatch | None:
    """Two single parts align from 0.80 up, or when an initial agrees with a name."""
    m = compare_tokens_above(a, b, MIN_ALIGN)
    if m is not None and (m.score >= MIN_ALIGN or (m.key is MatchKey.INITIAL and m.score > 0.0)):
        return m
    return None


def _compound_verdict(a: TokenAnalysis, b: TokenAnalysis) -> TokenMatch | None:
    """A compound aligns from 0.90 up, through a strong key or between forms of like length
    (known first, as it spares the fuzzy search where only a strong key could do)."""
    same_length = _same_length(a, b)
    m = compare_tokens_above(a, b, MIN_COMPOUND, weak=same_length)
    if m is None or m.score < MIN_COMPOUND:
        return None
    return m if m.key in COMPOUND_KEYS or same_length else None


_SINGLES = _EdgeCache(_single_verdict)
_COMPOUNDS = _EdgeCache(_compound_verdict)


def clear_caches() -> None:
    """Forget the aligner's verdicts on pairs of tokens (to measure the cost without them)."""
    _SINGLES.clear()
    _COMPOUNDS.clear()


def _edges(left: AnalysedName, right: AnalysedName) -> list[AlignedPair]:
    """Candidate alignments of single parts and compounds that are similar enough: singles
    against singles, then each compound against anything, then singles against compounds."""
    edges: list[AlignedPair] = []
    _SINGLES.add_edges(edges, left, left.single_units, right, right.single_units)
    if left.compound_units:
        rights = right.single_units + right.compound_units
        _COMPOUNDS.add_edges(edges, left, left.compound_units, right, rights)
    if right.compound_units:
        _COMPOUNDS.add_edges(edges, left, left.single_units, right, right.compound_units)
    return edges


def _same_length(a: TokenAnalysis, b: TokenAnalysis) -> bool:
    if not a.forms or not b.forms:
        return False
    return Indel.normalized_similarity(a.forms[0], b.forms[0]) >= COMPOUND_MIN_RATIO


def _weight(edge: AlignedPair) -> float:
    return edge.score * (len(edge.left) + len(edge.right))


def _solve_exact(edges: list[AlignedPair], left_order: tuple[int, ...]) -> list[AlignedPair]:
    """Maximum-weight set of disjoint edges by dynamic programming over the left parts in order
    and the set of right parts used (exact for the name sizes met in practice)."""
    by_start: dict[int, list[AlignedPair]] = {}
    for e in edges:
        by_start.setdefault(e.left[0], []).append(e)
    right_bit: dict[int, int] = {}
    for e in edges:
        for b in e.right:
            right_bit.setdefault(b, 1 << len(right_bit))
    position = {a: k for k, a in enumerate(left_order)}
    memo: dict[tuple[int, int], tuple[float, tuple[AlignedPair, ...]]] = {}

    def best(k: int, used: int) -> tuple[float, tuple[AlignedPair, ...]]:
        if k >= len(left_order):
            return 0.0, ()
        state = (k, used)
        if state in memo:
            return memo[state]
        result = best(k + 1, used)
        for e in by_start.get(left_order[k], ()):
            mask = 0
            for b in e.right:
                mask |= right_bit[b]
            if used & mask:
                continue
            nxt = position[e.left[-1]] + 1
            value, chosen = best(nxt, used | mask)
            value += _weight(e)
            if value > result[0] + 1e-9:
                result = (value, (e, *chosen))
        memo[state] = result
        return result

    return list(best(0, 0)[1])


def _solve_greedy(edges: list[AlignedPair]) -> list[AlignedPair]:
    used_l: set[int] = set()
    used_r: set[int] = set()
    chosen: list[AlignedPair] = []
    for e in sorted(edges, key=lambda e: (-_weight(e), e.left, e.right)):
        if used_l.isdisjoint(e.left) and used_r.isdisjoint(e.right):
            chosen.append(e)
            used_l.update(e.left)
            used_r.update(e.right)
    return chosen


def align_names(left: AnalysedName, right: AnalysedName) -> NameAlignment:
    """Optimal part-wise alignment of two analysed names.

    Every content part aligns with at most one part (or a compound) of the other name, in any
    order; pairs below a similarity of 0.80 (0.90 for compounds) are not aligned, except an
    initial agreeing with a name. The chosen set
    maximises the aligned similarity weighted by the number of parts each pair covers.
    """
    edges = _edges(left, right)
    if not edges:
        return NameAlignment((), left.content, right.content, 0.0, 0.0, True)
    if _disjoint(edges):
        chosen = edges  # every edge weighs more than nothing, so the best set takes them all
    elif len(left.content) <= MAX_EXACT and len(right.content) <= MAX_EXACT:
        chosen = _solve_exact(edges, left.content)
    else:
        chosen = _solve_greedy(edges)
    chosen.sort(key=_left)
    covered_l = {a for e in chosen for a in e.left}
    covered_r = {b for e in chosen for b in e.right}
    total = len(left.content) + len(right.content)
    mass = sum(_weight(e) for e in chosen)
    shorter = min(len(left.content), len(right.content))
    matched_short = min(len(covered_l), len(covered_r))
    rights = [e.right[0] for e in chosen]
    return NameAlignment(
        tuple(chosen),
        tuple([a for a in left.content if a not in covered_l]),
        tuple([b for b in right.content if b not in covered_r]),
        mass / total if total else 0.0,
        matched_short / shorter if shorter else 0.0,
        rights == sorted(rights),
    )


def _left(edge: AlignedPair) -> tuple[int, ...]:
    return edge.left


def _disjoint(edges: list[AlignedPair]) -> bool:
    """Do no two edges share a part? (Then no choice is left to make.)"""
    if len(edges) == 1:
        return True
    lefts = [a for e in edges for a in e.left]
    rights = [b for e in edges for b in e.right]
    return len(set(lefts)) == len(lefts) and len(set(rights)) == len(rights)
