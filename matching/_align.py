"""Analysed names and their part-wise alignment.

A name is a sequence of tokens, each with a role when the record gave structured parts. Two names
are aligned by an optimal assignment of their content tokens (particles left out), which allows
any order, unmatched parts on either side (a dropped patronymic, a longer nasab chain), initials,
and compounds: two adjacent tokens on one side may align with one token on the other
("Abdel Rahman" = "Abdelrahman").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from rapidfuzz.distance import Indel

from matching._name_keys import MatchKey, TokenAnalysis, analyse_token, compare_tokens
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


@dataclass(frozen=True, slots=True)
class AnalysedName:
    """A name analysed once for cheap comparisons: parts, content parts, compounds."""

    text: str
    parts: tuple[NamePart, ...]
    content: tuple[int, ...]
    compounds: tuple[Compound, ...]

    @property
    def tokens(self) -> tuple[TokenAnalysis, ...]:
        """Analyses of the content parts, in order."""
        return tuple(self.parts[i].token for i in self.content)


@dataclass(frozen=True, slots=True)
class AlignedPair:
    """Parts (indices into ``AnalysedName.parts``) of the left and right name aligned together.

    One side holds two indices when a split compound met a joined one.
    """

    left: tuple[int, ...]
    right: tuple[int, ...]
    score: float
    key: MatchKey


@dataclass(frozen=True, slots=True)
class NameAlignment:
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


def _is_dropped_particle(parts: tuple[NamePart, ...], i: int) -> bool:
    """A particle is dropped only when a non-particle follows it: a trailing "Da" or "Le" is
    more likely a name (Chinese, Vietnamese) than a connector."""
    if not parts[i].token.is_particle:
        return False
    return any(not p.token.is_particle for p in parts[i + 1 :])


@dataclass(frozen=True, slots=True)
class _Edge:
    left: tuple[int, ...]
    right: tuple[int, ...]
    score: float
    key: MatchKey


def _edges(left: AnalysedName, right: AnalysedName) -> list[_Edge]:
    """Candidate alignments of single parts and compounds that are similar enough."""
    edges: list[_Edge] = []
    for a in left.content:
        ta = left.parts[a].token
        for b in right.content:
            m = compare_tokens(ta, right.parts[b].token)
            if m.score >= MIN_ALIGN or (m.key is MatchKey.INITIAL and m.score > 0.0):
                edges.append(_Edge((a,), (b,), m.score, m.key))
    Unit = tuple[tuple[int, ...], TokenAnalysis]
    left_units: list[Unit] = [((c.first, c.last), c.token) for c in left.compounds]
    right_units: list[Unit] = [((c.first, c.last), c.token) for c in right.compounds]
    singles_l: list[Unit] = [((a,), left.parts[a].token) for a in left.content]
    singles_r: list[Unit] = [((b,), right.parts[b].token) for b in right.content]
    pairs = [(lu, lt, ru, rt) for lu, lt in left_units for ru, rt in [*singles_r, *right_units]]
    pairs += [(lu, lt, ru, rt) for lu, lt in singles_l for ru, rt in right_units]
    for lu, lt, ru, rt in pairs:
        m = compare_tokens(lt, rt)
        if m.score >= MIN_COMPOUND and (m.key in COMPOUND_KEYS or _same_length(lt, rt)):
            edges.append(_Edge(lu, ru, m.score, m.key))
    return edges


def _same_length(a: TokenAnalysis, b: TokenAnalysis) -> bool:
    if not a.forms or not b.forms:
        return False
    return Indel.normalized_similarity(a.forms[0], b.forms[0]) >= COMPOUND_MIN_RATIO


def _weight(edge: _Edge) -> float:
    return edge.score * (len(edge.left) + len(edge.right))


def _solve_exact(edges: list[_Edge], left_order: tuple[int, ...]) -> list[_Edge]:
    """Maximum-weight set of disjoint edges by dynamic programming over the left parts in order
    and the set of right parts used (exact for the name sizes met in practice)."""
    by_start: dict[int, list[_Edge]] = {}
    for e in edges:
        by_start.setdefault(e.left[0], []).append(e)
    right_bit: dict[int, int] = {}
    for e in edges:
        for b in e.right:
            right_bit.setdefault(b, 1 << len(right_bit))
    position = {a: k for k, a in enumerate(left_order)}
    memo: dict[tuple[int, int], tuple[float, tuple[_Edge, ...]]] = {}

    def best(k: int, used: int) -> tuple[float, tuple[_Edge, ...]]:
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


def _solve_greedy(edges: list[_Edge]) -> list[_Edge]:
    used_l: set[int] = set()
    used_r: set[int] = set()
    chosen: list[_Edge] = []
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
    if len(left.content) <= MAX_EXACT and len(right.content) <= MAX_EXACT:
        chosen = _solve_exact(edges, left.content)
    else:
        chosen = _solve_greedy(edges)
    chosen.sort(key=lambda e: e.left)
    covered_l = {a for e in chosen for a in e.left}
    covered_r = {b for e in chosen for b in e.right}
    total = len(left.content) + len(right.content)
    mass = sum(_weight(e) for e in chosen)
    shorter = min(len(left.content), len(right.content))
    matched_short = min(len(covered_l), len(covered_r))
    rights = [e.right[0] for e in chosen]
    return NameAlignment(
        pairs=tuple(AlignedPair(e.left, e.right, e.score, e.key) for e in chosen),
        unmatched_left=tuple(a for a in left.content if a not in covered_l),
        unmatched_right=tuple(b for b in right.content if b not in covered_r),
        score=mass / total if total else 0.0,
        coverage=matched_short / shorter if shorter else 0.0,
        in_order=rights == sorted(rights),
    )
