"""Recording accesses, sealing the chain after commit, and verifying it.

Requests only insert: each event gets its `position` from a sequence in the request's own
transaction, so concurrent requests never wait on a shared lock. A sealer (a task of every
`serve` process; sealers of one society take turns on an advisory lock) chains the committed
events of each society in order and records each link in `audit_seal`. `verify` recomputes the
chain and names the first link whose event was altered or removed, or whose seal was.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit import repository
from service.audit.chain import GENESIS_DIGEST, link_digest
from service.db.engine import SessionFactory, tenant_session
from service.db.models import AuditEvent, AuditSeal
from service.principal import Access
from service.societies import repository as societies

log = structlog.get_logger("kintrace.audit")

SEAL_BATCH = 500
VERIFY_BATCH = 2000


async def record(
    session: AsyncSession,
    access: Access,
    action: str,
    record_type: str,
    record_ids: Iterable[uuid.UUID],
) -> None:
    """Write the audit row of an access, in the caller's transaction.

    If it cannot be written the transaction fails, and with it the request.
    """
    principal = access.principal
    await repository.append(
        session,
        AuditEvent(
            society_id=principal.society_id,
            actor=principal.subject,
            actor_roles=sorted(principal.roles),
            action=action,
            record_type=record_type,
            record_ids=list(dict.fromkeys(record_ids)),
            purpose=access.purpose.value,
            request_id=access.request_id,
        ),
    )


async def seal_society(sessions: SessionFactory, society_id: uuid.UUID) -> int:
    """Chain every committed, unsealed event of one society; the number sealed."""
    sealed = 0
    while True:
        async with tenant_session(sessions, society_id) as session:
            await repository.lock_chain(session, society_id)
            events = await repository.unsealed(session, SEAL_BATCH)
            if not events:
                return sealed
            head = await repository.chain_head(session)
            index = head.chain_index if head else 0
            digest = head.digest if head else GENESIS_DIGEST
            seals = []
            for event in events:
                index += 1
                following = link_digest(digest, repository.chained(event))
                seals.append(
                    AuditSeal(
                        society_id=society_id,
                        chain_index=index,
                        event_id=event.id,
                        previous_digest=digest,
                        digest=following,
                    )
                )
                digest = following
            await repository.insert_seals(session, seals)
            await session.commit()
            sealed += len(seals)


async def seal_all(sessions: SessionFactory) -> int:
    """Seal every society's pending events."""
    async with sessions() as session:
        society_ids = await societies.all_ids(session)
    total = 0
    for society_id in society_ids:
        total += await seal_society(sessions, society_id)
    return total


@contextlib.asynccontextmanager
async def sealer(sessions: SessionFactory, interval_seconds: float) -> AsyncIterator[None]:
    """Run the sealer in the background for the duration of the block (0 s: not at all)."""
    if interval_seconds <= 0:
        yield
        return

    async def loop() -> None:
        while True:
            try:
                sealed = await seal_all(sessions)
                if sealed:
                    log.debug("audit events sealed", count=sealed)
            except Exception as err:  # the next round retries; requests are unaffected
                log.warning("audit sealing failed", error=f"{type(err).__name__}: {err}")
            await asyncio.sleep(interval_seconds)

    task = asyncio.create_task(loop(), name="audit-sealer")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass(slots=True)
class ChainReport:
    """What `verify` found for one society."""

    society_code: str
    sealed: int = 0
    unsealed: int = 0
    unqueued: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """No altered, missing or unsealable event."""
        return not self.problems


async def verify_society(
    sessions: SessionFactory, society_id: uuid.UUID, society_code: str
) -> ChainReport:
    """Recompute a society's chain; the first broken link is named in `problems`."""
    report = ChainReport(society_code)
    async with tenant_session(sessions, society_id) as session:
        previous, after = GENESIS_DIGEST, 0
        while not report.problems:
            rows = await repository.chain_slice(session, after, VERIFY_BATCH)
            if not rows:
                break
            for row in rows:
                problem = _link_problem(row, previous, after + 1)
                if problem:
                    report.problems.append(problem)
                    break
                previous, after = row.seal.digest, row.seal.chain_index
                report.sealed += 1
        report.unsealed, report.unqueued = await repository.unchained_count(session)
    if report.unqueued:
        report.problems.append(
            f"{report.unqueued} event(s) are neither sealed nor queued for sealing "
            "(the sealer's queue was tampered with)"
        )
    return report


def _link_problem(row: repository.SealedRow, previous: str, expected_index: int) -> str | None:
    seal = row.seal
    where = f"chain index {seal.chain_index} (event {seal.event_id})"
    if seal.chain_index != expected_index:
        return f"seal missing before chain index {seal.chain_index} (expected {expected_index})"
    if seal.previous_digest != previous:
        return f"seal altered or removed before {where}: previous digest does not match"
    if row.event is None:
        return f"event missing at {where}"
    if link_digest(previous, repository.chained(row.event)) != seal.digest:
        return f"event altered at {where}"
    return None


async def verify_all(sessions: SessionFactory) -> list[ChainReport]:
    """Verify every society's chain."""
    async with sessions() as session:
        listed = await societies.all_codes(session)
    return [await verify_society(sessions, society_id, code) for society_id, code in listed]
