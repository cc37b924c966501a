"""Re-matching open records and evaluating the model against reviewers' decisions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from service.candidates import repository
from service.candidates.service import index_persons
from service.persons import repository as persons
from service.runtime import Runtime

REMATCH_BATCH = 1000
BAND_EDGES = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)


async def rematch_society(
    runtime: Runtime,
    society_id: uuid.UUID,
    progress: Callable[[int], None] = lambda _: None,
    *,
    batch: int = REMATCH_BATCH,
    reindex: bool = False,
) -> int:
    """Queue every active person of a society for matching again; the number queued.

    With `reindex`, each person's blocking keys are first computed again from its record, as
    after a release that changes the keys (persons stored before keep their old keys until
    written again otherwise). Idempotent (a person with a pending job keeps it) and committed
    per batch, so an interrupted run is simply run again. Decided pairs stay decided: the
    worker refreshes only proposed links and proposes a rejected pair again only if a compared
    field changed.
    """
    after: uuid.UUID | None = None
    queued = 0
    while True:
        async with runtime.tenant_session(society_id) as session:
            ids = await persons.active_person_ids(session, after, batch)
            if reindex:
                await index_persons(session, await persons.get_persons(session, society_id, ids))
            else:
                await repository.enqueue_many(session, society_id, ids)
            await session.commit()
        if not ids:
            return queued
        queued += len(ids)
        after = ids[-1]
        progress(queued)


@dataclass(frozen=True, slots=True)
class BandReport:
    """Precision in one probability band, and the share of all confirmed pairs at or above it."""

    low: float
    high: float
    confirmed: int
    rejected: int
    precision: float | None
    recall_at_or_above: float | None


def evaluate(bands: list[repository.Band]) -> list[BandReport]:
    """Precision per band (confirmed / decided) and recall of confirmed pairs above each
    band's lower edge (pairs below the review threshold are never decided, so recall is
    relative to what reviewers saw)."""
    total_confirmed = sum(band.confirmed for band in bands)
    reports = []
    for index, band in enumerate(bands):
        decided = band.confirmed + band.rejected
        above = sum(b.confirmed for b in bands[index:])
        reports.append(
            BandReport(
                band.low,
                band.high,
                band.confirmed,
                band.rejected,
                band.confirmed / decided if decided else None,
                above / total_confirmed if total_confirmed else None,
            )
        )
    return reports


async def evaluate_society(runtime: Runtime, society_id: uuid.UUID) -> list[BandReport]:
    """The model's precision and recall per band, from one society's decisions."""
    async with runtime.tenant_session(society_id) as session:
        bands = await repository.decided_bands(session, BAND_EDGES)
    return evaluate(bands)
