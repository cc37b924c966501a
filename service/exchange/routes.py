"""Routes of `/v1/imports` and `/v1/exports/pfif`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response

from schemas.enums import RegistrationKind
from schemas.exchange import ImportJobPublic, ImportProblem, ImportProblemPage
from schemas.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from service.audit import service as audit
from service.db.models import ImportJob
from service.deps import ReadAccess, RuntimeDep, SessionDep, WriteAccess
from service.errors import (
    BadRequest,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    NotFound,
    PayloadTooLarge,
    problem_responses,
)
from service.exchange import repository, service
from service.exchange.service import ImportFormat
from service.http import Cursor, IdempotencyKeyHeader, page_cursor
from service.idempotency.service import Outcome, run_once
from service.persons import repository as persons
from service.persons.service import person_public
from service.persons.views import may_see_person

router = APIRouter(tags=["exchange"])

RECORD = "import_job"
BODY_TYPES: dict[str, dict[str, object]] = {
    "application/x-ndjson": {},
    "application/jsonl": {},
    "text/csv": {},
    "application/xml": {},
}


def job_public(job: ImportJob) -> ImportJobPublic:
    """Wire view of a job, with its progress."""
    processed = job.next_item - 1
    return ImportJobPublic.model_validate(
        {
            **job.model_dump(exclude={"society_id", "next_item"}),
            "processed": processed,
            "progress": processed / job.total_items if job.total_items else 1.0,
        }
    )


@router.post(
    "/imports",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImportJobPublic,
    summary="Import tracing requests and registrations",
    description=(
        "The body is the whole file: JSON Lines (`format=jsonl`: one object per line with "
        "`type` `registration` or `tracing_request`, `external_id` and the record's fields as "
        "the API takes them), CSV (`format=csv`: the `kintrace import` columns; "
        "`external_id` for a registration, `request_ref` for a request) or PFIF 1.4 XML "
        "(`format=pfif`: each person a registration keyed by `person_record_id`; DTDs and "
        "entities are refused). Every record is validated at once and waits, sealed, for the "
        "worker, which stores a batch per transaction; follow the job for progress and its "
        "`/problems` for each refused record (position and reason; the others go on). Each "
        "sender's ids are its own: sending an id again updates that record (or leaves it, "
        "when nothing changed), never duplicates it; an id whose record was erased is "
        "refused. Up to `KINTRACE_IMPORT_MAX_BYTES` and `KINTRACE_IMPORT_MAX_ITEMS`. Send "
        "`Idempotency-Key` to make a retry safe (no second job)."
    ),
    openapi_extra={"requestBody": {"required": True, "content": BODY_TYPES}},
    responses=problem_responses(PayloadTooLarge, IdempotencyInFlight, IdempotencyKeyReused),
)
async def submit_import(
    request: Request,
    session: SessionDep,
    access: WriteAccess,
    runtime: RuntimeDep,
    format: ImportFormat,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    data = await request.body()

    async def action() -> Outcome:
        job = await service.submit(
            session, access.principal, format, data, runtime.settings.import_max_items
        )
        await audit.record(session, access, f"{RECORD}.create", RECORD, [job.id])
        return Outcome(
            202, job_public(job).model_dump(mode="json"), {"Location": f"/v1/imports/{job.id}"}
        )

    ttl = runtime.settings.idempotency_ttl
    return await run_once(
        session, access, idempotency_key, request, action, ttl, RECORD, lambda _: []
    )


@router.get(
    "/imports",
    response_model=Page[ImportJobPublic],
    summary="List import jobs",
    description="The society's imports, oldest first.",
    responses=problem_responses(BadRequest),
)
async def list_imports(
    session: SessionDep,
    access: ReadAccess,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[ImportJobPublic]:
    rows = await repository.jobs_page(session, Cursor.decode(cursor), limit)
    return Page[ImportJobPublic](
        items=[job_public(row) for row in rows[:limit]], next_cursor=page_cursor(rows, limit)
    )


async def _job(session: SessionDep, import_id: uuid.UUID) -> ImportJob:
    job = await repository.get_job(session, import_id)
    if job is None:
        raise NotFound(f"no import {import_id}")
    return job


@router.get(
    "/imports/{import_id}",
    response_model=ImportJobPublic,
    summary="Follow an import job",
    description="Status, counts and progress (0 to 1).",
    responses=problem_responses(NotFound),
)
async def get_import(
    import_id: uuid.UUID, session: SessionDep, access: ReadAccess
) -> ImportJobPublic:
    return job_public(await _job(session, import_id))


@router.get(
    "/imports/{import_id}/problems",
    response_model=ImportProblemPage,
    summary="List an import's refused records",
    description="Each refused record's position in the body, its sender's id and the reason, "
    "by position (`after`: the last position seen).",
    responses=problem_responses(NotFound),
)
async def list_import_problems(
    import_id: uuid.UUID,
    session: SessionDep,
    access: ReadAccess,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> ImportProblemPage:
    job = await _job(session, import_id)
    rows = await repository.problems_page(session, job.id, after, limit)
    shown = rows[:limit]
    return ImportProblemPage(
        items=[
            ImportProblem(
                position=row.position, external_id=row.external_id, reason=row.problem or ""
            )
            for row in shown
        ],
        next_after=shown[-1].position if len(rows) > limit else None,
    )


@router.get(
    "/exports/pfif",
    summary="Export registrations as PFIF 1.4",
    description=(
        "A page of the society's registrations (oldest first) as a PFIF 1.4 document, each "
        "with a status note; `Kintrace-Next-Cursor` continues. Only what the caller may see "
        "goes out; contact details, current whereabouts, notes, sensitive persons and persons "
        "out of tracing never do. `domain` names the PFIF record-id domain (default: the "
        "society's code and `.kintrace`)."
    ),
    responses={**problem_responses(BadRequest), 200: {"content": {"application/xml": {}}}},
)
async def export_pfif(
    session: SessionDep,
    access: ReadAccess,
    kind: RegistrationKind | None = None,
    domain: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9.-]{1,100}$")] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Response:
    principal = access.principal
    rows = await persons.list_registrations(
        session,
        principal.society_id,
        kind=kind.value if kind else None,
        status=None,
        after=Cursor.decode(cursor),
        limit=limit,
    )
    shown = [record for record in rows[:limit] if may_see_person(record, principal.scopes)]
    views = [person_public(record, principal.scopes) for record in shown]
    document = service.export_pfif(domain or f"{principal.society_code.lower()}.kintrace", views)
    await audit.record(session, access, "person.export_pfif", "person", [r.id for r in shown])
    await session.commit()
    headers = {}
    next_cursor = page_cursor(rows, limit)
    if next_cursor is not None:
        headers["Kintrace-Next-Cursor"] = next_cursor
    return Response(document, media_type="application/xml", headers=headers)
