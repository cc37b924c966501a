"""Benchmark metrics on tiny hand-computed cases."""

from __future__ import annotations

import math

import pytest

from benchmarks._metrics import (
    Pair,
    ScoredPair,
    best_f1,
    format_reliability,
    format_table,
    one_to_one,
    pairwise_prf,
    prf_at_threshold,
    recall_at_k,
    reliability_table,
)

TRUTH_LINK: list[Pair] = [("a1", "b1"), ("a2", "b2"), ("a3", "b3")]

# (predicted, truth, ordered, expected precision, recall, f1)
PRF_CASES = [
    ([("a1", "b1"), ("a2", "b2"), ("a3", "b3")], TRUTH_LINK, True, 1.0, 1.0, 1.0),
    ([("a1", "b1"), ("a2", "b9")], TRUTH_LINK, True, 0.5, 1 / 3, 0.4),
    ([], TRUTH_LINK, True, 0.0, 0.0, 0.0),
    ([("b1", "a1")], TRUTH_LINK, True, 0.0, 0.0, 0.0),  # link pairs are ordered
    ([("b1", "a1")], TRUTH_LINK, False, 1.0, 1 / 3, 0.5),  # dedupe pairs are not
    ([("x", "y"), ("y", "x")], [("x", "y")], False, 1.0, 1.0, 1.0),  # counted once
    ([("x", "x")], [("x", "y")], False, 0.0, 0.0, 0.0),  # a self-pair is never predicted
    ([("x", "y")], [], False, 0.0, 0.0, 0.0),
]


@pytest.mark.parametrize(("predicted", "truth", "ordered", "p", "r", "f1"), PRF_CASES)
def test_pairwise_prf(
    predicted: list[Pair], truth: list[Pair], ordered: bool, p: float, r: float, f1: float
) -> None:
    result = pairwise_prf(predicted, truth, ordered=ordered)
    assert (result.precision, result.recall, result.f1) == pytest.approx((p, r, f1))


SCORED: list[ScoredPair] = [
    ("a1", "b1", 0.9),
    ("a1", "b2", 0.8),
    ("a2", "b2", 0.7),
    ("a3", "b1", 0.4),
    ("a3", "b3", 0.2),
]

# (threshold, tp, predicted) with 3 true links
AT_THRESHOLD_CASES = [(0.95, 0, 0), (0.9, 1, 1), (0.75, 1, 2), (0.7, 2, 3), (0.0, 3, 5)]


@pytest.mark.parametrize(("threshold", "tp", "predicted"), AT_THRESHOLD_CASES)
def test_prf_at_threshold_is_inclusive(threshold: float, tp: int, predicted: int) -> None:
    result = prf_at_threshold(SCORED, TRUTH_LINK, threshold, ordered=True)
    assert (result.prf.true_positives, result.prf.predicted, result.prf.actual) == (
        tp,
        predicted,
        3,
    )


def test_best_f1_scans_every_threshold() -> None:
    # thresholds 0.9: 2/(1+3)=0.5; 0.8: 2/5; 0.7: 4/6=0.667; 0.4: 4/7; 0.2: 6/8=0.75
    result = best_f1(SCORED, TRUTH_LINK, ordered=True)
    assert result.threshold == 0.2
    assert result.prf.f1 == pytest.approx(0.75)


def test_best_f1_admits_ties_together_and_keeps_higher_threshold_on_equal_f1() -> None:
    scored = [("a", "x", 0.5), ("b", "y", 0.5), ("c", "z", 0.3)]
    truth = [("a", "x"), ("c", "z")]
    # 0.5 admits both tied pairs: 2*1/(2+2)=0.5; 0.3: 2*2/(3+2)=0.8
    assert best_f1(scored, truth, ordered=True).prf.f1 == pytest.approx(0.8)
    equal = [("a", "x", 0.9), ("q", "r", 0.8), ("c", "z", 0.7), ("s", "t", 0.6)]
    # 0.9: 2/3; 0.7: 4/5 (best); 0.6: 4/6
    assert best_f1(equal, truth, ordered=True).threshold == 0.7


def test_best_f1_without_scores_and_duplicate_pairs() -> None:
    empty = best_f1([], TRUTH_LINK, ordered=True)
    assert (empty.prf.f1, math.isinf(empty.threshold)) == (0.0, True)
    twice = [("x", "y", 0.2), ("y", "x", 0.9)]  # one unordered pair, best score kept
    result = best_f1(twice, [("x", "y")], ordered=False)
    assert (result.threshold, result.prf.f1) == (0.9, 1.0)


# (k, expected hits) for SCORED against TRUTH_LINK: a1 -> b1 rank 1; a2 -> b2 rank 1;
# a3 -> b3 rank 2 (behind b1)
RECALL_CASES = [(1, 2), (2, 3), (10, 3)]


@pytest.mark.parametrize(("k", "hits"), RECALL_CASES)
def test_recall_at_k(k: int, hits: int) -> None:
    result = recall_at_k(SCORED, TRUTH_LINK, k, ordered=True)
    assert (result.hits, result.queries) == (hits, 3)
    assert result.recall == pytest.approx(hits / 3)


def test_recall_at_k_breaks_ties_by_candidate_id_and_counts_unscored_queries() -> None:
    scored = [("a", "z", 0.5), ("a", "b", 0.5)]
    assert recall_at_k(scored, [("a", "z")], 1, ordered=True).hits == 0
    assert recall_at_k(scored, [("a", "b")], 1, ordered=True).hits == 1
    assert recall_at_k([], [("a", "b")], 1, ordered=True).recall == 0.0


def test_recall_at_k_dedupe_queries_both_records() -> None:
    # truth {p, q}: p's top 1 is r (0.9) -> miss; q's top 1 is p (0.6) -> hit
    scored = [("p", "r", 0.9), ("q", "p", 0.6)]
    result = recall_at_k(scored, [("p", "q")], 1, ordered=False)
    assert (result.hits, result.queries) == (1, 2)


def test_reliability_table_bins_and_rates() -> None:
    scored = [("a", "x", 0.05), ("b", "y", 0.95), ("c", "z", 1.0), ("d", "w", 0.55)]
    truth = [("b", "y"), ("d", "w")]
    table = reliability_table(scored, truth, bins=4, ordered=True)
    assert [(b.low, b.high, b.count, b.matches) for b in table] == [
        (0.0, 0.25, 1, 0),
        (0.25, 0.5, 0, 0),
        (0.5, 0.75, 1, 1),
        (0.75, 1.0, 2, 1),
    ]
    assert table[3].mean_predicted == pytest.approx(0.975)
    assert table[3].observed_rate == 0.5
    assert table[1].observed_rate == 0.0
    assert "[0.25, 0.50)" not in format_reliability(table)


# (scored, expected assignment)
ONE_TO_ONE_CASES = [
    (SCORED, [("a1", "b1", 0.9), ("a2", "b2", 0.7), ("a3", "b3", 0.2)]),
    ([("a", "x", 0.5), ("a", "w", 0.5)], [("a", "w", 0.5)]),
    ([], []),
]


@pytest.mark.parametrize(("scored", "expected"), ONE_TO_ONE_CASES)
def test_one_to_one_is_greedy(scored: list[ScoredPair], expected: list[ScoredPair]) -> None:
    assert one_to_one(scored) == expected


def test_format_table_aligns_columns() -> None:
    text = format_table(["a", "bb"], [["xxx", "y"]])
    assert text.splitlines() == ["a    bb", "---  --", "xxx  y"]
