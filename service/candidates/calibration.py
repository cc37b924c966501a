"""Model versions fitted to a society's reviewers: recalibration, and the matcher to use.

`kintrace model recalibrate` fits the probability of a match weight to the society's decided
links (matching's `Matcher.recalibrated`) and stores it as the society's newest calibration: a
new model version, `<model>+calN`. Workers and search score the society's persons with it from
then on; existing links keep the version that scored them until `kintrace rematch` rescores the
open ones (decided pairs stay decided). A calibration fitted on another base model is not used.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from matching import Calibration, Matcher, identity_calibration, log_loss
from service.candidates import repository
from service.db.models import ModelCalibration

MIN_DECISIONS = 50


class NotEnoughDecisions(Exception):
    """Too few decided links to fit a calibration worth having."""


@dataclass(frozen=True, slots=True)
class Recalibration:
    """What a recalibration fitted, and how well each version explains the decisions."""

    model_version: str
    confirmed: int
    rejected: int
    slope: float
    intercept: float
    loss_before: float
    loss_after: float


async def society_matcher(session: AsyncSession, base: Matcher) -> Matcher:
    """The matcher for the session's society: `base` with the society's newest calibration,
    if one was fitted on the same base model."""
    stored = await repository.latest_calibration(session)
    if stored is None or stored.base_version != base.model.version:
        return base
    calibration = Calibration(stored.slope, stored.intercept, stored.label)
    return Matcher(
        base.model, base.frequencies, use_name_model=base.use_name_model, calibration=calibration
    )


async def recalibrate(
    session: AsyncSession,
    society_id: uuid.UUID,
    base: Matcher,
    *,
    min_decisions: int = MIN_DECISIONS,
) -> Recalibration:
    """Fit and store a new calibration from the society's decided links (in the session's
    transaction); `NotEnoughDecisions` when there are fewer than `min_decisions`."""
    decided = await repository.decided_weights(session)
    if len(decided) < min_decisions:
        raise NotEnoughDecisions(
            f"{len(decided)} decided link(s); at least {min_decisions} are needed"
        )
    weights = [weight for weight, _ in decided]
    same = [confirmed for _, confirmed in decided]
    current = await society_matcher(session, base)
    label = f"cal{await repository.count_calibrations(session) + 1}"
    fitted = base.recalibrated(weights, same, label)
    assert fitted.calibration is not None
    current_line = current.calibration or identity_calibration(base.model.prior_bits)
    await repository.add_calibration(
        session,
        ModelCalibration(
            society_id=society_id,
            label=label,
            base_version=base.model.version,
            slope=fitted.calibration.slope,
            intercept=fitted.calibration.intercept,
            confirmed=sum(same),
            rejected=len(same) - sum(same),
        ),
    )
    return Recalibration(
        model_version=fitted.model_version,
        confirmed=sum(same),
        rejected=len(same) - sum(same),
        slope=fitted.calibration.slope,
        intercept=fitted.calibration.intercept,
        loss_before=log_loss(current_line, weights, same),
        loss_after=log_loss(fitted.calibration, weights, same),
    )
