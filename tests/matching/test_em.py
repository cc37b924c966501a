"""EM recovers Fellegi-Sunter parameters from unlabelled patterns drawn from a known model."""

from __future__ import annotations

import numpy as np

from matching._em import expectation_maximisation, level_frequencies

TRUE_M = (np.array([0.8, 0.15, 0.05]), np.array([0.7, 0.2, 0.1]), np.array([0.95, 0.05]))
TRUE_U = (np.array([0.01, 0.09, 0.9]), np.array([0.02, 0.18, 0.8]), np.array([0.5, 0.5]))
RATE = 0.1


def sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    is_match = rng.random(n) < RATE
    columns = []
    for m, u in zip(TRUE_M, TRUE_U, strict=True):
        levels_m = rng.choice(len(m), size=n, p=m)
        levels_u = rng.choice(len(u), size=n, p=u)
        column = np.where(is_match, levels_m, levels_u)
        column[rng.random(n) < 0.1] = -1
        columns.append(column)
    patterns = np.stack(columns, axis=1).astype(np.int64)
    unique, counts = np.unique(patterns, axis=0, return_counts=True)
    return unique, counts.astype(np.float64)


def test_em_recovers_m_and_the_match_rate_with_u_fixed():
    patterns, counts = sample(200_000, seed=1)
    start_m = (np.array([0.5, 0.3, 0.2]), np.array([0.5, 0.3, 0.2]), np.array([0.6, 0.4]))
    result = expectation_maximisation(patterns, counts, start_m, TRUE_U, 0.3)
    assert result.converged
    assert abs(result.match_rate - RATE) < 0.01
    for estimated, true in zip(result.m, TRUE_M, strict=True):
        assert np.abs(estimated - true).max() < 0.03


def test_level_frequencies_ignore_missing_values():
    patterns = np.array([[0, -1], [1, 1], [1, 0]], dtype=np.int64)
    counts = np.array([1.0, 2.0, 1.0])
    first, second = level_frequencies(patterns, counts, (np.ones(2) / 2, np.ones(2) / 2))
    assert np.allclose(first, [0.25, 0.75], atol=1e-5)
    assert np.allclose(second, [1 / 3, 2 / 3], atol=1e-5)


def test_inactive_and_unobserved_fields_keep_their_parameters():
    patterns, counts = sample(50_000, seed=2)
    patterns[:, 1] = -1
    start_m = (np.array([0.5, 0.3, 0.2]), np.array([0.5, 0.3, 0.2]), np.array([0.6, 0.4]))
    result = expectation_maximisation(
        patterns, counts, start_m, TRUE_U, 0.3, active=(True, True, False)
    )
    assert np.array_equal(result.m[1], start_m[1])
    assert np.array_equal(result.m[2], start_m[2])
    assert not np.array_equal(result.m[0], start_m[0])


def test_em_recovers_u_and_the_match_rate_with_m_fixed():
    """How random pairs are cleaned of the few matches among them: m known, u learned."""
    patterns, counts = sample(200_000, seed=3)
    start_u = (np.array([0.2, 0.3, 0.5]), np.array([0.2, 0.3, 0.5]), np.array([0.6, 0.4]))
    result = expectation_maximisation(
        patterns, counts, TRUE_M, start_u, 0.3, fix_u=False, fix_m=True
    )
    assert result.converged
    assert abs(result.match_rate - RATE) < 0.01
    assert all(np.array_equal(a, b) for a, b in zip(result.m, TRUE_M, strict=True))
    for estimated, true in zip(result.u, TRUE_U, strict=True):
        assert np.abs(estimated - true).max() < 0.01
