"""Scoring many candidate pairs with the engine, in several processes.

The engine is pure Python: one process scores some 20,000-45,000 pairs a second, so a file of a
million records is scored by as many processes as there are cores. The prepared records are
shared with the processes by forking (copy-on-write, never pickled); each returns only the
pairs at or above the threshold.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import numpy.typing as npt

from matching import Comparison, Matcher, PreparedRecord

Scored = tuple[int, int, Comparison]
CHUNK = 20_000

# Set by `score_pairs` in the parent before forking; the forked processes read it.
_shared: (
    tuple[Sequence[PreparedRecord], npt.NDArray[np.int64], npt.NDArray[np.int64], Matcher, float]
    | None
) = None


def _score_chunk(bounds: tuple[int, int]) -> list[Scored]:
    """The pairs `bounds` of the shared arrays at or above the threshold."""
    assert _shared is not None
    prepared, lows, highs, matcher, threshold = _shared
    start, stop = bounds
    kept = []
    for low, high in zip(lows[start:stop].tolist(), highs[start:stop].tolist(), strict=True):
        comparison = matcher.compare(prepared[low], prepared[high])
        if comparison.probability >= threshold:
            kept.append((low, high, comparison))
    return kept


def score_pairs(
    prepared: Sequence[PreparedRecord],
    lows: npt.NDArray[np.int64],
    highs: npt.NDArray[np.int64],
    matcher: Matcher,
    *,
    threshold: float,
    jobs: int,
    progress: Callable[[int], None],
) -> list[Scored]:
    """Each pair `(lows[i], highs[i])` scored, those at or above `threshold` returned in order.

    `progress` is told the number of pairs scored as chunks finish. With `jobs` 1 (or few
    pairs) everything runs here, in this process.
    """
    global _shared
    chunks = [(start, min(start + CHUNK, len(lows))) for start in range(0, len(lows), CHUNK)]
    _shared = (prepared, lows, highs, matcher, threshold)
    kept: list[Scored] = []
    try:
        with contextlib.ExitStack() as stack:
            scored: Iterator[list[Scored]] = map(_score_chunk, chunks)
            if jobs > 1 and len(chunks) > 1:
                # Objects made so far are left out of the collector's passes, so the forked
                # processes do not touch (and copy) the pages of every prepared record for it.
                gc.freeze()
                stack.callback(gc.unfreeze)
                pool = stack.enter_context(multiprocessing.get_context("fork").Pool(jobs))
                scored = pool.imap(_score_chunk, chunks)
            for (start, stop), result in zip(chunks, scored, strict=True):
                kept.extend(result)
                progress(stop - start)
    finally:
        _shared = None
    return kept
