"""Workers: take match jobs from the PostgreSQL queue and store candidate links.

A job is leased (attempts + 1, `leased_until` set) in one short transaction, then matched and
finished in another: a worker killed mid-job leaves no half-written links (its transaction
rolls back) and its lease expires, after which another worker takes the job again. Links are
upserted per pair, so a retried job never duplicates one. Scoring is CPU work and runs here, in
worker processes, never on the API's event loop.
"""

from __future__ import annotations

import asyncio
import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from matching import Matcher
from service.candidates import calibration, repository, review, service
from service.db.engine import SessionFactory
from service.societies import repository as societies

log = structlog.get_logger("kintrace.worker")

LEASE = datetime.timedelta(minutes=5)
RETRY_AFTER = datetime.timedelta(seconds=30)
MAX_ATTEMPTS = 5
BATCH = 20
# Finished jobs are kept a while (what was matched when), then forgotten.
JOB_RETENTION = datetime.timedelta(days=7)
PURGE_EVERY = datetime.timedelta(hours=1)


TenantSessions = Callable[[uuid.UUID], AsyncSession]


@dataclass(slots=True)
class Progress:
    """What one pass over the queue did."""

    jobs: int = 0
    links: int = 0
    failures: int = 0


async def run_job(
    tenant: TenantSessions,
    society_id: uuid.UUID,
    job_id: int,
    person_id: uuid.UUID,
    matcher: Matcher,
    threshold: float,
    minor_age: int = 18,
) -> int:
    """Match one person and finish its job in one transaction; the links stored."""
    async with tenant(society_id) as session:
        scored = await service.match_person(
            session, society_id, person_id, matcher, threshold, minor_age
        )
        await repository.finish_job(session, job_id)
        await session.commit()
    return sum(candidate.proposed for candidate in scored)


async def drain_society(
    tenant: TenantSessions,
    society_id: uuid.UUID,
    matcher: Matcher,
    threshold: float,
    *,
    minor_age: int = 18,
    batch: int = BATCH,
    stop: asyncio.Event | None = None,
    batches: int | None = None,
) -> Progress:
    """Work through one society's available jobs until none is left, `batches` batches of
    `batch` jobs were done, or `stop` is set (checked between batches, so a worker with a
    backlog still stops soon)."""
    progress = Progress()
    done = 0
    while (stop is None or not stop.is_set()) and (batches is None or done < batches):
        done += 1
        async with tenant(society_id) as session:
            jobs = await repository.lease_jobs(
                session, limit=batch, lease=LEASE, max_attempts=MAX_ATTEMPTS
            )
            await session.commit()
        if not jobs:
            return progress
        for job in jobs:
            assert job.id is not None
            try:
                progress.links += await run_job(
                    tenant, society_id, job.id, job.person_id, matcher, threshold, minor_age
                )
            except Exception as err:  # the job is retried later; the worker goes on
                progress.failures += 1
                log.warning("match job failed", job=job.id, error=f"{type(err).__name__}: {err}")
                async with tenant(society_id) as session:
                    await repository.fail_job(session, job.id, str(err), RETRY_AFTER)
                    await session.commit()
            progress.jobs += 1
    return progress


async def drain(
    sessions: SessionFactory,
    tenant: TenantSessions,
    matcher: Matcher,
    threshold: float,
    *,
    minor_age: int = 18,
    stop: asyncio.Event | None = None,
    batch: int = BATCH,
) -> Progress:
    """Work through every society's queue until all are empty (cut short when `stop` is set),
    a batch per society in turn: a society with a large backlog (an archive loaded, a new
    grant's records) does not hold up the others' matching."""
    async with sessions() as session:
        society_ids = await societies.all_ids(session)
    matchers: dict[uuid.UUID, Matcher] = {}
    total = Progress()
    for society_id in society_ids:
        async with tenant(society_id) as session:
            if await review.locate_across(session, society_id):
                await session.commit()
    while society_ids and (stop is None or not stop.is_set()):
        busy = []
        for society_id in society_ids:
            if society_id not in matchers:
                async with tenant(society_id) as session:
                    matchers[society_id] = await calibration.society_matcher(session, matcher)
            done = await drain_society(
                tenant,
                society_id,
                matchers[society_id],
                threshold,
                minor_age=minor_age,
                batch=batch,
                stop=stop,
                batches=1,
            )
            total.jobs += done.jobs
            total.links += done.links
            total.failures += done.failures
            if done.jobs:
                busy.append(society_id)
        society_ids = busy
    return total


async def purge_finished(sessions: SessionFactory, tenant: TenantSessions) -> int:
    """Forget every society's jobs finished more than `JOB_RETENTION` ago; how many."""
    async with sessions() as session:
        society_ids = await societies.all_ids(session)
    purged = 0
    for society_id in society_ids:
        async with tenant(society_id) as session:
            purged += await repository.purge_finished_jobs(session, JOB_RETENTION)
            await session.commit()
    return purged


async def work_forever(
    sessions: SessionFactory,
    tenant: TenantSessions,
    threshold: float,
    stop: asyncio.Event,
    *,
    minor_age: int = 18,
    idle_seconds: float = 1.0,
) -> None:
    """Drain the queues until `stop` is set, resting `idle_seconds` when there is no work."""
    matcher = Matcher()
    log.info("worker started", model=matcher.model_version)
    next_purge = asyncio.get_running_loop().time()
    while not stop.is_set():
        try:
            if asyncio.get_running_loop().time() >= next_purge:
                next_purge += PURGE_EVERY.total_seconds()
                purged = await purge_finished(sessions, tenant)
                if purged:
                    log.info("finished match jobs purged", count=purged)
            progress = await drain(
                sessions, tenant, matcher, threshold, minor_age=minor_age, stop=stop
            )
        except Exception as err:  # database restart, say: try again shortly
            log.warning("worker pass failed", error=f"{type(err).__name__}: {err}")
            progress = Progress()
        if progress.jobs:
            log.info(
                "match jobs done",
                jobs=progress.jobs,
                links=progress.links,
                failures=progress.failures,
            )
            continue
        try:
            await asyncio.wait_for(stop.wait(), timeout=idle_seconds)
        except TimeoutError:
            pass
    log.info("worker stopped")
