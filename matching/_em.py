"""Expectation-maximisation for Fellegi-Sunter parameters from unlabelled comparisons.

The input is the comparison patterns of candidate pairs (one level index per field, -1 where
the field is missing) with how often each pattern occurs. Fields are assumed independent given
the match status (the Fellegi-Sunter model). As in Splink, u can be estimated beforehand from
random pairs (almost all non-matches) and held fixed, which keeps EM from drifting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
SMOOTHING = 1e-6


@dataclass(frozen=True, slots=True)
class EMResult:
    """Estimated match rate and m, u per field (rows: fields, one array of levels each)."""

    match_rate: float
    m: tuple[FloatArray, ...]
    u: tuple[FloatArray, ...]
    iterations: int
    converged: bool


def level_frequencies(
    patterns: IntArray,
    counts: FloatArray,
    previous: tuple[FloatArray, ...],
    active: tuple[bool, ...] | None = None,
) -> tuple[FloatArray, ...]:
    """Share of each level per field among non-missing values.

    A field that is inactive, or never observed, keeps its previous shares: no data is no
    reason to move a parameter.
    """
    shares = []
    observed = level_counts(patterns, counts, tuple(len(before) for before in previous))
    for field, (before, totals) in enumerate(zip(previous, observed, strict=True)):
        if (active is not None and not active[field]) or totals.sum() <= 0:
            shares.append(before)
            continue
        shares.append(_normalise(totals + SMOOTHING))
    return tuple(shares)


def level_counts(
    patterns: IntArray, counts: FloatArray, sizes: tuple[int, ...]
) -> tuple[FloatArray, ...]:
    """How many pairs reached each level of each field (`sizes`: levels per field), missing
    values not counted."""
    observed = []
    for field, size in enumerate(sizes):
        column = patterns[:, field]
        present = column >= 0
        totals = np.bincount(column[present], weights=counts[present], minlength=size)
        observed.append(np.asarray(totals, dtype=np.float64))
    return tuple(observed)


def _normalise(values: FloatArray) -> FloatArray:
    normalised: FloatArray = values / values.sum()
    return normalised


def _likelihood(
    patterns: IntArray, tables: tuple[FloatArray, ...], active: tuple[bool, ...]
) -> FloatArray:
    result = np.ones(patterns.shape[0])
    for field, table in enumerate(tables):
        if not active[field]:
            continue
        column = patterns[:, field]
        present = column >= 0
        result[present] *= table[column[present]]
    return result


def expectation_maximisation(
    patterns: IntArray,
    counts: FloatArray,
    m: tuple[FloatArray, ...],
    u: tuple[FloatArray, ...],
    match_rate: float,
    *,
    fix_u: bool = True,
    fix_m: bool = False,
    active: tuple[bool, ...] | None = None,
    max_iterations: int = 200,
    tolerance: float = 1e-6,
) -> EMResult:
    """Refine m and u (each unless fixed) and the match rate until the parameters stop moving.

    Fields marked inactive (those the candidate pairs were blocked on, which agree by
    construction) take no part and keep their parameters.
    """
    active = active or tuple(True for _ in m)
    converged = False
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - reported after the loop
        matched = match_rate * _likelihood(patterns, m, active)
        unmatched = (1.0 - match_rate) * _likelihood(patterns, u, active)
        posterior = matched / (matched + unmatched)
        weights_m = counts * posterior
        weights_u = counts * (1.0 - posterior)
        new_rate = float(weights_m.sum() / counts.sum())
        new_m = m if fix_m else level_frequencies(patterns, weights_m, m, active)
        new_u = u if fix_u else level_frequencies(patterns, weights_u, u, active)
        change = max(
            abs(new_rate - match_rate),
            max(float(np.abs(a - b).max()) for a, b in zip(new_m, m, strict=True)),
            max(float(np.abs(a - b).max()) for a, b in zip(new_u, u, strict=True)),
        )
        m, u, match_rate = new_m, new_u, new_rate
        if change < tolerance:
            converged = True
            break
    return EMResult(match_rate, m, u, iteration, converged)
