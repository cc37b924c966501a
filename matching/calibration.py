"""Calibrating the probability of a match weight to reviewers' decisions.

The model turns a match weight w (bits) into a probability with one fixed prior:
logit(p) = ln 2 * (w + prior_bits). Reviewers' decisions say how often pairs of a given weight
really were the same person; a calibration refits that line, logit(p) = slope * w + intercept
(Platt scaling on the weight), and becomes a new model version. The fit is a logistic
regression with a Gaussian prior centred on the model's own line, so that a handful of decisions
moves it a little and only many decisions move it far; with no decisions it is the model.
Decisions exist only for pairs at or above the review threshold: the calibration is fitted
where reviewers looked, and the line carries it below.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Prior standard deviations of slope and intercept around the model's own line (natural-log
# odds per bit, and natural-log odds): wide enough that a few hundred consistent decisions
# override the model, narrow enough that a few cannot swing it.
SLOPE_PRIOR_SD = 0.1
INTERCEPT_PRIOR_SD = 1.5
NEWTON_STEPS = 50


@dataclass(frozen=True, slots=True)
class Calibration:
    """logit(probability) = slope * match_weight + intercept; `label` names the version."""

    slope: float
    intercept: float
    label: str

    def probability(self, match_weight: float) -> float:
        """The calibrated probability of a match weight."""
        logit = self.slope * match_weight + self.intercept
        if logit > 40:
            return 1.0
        if logit < -40:
            return 0.0
        return 1.0 / (1.0 + math.exp(-logit))


def identity_calibration(prior_bits: float, label: str = "model") -> Calibration:
    """The model's own mapping as a calibration (what the fit starts from)."""
    return Calibration(math.log(2.0), math.log(2.0) * prior_bits, label)


def fit_calibration(
    weights: Sequence[float], same_person: Sequence[bool], prior_bits: float, label: str
) -> Calibration:
    """The maximum a posteriori calibration for decided pairs (their match weights, and
    whether reviewers confirmed them), around the model's line (`prior_bits`)."""
    if len(weights) != len(same_person):
        raise ValueError("one decision per weight")
    start = identity_calibration(prior_bits, label)
    centre = np.array([start.slope, start.intercept])
    precision = np.diag([1.0 / SLOPE_PRIOR_SD**2, 1.0 / INTERCEPT_PRIOR_SD**2])
    x = np.column_stack([np.asarray(weights, dtype=float), np.ones(len(weights))])
    y = np.asarray(same_person, dtype=float)

    def objective(candidate: np.ndarray) -> float:
        logits = x @ candidate
        nll = float(np.sum(np.logaddexp(0.0, logits) - y * logits))
        offset = candidate - centre
        return nll + 0.5 * float(offset @ precision @ offset)

    theta = centre.copy()
    value = objective(theta)
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ theta, -40.0, 40.0)))
        gradient = x.T @ (p - y) + precision @ (theta - centre)
        hessian = (x.T * (p * (1.0 - p))) @ x + precision
        step = np.linalg.solve(hessian, gradient)
        scale = 1.0  # damped Newton: halve the step until the objective falls
        while scale > 1e-6 and objective(theta - scale * step) > value:
            scale /= 2.0
        theta = theta - scale * step
        improved = objective(theta)
        if value - improved < 1e-10:
            break
        value = improved
    return Calibration(float(theta[0]), float(theta[1]), label)


def log_loss(
    calibration: Calibration, weights: Sequence[float], same_person: Sequence[bool]
) -> float:
    """Mean negative log-likelihood of the decisions under a calibration (lower is better)."""
    if not weights:
        return 0.0
    total = 0.0
    for weight, same in zip(weights, same_person, strict=True):
        p = min(max(calibration.probability(weight), 1e-12), 1.0 - 1e-12)
        total -= math.log(p if same else 1.0 - p)
    return total / len(weights)
