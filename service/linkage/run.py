"""Linking two record lists, or deduplicating one, with blocking and the engine's scores."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from matching import (
    BULK_CANDIDATES,
    BulkRecords,
    Comparison,
    KeyIndex,
    Matcher,
    PersonRecord,
    blocking_keys,
    candidate_pairs,
    lookup_plan,
)
from service.linkage.scoring import score_pairs

Progress = Callable[[int], None]
Stage = Callable[[str, int], None]
"""Starts a stage of a long run: its label and how many steps it has (`Progress` counts them)."""


def _ordered(comparisons: list[Comparison], threshold: float, top: int | None) -> list[Comparison]:
    """Pairs at or above threshold, best first, ties by right id, at most `top`."""
    kept = [c for c in comparisons if c.probability >= threshold]
    kept.sort(key=lambda c: (-c.match_weight, c.right_id))
    return kept if top is None else kept[:top]


def link(
    lefts: Sequence[PersonRecord],
    rights: Sequence[PersonRecord],
    matcher: Matcher,
    *,
    threshold: float,
    top: int | None,
    progress: Progress = lambda _: None,
) -> Iterator[Comparison]:
    """Each left record against the right records blocking finds for it."""
    prepared_rights = [matcher.prepare(record) for record in rights]
    index = KeyIndex([blocking_keys(record) for record in prepared_rights])
    for left in lefts:
        prepared = matcher.prepare(left)
        found = index.candidates(lookup_plan(prepared))
        scored = [matcher.compare(prepared, prepared_rights[i]) for i in found]
        yield from _ordered(scored, threshold, top)
        progress(1)


def dedupe(
    records: Sequence[PersonRecord],
    matcher: Matcher,
    *,
    threshold: float,
    top: int | None,
    candidates: int = BULK_CANDIDATES,
    jobs: int = 1,
    progress: Progress = lambda _: None,
    stage: Stage = lambda _label, _total: None,
) -> list[Comparison]:
    """Pairs of records of one file that may be the same person, each pair once.

    Candidates come from bulk blocking (`matching.bulk`: compound keys, then each record's
    `candidates` best partners by a cheap pre-ranking), scored by the engine in `jobs`
    processes. The left record of a pair is the one that comes first in the file. Each record
    keeps its best `top` partners (before or after it in the file); a pair is written when
    either of its records kept it, grouped by left record, best first.
    """
    stage("preparing", len(records))
    prepared, bulk = [], BulkRecords()
    for record in records:
        prepared.append(matcher.prepare(record))
        bulk.add(prepared[-1])
        progress(1)
    stage("blocking", 1)
    lows, highs = candidate_pairs(bulk, per_record=candidates)
    progress(1)
    stage("scoring pairs", len(lows))
    scored = score_pairs(
        prepared, lows, highs, matcher, threshold=threshold, jobs=jobs, progress=progress
    )
    partners: dict[int, list[tuple[int, Comparison]]] = {}
    for low, high, comparison in scored:
        partners.setdefault(low, []).append((high, comparison))
        partners.setdefault(high, []).append((low, comparison))
    pairs: dict[tuple[int, int], Comparison] = {}
    for position, found in partners.items():
        found.sort(key=lambda item: (-item[1].match_weight, records[item[0]].id))
        for other, comparison in found if top is None else found[:top]:
            pairs[(min(position, other), max(position, other))] = comparison
    by_left: dict[int, list[Comparison]] = {}
    for (first, _), comparison in pairs.items():
        by_left.setdefault(first, []).append(comparison)
    return [c for first in sorted(by_left) for c in _ordered(by_left[first], threshold, None)]
