"""Linking two record lists, or deduplicating one, with blocking and the engine's scores."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from matching import Comparison, KeyIndex, Matcher, PersonRecord, blocking_keys, lookup_plan

Progress = Callable[[int], None]


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
    progress: Progress = lambda _: None,
) -> list[Comparison]:
    """Pairs of records of one file that may be the same person, each pair once.

    The left record of a pair is the one that comes first in the file. Each record keeps its
    best `top` partners (before or after it in the file); a pair is written when either of its
    records kept it, grouped by left record, best first.
    """
    prepared = [matcher.prepare(record) for record in records]
    index = KeyIndex([blocking_keys(record) for record in prepared])
    pairs: dict[tuple[int, int], Comparison] = {}
    for position in range(len(prepared)):
        scored: list[tuple[int, Comparison]] = []
        for other in index.candidates(lookup_plan(prepared[position])):
            if other == position:
                continue
            pair = (min(position, other), max(position, other))
            comparison = pairs.get(pair) or matcher.compare(prepared[pair[0]], prepared[pair[1]])
            if comparison.probability >= threshold:
                scored.append((other, comparison))
        scored.sort(key=lambda item: (-item[1].match_weight, records[item[0]].id))
        for other, comparison in scored if top is None else scored[:top]:
            pairs[(min(position, other), max(position, other))] = comparison
        progress(1)
    by_left: dict[int, list[Comparison]] = {}
    for (first, _), comparison in pairs.items():
        by_left.setdefault(first, []).append(comparison)
    return [c for first in sorted(by_left) for c in _ordered(by_left[first], threshold, None)]
