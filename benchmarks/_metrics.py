"""Pairwise linkage metrics for the benchmarks: pure functions over pairs of record ids.

A *pair* is `(left_id, right_id)`. In a link task pairs are ordered (left file, right file); in
a dedupe task they are unordered and every function taking `ordered=False` first puts each pair
in canonical (sorted) order. A *scored pair* is `(left_id, right_id, score)`, the score being a
probability or any number where higher means "more likely the same person".

Thresholds are inclusive everywhere: a pair is predicted a match when `score >= threshold`, as
`kintrace link --threshold P` keeps pairs "at or above" P.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Pair = tuple[str, str]
ScoredPair = tuple[str, str, float]


@dataclass(frozen=True, slots=True)
class PRF:
    """Pairwise precision, recall and F1 with the counts they come from."""

    precision: float
    recall: float
    f1: float
    true_positives: int
    predicted: int
    actual: int


@dataclass(frozen=True, slots=True)
class ThresholdResult:
    """Precision, recall and F1 of the pairs scoring at or above `threshold`."""

    threshold: float
    prf: PRF


@dataclass(frozen=True, slots=True)
class RecallAtK:
    """Share of left records with a true partner that have one among their top `k` candidates."""

    k: int
    recall: float
    hits: int
    queries: int


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    """Pairs whose predicted probability lies in `[low, high)` (the last bin includes 1.0)."""

    low: float
    high: float
    count: int
    matches: int
    mean_predicted: float

    @property
    def observed_rate(self) -> float:
        """Observed share of true matches in the bin (0.0 for an empty bin)."""
        return self.matches / self.count if self.count else 0.0


def canonical(pair: Pair, *, ordered: bool) -> Pair:
    """Return `pair` as is for link tasks, or with its ids sorted for dedupe tasks."""
    if ordered or pair[0] <= pair[1]:
        return pair
    return (pair[1], pair[0])


def pair_set(pairs: Iterable[Pair], *, ordered: bool) -> set[Pair]:
    """Canonical set of `pairs`; self-pairs `(a, a)` are dropped in dedupe tasks."""
    out = {canonical(p, ordered=ordered) for p in pairs}
    if not ordered:
        out = {p for p in out if p[0] != p[1]}
    return out


def prf_from_counts(true_positives: int, predicted: int, actual: int) -> PRF:
    """Precision, recall and F1 from counts; an empty denominator gives 0.0, never an error."""
    precision = true_positives / predicted if predicted else 0.0
    recall = true_positives / actual if actual else 0.0
    denominator = predicted + actual
    f1 = 2 * true_positives / denominator if denominator else 0.0
    return PRF(precision, recall, f1, true_positives, predicted, actual)


def pairwise_prf(predicted: Iterable[Pair], truth: Iterable[Pair], *, ordered: bool) -> PRF:
    """Pairwise precision, recall and F1 of the `predicted` pairs against the `truth` pairs."""
    predicted_set = pair_set(predicted, ordered=ordered)
    truth_set = pair_set(truth, ordered=ordered)
    hits = len(predicted_set & truth_set)
    return prf_from_counts(hits, len(predicted_set), len(truth_set))


def best_scores(scored: Iterable[ScoredPair], *, ordered: bool) -> dict[Pair, float]:
    """One score per canonical pair: the highest when a pair was scored more than once."""
    best: dict[Pair, float] = {}
    for left, right, score in scored:
        pair = canonical((left, right), ordered=ordered)
        if not ordered and pair[0] == pair[1]:
            continue
        if score > best.get(pair, float("-inf")):
            best[pair] = score
    return best


def prf_at_threshold(
    scored: Iterable[ScoredPair], truth: Iterable[Pair], threshold: float, *, ordered: bool
) -> ThresholdResult:
    """Precision, recall and F1 of the pairs scoring at or above `threshold`."""
    scores = best_scores(scored, ordered=ordered)
    predicted = (pair for pair, score in scores.items() if score >= threshold)
    return ThresholdResult(threshold, pairwise_prf(predicted, truth, ordered=ordered))


def best_f1(
    scored: Iterable[ScoredPair], truth: Iterable[Pair], *, ordered: bool
) -> ThresholdResult:
    """The threshold with the highest F1, found with one sort of the scored pairs.

    Candidate thresholds are the distinct scores; pairs with equal scores are admitted together.
    True pairs that were never scored count as misses (a pair blocking did not find is a miss).
    Ties in F1 keep the higher threshold. Without any scored pair the result is F1 0 at +inf.
    """
    truth_set = pair_set(truth, ordered=ordered)
    ranked = sorted(best_scores(scored, ordered=ordered).items(), key=lambda item: -item[1])
    best = ThresholdResult(float("inf"), prf_from_counts(0, 0, len(truth_set)))
    hits = 0
    for index, (pair, score) in enumerate(ranked):
        hits += pair in truth_set
        is_last_of_tie = index + 1 == len(ranked) or ranked[index + 1][1] != score
        if not is_last_of_tie:
            continue
        prf = prf_from_counts(hits, index + 1, len(truth_set))
        if prf.f1 > best.prf.f1:
            best = ThresholdResult(score, prf)
    return best


def recall_at_k(
    scored: Iterable[ScoredPair], truth: Iterable[Pair], k: int, *, ordered: bool
) -> RecallAtK:
    """For each left record with at least one true partner: is one among its top `k` candidates?

    Candidates are ranked best score first, ties by the candidate's id (the order of
    `kintrace link` output). In a dedupe task (`ordered=False`) every record is a query and a
    pair is a candidate for both of its records.
    """
    truth_set = pair_set(truth, ordered=ordered)
    partners: dict[str, set[str]] = defaultdict(set)
    for left, right in truth_set:
        partners[left].add(right)
        if not ordered:
            partners[right].add(left)
    candidates: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for (left, right), score in best_scores(scored, ordered=ordered).items():
        if left in partners:
            candidates[left].append((-score, right))
        if not ordered and right in partners:
            candidates[right].append((-score, left))
    hits = 0
    for query, true_partners in partners.items():
        top = sorted(candidates.get(query, []))[:k]
        hits += any(candidate in true_partners for _, candidate in top)
    queries = len(partners)
    return RecallAtK(k, hits / queries if queries else 0.0, hits, queries)


def reliability_table(
    scored: Iterable[ScoredPair], truth: Iterable[Pair], *, bins: int = 10, ordered: bool
) -> list[ReliabilityBin]:
    """Predicted probability (in `bins` equal-width bins over [0, 1]) against observed match rate.

    Scores outside [0, 1] are clamped into the first or last bin.
    """
    truth_set = pair_set(truth, ordered=ordered)
    counts = [0] * bins
    matches = [0] * bins
    sums = [0.0] * bins
    for pair, score in best_scores(scored, ordered=ordered).items():
        index = min(bins - 1, max(0, int(score * bins)))
        counts[index] += 1
        matches[index] += pair in truth_set
        sums[index] += score
    return [
        ReliabilityBin(
            i / bins,
            (i + 1) / bins,
            counts[i],
            matches[i],
            sums[i] / counts[i] if counts[i] else 0.0,
        )
        for i in range(bins)
    ]


def one_to_one(scored: Iterable[ScoredPair]) -> list[ScoredPair]:
    """Greedy one-to-one assignment: best score first, each left and right id used at most once.

    Ties are broken by `(left_id, right_id)` so the result is deterministic.
    """
    ranked = sorted(scored, key=lambda item: (-item[2], item[0], item[1]))
    used_left: set[str] = set()
    used_right: set[str] = set()
    kept: list[ScoredPair] = []
    for left, right, score in ranked:
        if left in used_left or right in used_right:
            continue
        used_left.add(left)
        used_right.add(right)
        kept.append((left, right, score))
    return kept


def format_reliability(table: Sequence[ReliabilityBin]) -> str:
    """Render a reliability table as fixed-width text, one line per non-empty bin."""
    lines = [f"{'predicted':>13}  {'pairs':>9}  {'matches':>8}  {'mean pred':>9}  {'observed':>8}"]
    for row in table:
        if not row.count:
            continue
        lines.append(
            f"[{row.low:.2f}, {row.high:.2f})  {row.count:>9}  {row.matches:>8}  "
            f"{row.mean_predicted:>9.3f}  {row.observed_rate:>8.3f}"
        )
    return "\n".join(lines)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Render text cells as a left-aligned fixed-width table with a rule under the header."""
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    render = [
        "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=False))
        for row in [headers, *rows]
    ]
    render.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in render)
