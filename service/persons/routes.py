"""Routes of `/v1/persons` and `/v1/registrations`."""

from __future__ import annotations

import uuid
from typing import Annotated

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
)
from service.deps import PrincipalDep, RuntimeDep, SessionDep
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

router = APIRouter(tags=["persons"])

UPDATE_ERRORS = (NotFound, Conflict, PreconditionFailed, PreconditionRequired, PayloadTooLarge)


def _json(record: PersonRecord, code: int = 200) -> JSONResponse:
    return JSONResponse(
        service.person_public(record).model_dump(mode="json"),
        status_code=code,
        headers={"ETag": etag(record.version)},
    )


def created_person(record: PersonRecord) -> Outcome:
    """The 201 outcome of creating a person: its view, ETag and Location."""
    return Outcome(
        201,
        service.person_public(record).model_dump(mode="json"),
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
    principal: PrincipalDep,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    async def action() -> Outcome:
        return created_person(await service.create_registration(session, principal, body))

    ttl = runtime.settings.idempotency_ttl
    return await run_once(session, principal, idempotency_key, request, action, ttl)


@router.get(
    "/registrations",
    response_model=Page[PersonPublic],
    summary="List registrations",
    description="The acting society's registrations in order of recording, one page at a time.",
    responses=problem_responses(BadRequest),
)
async def list_registrations(
    session: SessionDep,
    principal: PrincipalDep,
    kind: RegistrationKind | None = None,
    status_: Annotated[PersonStatus | None, Query(alias="status")] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[PersonPublic]:
    rows = await repository.list_registrations(
        session,
        principal.society_id,
        kind=kind.value if kind else None,
        status=status_.value if status_ else None,
        after=Cursor.decode(cursor),
        limit=limit,
    )
    return Page[PersonPublic](
        items=[service.person_public(row) for row in rows[:limit]],
        next_cursor=page_cursor(rows, limit),
    )


@router.get(
    "/persons/{person_id}",
    response_model=PersonPublic,
    summary="Read a person",
    description="A person with its names; the `ETag` header carries its version.",
    responses=problem_responses(NotFound),
)
async def get_person(
    person_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return _json(await service.get(session, principal, person_id))


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
    principal: PrincipalDep,
    if_match: IfMatchHeader = None,
) -> Response:
    record = await service.update(session, principal, person_id, body, if_match)
    await session.commit()
    return _json(record)


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
    principal: PrincipalDep,
    if_match: IfMatchHeader = None,
) -> Response:
    record = await service.close(session, principal, person_id, body, if_match)
    await session.commit()
    return _json(record)


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
    person_id: uuid.UUID, body: NameCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    record, _ = await service.add_name(session, principal, person_id, body)
    await session.commit()
    return _json(record, 201)


@router.delete(
    "/persons/{person_id}/names/{name_id}",
    response_model=PersonPublic,
    summary="Remove a name",
    description="Removes one of the person's names and returns the person.",
    responses=problem_responses(NotFound, PreconditionFailed),
)
async def remove_name(
    person_id: uuid.UUID, name_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    record = await service.remove_name(session, principal, person_id, name_id)
    await session.commit()
    return _json(record)
