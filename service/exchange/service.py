"""Bulk exchange over the API: import jobs of tracing requests and registrations (JSON Lines,
CSV, PFIF 1.4), keyed by each sender's own ids, and PFIF export.

An upload is parsed and validated at once: each item waits in `import_item`, sealed, or carries
the reason it was refused, with its position. The worker then stores the items a batch per
transaction, moving the job's position in the same transaction: a job killed at any point and
resumed ends with exactly the rows it should have, none twice. A sender's id already stored
updates its record (or leaves it, when nothing changed); an id whose record was erased is
refused, never recreated.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import hashlib
import io
import json
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import structlog
from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.enums import Purpose, StaffRole
from schemas.persons import PersonPublic, RegistrationCreate
from schemas.pfif import PfifError, parse_pfif, person_to_pfif, serialize_pfif, to_registration
from schemas.tracing import TracingRequestCreate
from service.audit import service as audit
from service.auth.scopes import scopes_of
from service.db.models import ImportItem, ImportJob
from service.errors import KintraceError, UnprocessableContent, invalid_fields
from service.exchange import repository
from service.ingest.formats import Item, Parsed, parse_csv, parse_jsonl
from service.persons import service as persons
from service.principal import Access, Principal, PrincipalKind
from service.tracing import service as tracing

log = structlog.get_logger(__name__)
TenantSessions = Callable[[uuid.UUID], AsyncSession]
BATCH = 200


class ImportFormat(StrEnum):
    """What an import's body is."""

    JSONL = "jsonl"
    CSV = "csv"
    PFIF = "pfif"


def parse_upload(data: bytes, format: ImportFormat) -> list[Parsed]:
    """Every item of an upload, valid or with the reason it is not (a body that cannot be
    read at all is a 422)."""
    if format is ImportFormat.PFIF:
        return parse_pfif_items(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid_fields("the body is not UTF-8 text", "body") from None
    lines = io.StringIO(text, newline="")
    if format is ImportFormat.JSONL:
        return list(parse_jsonl(lines))
    return list(parse_csv(lines))


def parse_pfif_items(data: bytes) -> list[Parsed]:
    """PFIF persons as registrations keyed by their `person_record_id`, and each record that
    cannot become one, with its position in the file."""
    try:
        document = parse_pfif(data)
    except PfifError as err:
        raise UnprocessableContent(f"not a PFIF document Kintrace accepts: {err}") from None
    items: list[Parsed] = []
    for index, person in enumerate(document.persons, start=1):
        try:
            items.append(Parsed(index, to_registration(person), None, person.person_record_id))
        except PfifError as err:
            items.append(Parsed(index, None, str(err), person.person_record_id))
    items += [
        Parsed(
            problem.position,
            None,
            f"record {problem.position}: {problem.reason}",
            problem.record_id,
        )
        for problem in document.problems
    ]
    return items


def digest_of(item: Item) -> str:
    """A fingerprint of a record as sent: the same record sent again changes nothing."""
    canonical = json.dumps(item.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _item_row(position: int, parsed: Parsed) -> dict[str, object]:
    kind = None
    body = None
    if parsed.item is not None:
        kind = "registration" if isinstance(parsed.item, RegistrationCreate) else "tracing_request"
        body = parsed.item.model_dump_json(exclude_unset=True)
    problem = parsed.problem
    if parsed.item is not None and parsed.external_id is None:
        problem, kind, body = (
            "`external_id` is missing: every record needs the sender's id",
            None,
            None,
        )
    if problem is not None and not problem.startswith(("line", "record")):
        problem = f"line {parsed.line}: {problem}"
    return {
        "position": position,
        "kind": kind,
        "external_id": parsed.external_id,
        "body": body,
        "problem": problem,
    }


def item_rows(data: bytes, format: ImportFormat, max_items: int) -> list[dict[str, object]]:
    """The items of an upload as they wait for the worker (422 for an empty or too large
    upload, or one that cannot be read at all)."""
    parsed = parse_upload(data, format)
    if not parsed:
        raise invalid_fields("the body holds no record", "body")
    if len(parsed) > max_items:
        raise invalid_fields(f"at most {max_items} records per import", "body")
    return [_item_row(position, item) for position, item in enumerate(parsed, start=1)]


async def submit(
    session: AsyncSession, principal: Principal, format: ImportFormat, data: bytes, max_items: int
) -> ImportJob:
    """Queue an import: parse and validate the body, store each item (sealed) or its problem."""
    # Parsing and validating a large body takes seconds: off the event loop, so that other
    # requests are answered meanwhile.
    rows = await asyncio.to_thread(item_rows, data, format, max_items)
    job = await repository.insert_job(
        session,
        ImportJob(
            society_id=principal.society_id,
            source=principal.subject,
            format=format.value,
            total_items=len(rows),
        ),
    )
    await repository.insert_items(session, job, rows)
    return job


@dataclass(slots=True)
class BatchOutcome:
    """What one batch did."""

    created: list[uuid.UUID] = field(default_factory=list)
    updated: list[uuid.UUID] = field(default_factory=list)
    unchanged: int = 0
    problems: dict[int, str] = field(default_factory=dict)


def _refusal(err: Exception) -> str:
    """The reason a record was refused, without the database's message (it may hold data)."""
    if isinstance(err, KintraceError):
        return err.detail or err.title
    return f"refused by the database ({type(getattr(err, 'orig', err)).__name__})"


def _item_of(row: ImportItem) -> Item:
    assert row.body is not None
    if row.kind == "registration":
        return RegistrationCreate.model_validate_json(row.body)
    return TracingRequestCreate.model_validate_json(row.body)


async def _store_item(
    session: AsyncSession, principal: Principal, job: ImportJob, row: ImportItem, done: BatchOutcome
) -> None:
    """Create, update or leave one record, by its sender's id (in a savepoint: a refusal
    undoes this record only)."""
    assert row.external_id is not None and row.kind is not None
    if await repository.is_tombstoned(session, job.source, row.external_id):
        done.problems[row.position] = (
            f"{row.external_id}: this record was erased; it is not created again"
        )
        return
    item = _item_of(row)
    digest = digest_of(item)
    known = await repository.external_record(session, job.source, row.external_id)
    if known is not None and known.digest == digest:
        done.unchanged += 1
        return
    if known is not None and known.record_kind != row.kind:
        done.problems[row.position] = f"{row.external_id} was sent before as a {known.record_kind}"
        return
    async with session.begin_nested():
        if known is not None and isinstance(item, RegistrationCreate):
            record_id = (
                await persons.replace_registration(session, principal, known.record_id, item)
            ).id
            done.updated.append(record_id)
        elif known is not None:
            assert isinstance(item, TracingRequestCreate)
            await tracing.replace_from_exchange(session, principal, known.record_id, item)
            record_id = known.record_id
            done.updated.append(record_id)
        elif isinstance(item, RegistrationCreate):
            record_id = (await persons.create_registration(session, principal, item)).id
            done.created.append(record_id)
        else:
            record_id = (await tracing.create(session, principal, item)).id
            done.created.append(record_id)
        await repository.save_external(
            session, principal.society_id, job.source, row.external_id, row.kind, record_id, digest
        )


async def _store_new_registrations(
    session: AsyncSession,
    principal: Principal,
    job: ImportJob,
    pending: list[ImportItem],
    done: BatchOutcome,
) -> None:
    """Store registrations never sent before together (a few statements for the lot); if the
    database refuses the lot, one at a time, to find the one it refuses."""
    if not pending:
        return
    try:
        async with session.begin_nested():
            items = [_item_of(row) for row in pending]
            new = [persons.new_registration(principal, item) for item in items]  # type: ignore[arg-type]
            stored = await persons.store_registrations(session, new)
            await repository.add_externals(
                session,
                [
                    {
                        "society_id": principal.society_id,
                        "source": job.source,
                        "external_id": row.external_id,
                        "record_kind": "registration",
                        "record_id": record.id,
                        "digest": digest_of(item),
                    }
                    for row, item, record in zip(pending, items, stored, strict=True)
                ],
            )
        done.created += [record.id for record in stored]
    except (KintraceError, DBAPIError):
        for row in pending:
            await _store_one(session, principal, job, row, done)
    pending.clear()


async def _store_one(
    session: AsyncSession, principal: Principal, job: ImportJob, row: ImportItem, done: BatchOutcome
) -> None:
    try:
        await _store_item(session, principal, job, row, done)
    except (KintraceError, DBAPIError) as err:
        done.problems[row.position] = f"{row.external_id}: {_refusal(err)}"


async def run_batch(
    tenant: TenantSessions, society_id: uuid.UUID, principal_of: Callable[[ImportJob], Principal]
) -> bool:
    """Store the next batch of the society's oldest unfinished job; False when there is none."""
    async with tenant(society_id) as session:
        job = await repository.claim_job(session)
        if job is None:
            return False
        principal = principal_of(job)
        first = job.next_item
        rows = await repository.items_of(session, job, first, BATCH)
        seen = await repository.known_ids(
            session, job.source, [row.external_id for row in rows if row.external_id]
        )
        done = BatchOutcome()
        pending: list[ImportItem] = []
        for row in rows:
            if row.problem is not None:
                continue
            fresh = row.external_id not in seen
            seen.add(row.external_id or "")
            if row.kind == "registration" and fresh:
                pending.append(row)
                continue
            await _store_new_registrations(session, principal, job, pending, done)
            await _store_one(session, principal, job, row, done)
        await _store_new_registrations(session, principal, job, pending, done)
        last = first + len(rows) - 1
        await repository.finish_items(session, job, first, last, done.problems)
        finished = last >= job.total_items
        await repository.advance_job(
            session,
            job,
            next_item=last + 1,
            status="done" if finished else "running",
            created=job.created + len(done.created),
            updated=job.updated + len(done.updated),
            unchanged=job.unchanged + done.unchanged,
            failed=job.failed + len(done.problems) + sum(row.problem is not None for row in rows),
            finished_at=datetime.datetime.now(datetime.UTC) if finished else None,
        )
        changed = done.created + done.updated
        if changed:
            access = Access(principal, Purpose.IMPORT, None)
            await audit.record(session, access, "import.batch", "record", changed)
        await session.commit()
    return True


def importer(job: ImportJob, society_code: str) -> Principal:
    """Whom a job's records are stored for: its sender (whose ids they carry), with what
    recording records needs."""
    roles = frozenset({StaffRole.CASEWORKER.value})
    kind = PrincipalKind.CLIENT if job.source.startswith("client:") else PrincipalKind.USER
    return Principal(job.source, kind, job.society_id, society_code, roles, scopes_of(roles))


async def import_forever(
    society_codes: Callable[[], Awaitable[Sequence[tuple[uuid.UUID, str]]]],
    tenant: TenantSessions,
    stop: asyncio.Event,
    *,
    idle_seconds: float = 1.0,
) -> None:
    """Work through the import jobs until `stop` is set (beside the match worker)."""
    while not stop.is_set():
        worked = False
        try:
            # One batch per society per round: a large import does not hold up the others.
            for society_id, code in await society_codes():
                if stop.is_set():
                    break
                principal_of = functools.partial(importer, society_code=code)
                worked = await run_batch(tenant, society_id, principal_of) or worked
        except Exception as err:  # database restart, say: try again shortly
            log.warning("import pass failed", error=f"{type(err).__name__}: {err}")
        if worked:
            continue
        try:
            await asyncio.wait_for(stop.wait(), timeout=idle_seconds)
        except TimeoutError:
            pass


def export_pfif(domain: str, people: Iterable[PersonPublic]) -> bytes:
    """PFIF 1.4 of persons as the caller may see them (persons PFIF cannot carry are left out:
    enquirers, persons out of tracing, sensitive ones)."""
    exported = []
    for person in people:
        try:
            exported.append(person_to_pfif(domain, person))
        except PfifError:
            continue
    return serialize_pfif(exported)
