"""Retention (domain rule 11): cases are kept no longer than needed.

Each tracing request carries a review date from its society's policy: opened + the open
review period, or closed + the closed retention period. A run finds what is due: a closed
request is then erased (its persons with everything derived from them, each leaving a
tombstone and a notice for partners, then the request) or archived, as the policy says; an open
request is only reported, for a caseworker to review (an open case is never erased by a
clock); a registration is due after the registration retention period. A run is a dry run
unless asked to apply, and reports either way.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from service.persons import repository as persons_repository
from service.persons import service as persons
from service.rights import retention_repository as repository
from service.rights.service import erase_record

RETENTION = "retention"


@dataclass(slots=True)
class RetentionReport:
    """What a run found due and, when applied, did."""

    applied: bool
    action: str
    closed_requests: list[str] = field(default_factory=list)
    open_requests_to_review: list[str] = field(default_factory=list)
    registrations: list[uuid.UUID] = field(default_factory=list)
    persons_erased: int = 0


async def run(
    session: AsyncSession, society_id: uuid.UUID, today: datetime.date, *, apply: bool
) -> RetentionReport:
    """Find what the society's policy makes due on `today`; erase or archive it if `apply`.
    The caller commits."""
    policy = await repository.policy_of(session, society_id)
    report = RetentionReport(applied=apply, action=policy.closed_action)
    for due in await repository.due_requests(session, today):
        if due.status != "closed":
            report.open_requests_to_review.append(due.reference_number)
            continue
        report.closed_requests.append(due.reference_number)
        if apply:
            report.persons_erased += await _retire_request(session, society_id, due, policy)
    cutoff = datetime.datetime.combine(
        today - datetime.timedelta(days=policy.registration_retention_days),
        datetime.time(),
        tzinfo=datetime.UTC,
    )
    report.registrations = await repository.due_registrations(session, cutoff)
    if apply:
        for person_id in report.registrations:
            report.persons_erased += await _retire_registration(
                session, society_id, person_id, policy
            )
    return report


async def _retire_request(
    session: AsyncSession,
    society_id: uuid.UUID,
    due: repository.DueRequest,
    policy: repository.Policy,
) -> int:
    if policy.closed_action == "archive":
        await repository.archive_request(session, due.id)
        return 0
    person_ids = await repository.person_ids_of_request(session, due.id)
    reason = f"{RETENTION}: request {due.reference_number} due on {due.review_on}"
    for person_id in person_ids:
        await erase_record(session, society_id, person_id, reason, RETENTION)
    await repository.delete_request(session, due.id)
    return len(person_ids)


async def _retire_registration(
    session: AsyncSession,
    society_id: uuid.UUID,
    person_id: uuid.UUID,
    policy: repository.Policy,
) -> int:
    if policy.closed_action == "archive":
        records = await persons_repository.get_persons(session, society_id, [person_id])
        await persons.close_all(session, records, reason="archived under the retention policy")
        await repository.archive_person(session, person_id)
        return 0
    reason = f"{RETENTION}: registration kept {policy.registration_retention_days} days"
    await erase_record(session, society_id, person_id, reason, RETENTION)
    return 1
