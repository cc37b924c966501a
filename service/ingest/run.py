"""Running an import: batches through the API's services, resumable, audited per batch.

Each batch is one transaction: its records (keys, match jobs and all, exactly as through the
API), one audit row listing the records it created, and the run's position. A record that
fails is rolled back alone (a savepoint) and reported. Rerunning the same file for the same
society resumes after the last committed batch.
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.enums import Purpose, StaffRole
from schemas.persons import RegistrationCreate
from schemas.tracing import TracingRequestCreate
from service.audit import service as audit
from service.auth.scopes import scopes_of
from service.errors import KintraceError
from service.ingest import repository
from service.ingest.formats import Parsed, count_items, iter_items
from service.persons import service as persons
from service.persons.records import NewPerson
from service.principal import Access, Principal, PrincipalKind
from service.runtime import Runtime
from service.tracing import service as tracing

IMPORTER = "cli:import"


@dataclass(slots=True)
class ImportReport:
    """What an import did (this run and, for a resumed file, before)."""

    total: int = 0
    skipped_already_done: int = 0
    imported: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)


def file_digest(path: Path) -> str:
    """SHA-256 of the file: the same file resumes, another file is another import."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


async def _store_request(
    session: AsyncSession, principal: Principal, request: TracingRequestCreate
) -> list[uuid.UUID]:
    """Create one tracing request through its service; the ids of the records it created."""
    created = await tracing.create(session, principal, request)
    return [created.id, *(p.id for p in created.persons)]


async def _store_batch(
    session: AsyncSession, principal: Principal, batch: list[Parsed], report: ImportReport
) -> tuple[list[uuid.UUID], int]:
    """Store a batch's items: registrations together, in a few statements; tracing requests
    one by one. A record that fails is reported and skipped, the others are kept: when the
    database refuses the registrations together, they are stored again one at a time, each in
    its own savepoint, to find the one it refused."""
    created: list[uuid.UUID] = []
    problems: list[str] = []
    registrations: list[tuple[Parsed, NewPerson]] = []
    for parsed in batch:
        if parsed.item is None:
            problems.append(f"line {parsed.line}: {parsed.problem}")
            continue
        try:
            if isinstance(parsed.item, RegistrationCreate):
                registrations.append((parsed, persons.new_registration(principal, parsed.item)))
                continue
            async with session.begin_nested():
                created += await _store_request(session, principal, parsed.item)
        except KintraceError as err:
            problems.append(f"line {parsed.line}: {_refusal(err)}")
    if registrations:
        created += await _store_registrations(session, registrations, problems)
    report.problems += problems
    return created, len(problems)


async def _store_registrations(
    session: AsyncSession, registrations: list[tuple[Parsed, NewPerson]], problems: list[str]
) -> list[uuid.UUID]:
    try:
        async with session.begin_nested():
            stored = await persons.store_registrations(session, [new for _, new in registrations])
        return [person.id for person in stored]
    except (DBAPIError, KintraceError):
        pass
    created: list[uuid.UUID] = []
    for parsed, new in registrations:
        try:
            async with session.begin_nested():
                stored = await persons.store_registrations(session, [new])
            created += [person.id for person in stored]
        except (DBAPIError, KintraceError) as err:
            problems.append(f"line {parsed.line}: {_refusal(err)}")
    return created


def _refusal(err: Exception) -> str:
    """What to tell about a refused record: the service's own problem, or the kind of the
    database's refusal (not its message, which may hold personal data)."""
    if isinstance(err, KintraceError):
        return err.detail or err.title
    return f"refused by the database ({type(getattr(err, 'orig', err)).__name__})"


async def import_file(
    runtime: Runtime,
    path: Path,
    society_id: uuid.UUID,
    society_code: str,
    *,
    batch_size: int = 500,
    progress: Callable[[int, int], None] = lambda _done, _total: None,
    stop_after_batches: int | None = None,
) -> ImportReport:
    """Import a file into a society, resuming where an earlier run of the same file stopped."""
    total = count_items(path)
    roles = frozenset({StaffRole.CASEWORKER.value})
    principal = Principal(
        IMPORTER, PrincipalKind.USER, society_id, society_code, roles, scopes_of(roles)
    )
    access = Access(principal, Purpose.IMPORT, None)
    report = ImportReport(total=total)
    digest = file_digest(path)
    async with runtime.tenant_session(society_id) as session:
        run = await repository.claim_run(session, society_id, digest, path.name, total)
        start = run.next_item
        await session.commit()
    report.skipped_already_done = start
    progress(start, total)
    items = iter_items(path)
    for _ in itertools.islice(items, start):  # done by an earlier run
        pass
    batches = 0
    first = start
    while batch := list(itertools.islice(items, batch_size)):
        async with runtime.tenant_session(society_id) as session:
            await repository.claim_run(session, society_id, digest, path.name, total)
            created, failed = await _store_batch(session, principal, batch, report)
            if created:
                await audit.record(session, access, "import.batch", "person", created)
            await repository.advance_run(
                session, digest, first + len(batch), len(batch) - failed, failed
            )
            await session.commit()
        report.imported += len(batch) - failed
        report.failed += failed
        first += len(batch)
        progress(first, total)
        batches += 1
        if stop_after_batches is not None and batches >= stop_after_batches:
            return report
    async with runtime.tenant_session(society_id) as session:
        await repository.finish_run(session, digest)
        await session.commit()
    return report
