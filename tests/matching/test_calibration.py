"""Calibration of probabilities to reviewers' decisions (Platt scaling around the model)."""

from __future__ import annotations

import math
import random

import pytest

from matching import Calibration, Matcher, fit_calibration, identity_calibration, log_loss


def decisions(slope: float, intercept: float, n: int, seed: int = 1):
    """Decided pairs whose true chance of being the same person follows a known line."""
    rng = random.Random(seed)
    weights = [rng.uniform(-5.0, 30.0) for _ in range(n)]
    truth = Calibration(slope, intercept, "truth")
    return weights, [rng.random() < truth.probability(w) for w in weights]


def test_without_decisions_the_calibration_is_the_model():
    matcher = Matcher()
    same = matcher.recalibrated([], [], "cal-empty")
    for weight in (-10.0, 0.0, 7.5, 20.0):
        assert same.probability(weight) == pytest.approx(matcher.probability(weight), abs=1e-9)
    assert same.model_version == f"{matcher.model_version}+cal-empty"


def test_many_decisions_recover_the_line_they_follow():
    prior_bits = Matcher().model.prior_bits
    weights, same = decisions(0.4, -6.0, 4000)
    fitted = fit_calibration(weights, same, prior_bits, "cal-1")
    assert fitted.slope == pytest.approx(0.4, rel=0.15)
    assert fitted.intercept == pytest.approx(-6.0, rel=0.2)
    model_line = identity_calibration(prior_bits)
    assert log_loss(fitted, weights, same) < log_loss(model_line, weights, same)


def test_few_decisions_move_the_model_less_than_many():
    matcher = Matcher()
    few = matcher.recalibrated([25.0, 26.0, 27.0], [False, False, False], "cal-few")
    many = matcher.recalibrated([25.0, 26.0, 27.0] * 100, [False, False, False] * 100, "cal-many")
    assert many.probability(26.0) < few.probability(26.0) < matcher.probability(26.0)


def test_rejections_at_high_weights_lower_the_probability_there():
    matcher = Matcher()
    weights, same = decisions(0.2, -4.0, 2000, seed=3)  # reviewers reject more than the model
    recalibrated = matcher.recalibrated(weights, same, "cal-3")
    assert recalibrated.probability(15.0) < matcher.probability(15.0)
    assert math.isclose(
        recalibrated.probability(15.0), 1 / (1 + math.exp(-(0.2 * 15 - 4))), abs_tol=0.08
    )


def test_one_decision_per_weight():
    with pytest.raises(ValueError, match="one decision per weight"):
        fit_calibration([1.0], [], 0.0, "bad")
