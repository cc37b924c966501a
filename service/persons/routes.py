"""Routes of `/v1/persons` and `/v1/registrations`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from schemas.enums import PersonStatus, RegistrationKind
from schemas.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from schemas.persons import (
    NameCreate,
    PersonClose,
    PersonPublic,
    PersonUpdate,
    RegistrationCreate,
    SensitivityLift,
)
from service.audit import service as audit
from service.auth.scopes import Scope
from service.deps import (
    CloseAccess,
    ProtectionAccess,
    ReadAccess,
    RuntimeDep,
    SessionDep,
    WriteAccess,
)
from service.errors import (
    BadRequest,
    Conflict,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    problem_responses,
)
from service.http import Cursor, IdempotencyKeyHeader, IfMatchHeader, etag, page_cursor
from service.idempotency.service import Outcome, run_once
from service.persons import repository, service
from service.persons.records import PersonRecord
from service.principal import Access

router = APIRouter(tags=["persons"])

RECORD = "person"

UPDATE_ERRORS = (NotFound, Conflict, PreconditionFailed, PreconditionRequired, PayloadTooLarge)


def _json(record: PersonRecord, access: Access, code: int = 200) -> JSONResponse:
    return JSONResponse(
        service.person_public(record, access.principal.scopes).model_dump(mode="json"),
        status_code=code,
        headers={"ETag": etag(record.version)},
    )


def disclosed_person(body: dict[str, Any]) -> list[uuid.UUID]:
    """The person a stored response discloses (for an audited replay)."""
    return [uuid.UUID(str(body["id"]))]


def created_person(record: PersonRecord, access: Access) -> Outcome:
    """The 201 outcome of creating a person: its view, ETag and Location."""
    return Outcome(
        201,
        service.person_public(record, access.principal.scopes).model_dump(mode="json"),
        {"Location": f"/v1/persons/{record.id}", "ETag": etag(record.version)},
    )


@router.post(
    "/registrations",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonPublic,
    summary="Register a person",
    description=(
        "Records a person registered as safe and well, found, detained, hospitalised or "
        "deceased, with the source and date of that information. Send `Idempotency-Key` to make "
        "retries safe."
    ),
    responses=problem_responses(PayloadTooLarge, IdempotencyInFlight, IdempotencyKeyReused),
)
async def create_registration(
    body: RegistrationCreate,
    request: Request,
    session: SessionDep,
    access: WriteAccess,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    async def action() -> Outcome:
        created = await service.create_registration(session, access.principal, body)
        await audit.record(session, access, f"{RECORD}.create", RECORD, [created.id])
        return created_person(created, access)

    ttl = runtime.settings.idempotency_ttl
    return await run_once(
        session, access, idempotency_key, request, action, ttl, RECORD, disclosed_person
    )


@router.get(
    "/registrations",
    response_model=Page[PersonPublic],
    summary="List registrations",
    description="The acting society's registrations in order of recording, one page at a time.",
    responses=problem_responses(BadRequest),
)
async def list_registrations(
    session: SessionDep,
    access: ReadAccess,
    kind: RegistrationKind | None = None,
    status_: Annotated[PersonStatus | None, Query(alias="status")] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> JSONResponse:
    scopes = access.principal.scopes
    rows = await repository.list_registrations(
        session,
        access.principal.society_id,
        kind=kind.value if kind else None,
        status=status_.value if status_ else None,
        after=Cursor.decode(cursor),
        limit=limit,
        include_deceased=Scope.DECEASED_READ.value in scopes,
        include_sensitive=Scope.SENSITIVE_READ.value in scopes,
    )
    shown = rows[:limit]
    await audit.record(session, access, f"{RECORD}.list", RECORD, [row.id for row in shown])
    await session.commit()
    page = Page[PersonPublic](
        items=[service.person_public(row, scopes) for row in shown],
        next_cursor=page_cursor(rows, limit),
    )
    return JSONResponse(page.model_dump(mode="json"))


@router.get(
    "/persons/{person_id}",
    response_model=PersonPublic,
    summary="Read a person",
    description="A person with its names; the `ETag` header carries its version.",
    responses=problem_responses(NotFound),
)
async def get_person(person_id: uuid.UUID, session: SessionDep, access: ReadAccess) -> Response:
    record = await service.get(session, access.principal, person_id)
    await audit.record(session, access, f"{RECORD}.read", RECORD, [record.id])
    await session.commit()
    return _json(record, access)


@router.patch(
    "/persons/{person_id}",
    response_model=PersonPublic,
    summary="Update a person",
    description=(
        "Changes the personal fields sent (`null` clears one). Requires `If-Match`: 428 without "
        "it, 412 when the person changed since it was read. Names change through "
        "`/v1/persons/{id}/names`."
    ),
    responses=problem_responses(*UPDATE_ERRORS),
)
async def update_person(
    person_id: uuid.UUID,
    body: PersonUpdate,
    session: SessionDep,
    access: WriteAccess,
    if_match: IfMatchHeader = None,
) -> Response:
    record = await service.update(session, access.principal, person_id, body, if_match)
    await audit.record(session, access, f"{RECORD}.update", RECORD, [record.id])
    await session.commit()
    return _json(record, access)


@router.post(
    "/persons/{person_id}/close",
    response_model=PersonPublic,
    summary="Close a person record",
    description="Closes the record (it stays readable). Requires `If-Match`.",
    responses=problem_responses(*UPDATE_ERRORS),
)
async def close_person(
    person_id: uuid.UUID,
    body: PersonClose,
    session: SessionDep,
    access: CloseAccess,
    if_match: IfMatchHeader = None,
) -> Response:
    record = await service.close(session, access.principal, person_id, body, if_match)
    await audit.record(session, access, f"{RECORD}.close", RECORD, [record.id])
    await session.commit()
    return _json(record, access)


@router.post(
    "/persons/{person_id}/names",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonPublic,
    summary="Add a name",
    description=(
        "Adds a name (in any script; the script is detected when omitted) and returns the "
        "person. The person's version advances."
    ),
    responses=problem_responses(NotFound, PreconditionFailed, PayloadTooLarge),
)
async def add_name(
    person_id: uuid.UUID, body: NameCreate, session: SessionDep, access: WriteAccess
) -> Response:
    record, _ = await service.add_name(session, access.principal, person_id, body)
    await audit.record(session, access, f"{RECORD}.name_add", RECORD, [record.id])
    await session.commit()
    return _json(record, access, 201)


@router.delete(
    "/persons/{person_id}/names/{name_id}",
    response_model=PersonPublic,
    summary="Remove a name",
    description="Removes one of the person's names and returns the person.",
    responses=problem_responses(NotFound, PreconditionFailed),
)
async def remove_name(
    person_id: uuid.UUID, name_id: uuid.UUID, session: SessionDep, access: WriteAccess
) -> Response:
    record = await service.remove_name(session, access.principal, person_id, name_id)
    await audit.record(session, access, f"{RECORD}.name_remove", RECORD, [record.id])
    await session.commit()
    return _json(record, access)


@router.post(
    "/persons/{person_id}/sensitivity-lift",
    response_model=SensitivityLift,
    summary="Approve lifting a sensitive flag",
    description=(
        "A supervisor's approval of lifting the person's sensitive flag. The approval of a "
        "second, different supervisor lifts it; a sensitive flag cannot be cleared otherwise "
        "(`PATCH` answers 409). 409 when the person is not flagged, or for a second approval "
        "by the same supervisor."
    ),
    responses=problem_responses(NotFound, Conflict, PreconditionFailed),
)
async def approve_lifting_sensitive(
    person_id: uuid.UUID, session: SessionDep, access: ProtectionAccess
) -> SensitivityLift:
    record, approvals = await service.approve_lifting_sensitive(
        session, access.principal, person_id
    )
    await audit.record(session, access, f"{RECORD}.sensitivity_lift", RECORD, [record.id])
    await session.commit()
    return SensitivityLift(
        person_id=record.id, approved_by=approvals, lifted=not record.personal.sensitive
    )
