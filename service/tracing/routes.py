"""Routes of `/v1/tracing-requests`."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from schemas.enums import TracingOutcome, TracingRequestStatus
from schemas.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from schemas.persons import PersonPublic, RequestPersonCreate
from schemas.tracing import (
    RelationshipCreate,
    RelationshipPublic,
    TracingRequestClose,
    TracingRequestCreate,
    TracingRequestPublic,
    TracingRequestSummary,
    TracingRequestUpdate,
)
from service.audit import service as audit
from service.deps import CloseAccess, ReadAccess, RuntimeDep, SessionDep, WriteAccess
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
from service.http import IdempotencyKeyHeader, IfMatchHeader, etag
from service.idempotency.service import Outcome, run_once
from service.persons import service as persons
from service.persons.routes import created_person
from service.tracing import service
from service.tracing.repository import RequestFilters

router = APIRouter(prefix="/tracing-requests", tags=["tracing requests"])

WRITE_ERRORS = (PayloadTooLarge, IdempotencyInFlight, IdempotencyKeyReused)
UPDATE_ERRORS = (NotFound, Conflict, PreconditionFailed, PreconditionRequired, PayloadTooLarge)


RECORD = "tracing_request"


def disclosed(model: TracingRequestPublic) -> list[uuid.UUID]:
    """The records a full tracing request discloses: itself and each of its persons."""
    return [model.id, *(person.id for person in model.persons)]


def disclosed_in_body(body: dict[str, Any]) -> list[uuid.UUID]:
    """The records a stored tracing request response discloses (for an audited replay)."""
    persons = body.get("persons") or []
    return [uuid.UUID(str(body["id"])), *(uuid.UUID(str(p["id"])) for p in persons)]


def _json(model: TracingRequestPublic, code: int = 200) -> JSONResponse:
    return JSONResponse(
        model.model_dump(mode="json"), status_code=code, headers={"ETag": etag(model.version)}
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TracingRequestPublic,
    summary="Open a tracing request",
    description=(
        "Records a tracing request with its enquirer, sought persons and their relationships "
        "in one transaction. The reference number is generated (`<SOCIETY>-<year>-<n>`) when "
        "omitted. Send `Idempotency-Key` to make retries safe."
    ),
    responses=problem_responses(Conflict, *WRITE_ERRORS),
)
async def create_tracing_request(
    body: TracingRequestCreate,
    request: Request,
    session: SessionDep,
    access: WriteAccess,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    async def action() -> Outcome:
        created = await service.create(session, access.principal, body)
        await audit.record(session, access, f"{RECORD}.create", RECORD, disclosed(created))
        return Outcome(
            201,
            created.model_dump(mode="json"),
            {"Location": f"/v1/tracing-requests/{created.id}", "ETag": etag(created.version)},
        )

    ttl = runtime.settings.idempotency_ttl
    return await run_once(
        session, access, idempotency_key, request, action, ttl, RECORD, disclosed_in_body
    )


@router.get(
    "",
    response_model=Page[TracingRequestSummary],
    summary="List tracing requests",
    description=(
        "The acting society's tracing requests in order of recording, filtered, one page at a "
        "time: pass `next_cursor` back as `cursor` for the next page."
    ),
    responses=problem_responses(BadRequest),
)
async def list_tracing_requests(
    session: SessionDep,
    access: ReadAccess,
    status_: Annotated[TracingRequestStatus | None, Query(alias="status")] = None,
    outcome: TracingOutcome | None = None,
    reference_number: Annotated[str | None, Query(max_length=64)] = None,
    opened_from: datetime.date | None = None,
    opened_to: datetime.date | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[TracingRequestSummary]:
    filters = RequestFilters(
        status=status_.value if status_ else None,
        outcome=outcome.value if outcome else None,
        reference_number=reference_number,
        opened_from=opened_from,
        opened_to=opened_to,
    )
    page = await service.list_page(session, access.principal, filters, cursor, limit)
    await audit.record(session, access, f"{RECORD}.list", RECORD, [i.id for i in page.items])
    await session.commit()
    return page


@router.get(
    "/{request_id}",
    response_model=TracingRequestPublic,
    summary="Read a tracing request",
    description="The request with its persons and relationships; the `ETag` header carries "
    "its version for a later `If-Match`.",
    responses=problem_responses(NotFound),
)
async def get_tracing_request(
    request_id: uuid.UUID, session: SessionDep, access: ReadAccess
) -> Response:
    found = await service.get(session, access.principal, request_id)
    await audit.record(session, access, f"{RECORD}.read", RECORD, disclosed(found))
    await session.commit()
    return _json(found)


@router.patch(
    "/{request_id}",
    response_model=TracingRequestPublic,
    summary="Update a tracing request",
    description=(
        "Changes the fields sent (`null` clears an optional field). Requires `If-Match` with the "
        "current ETag: 428 without it, 412 when the request changed since it was read. A closed "
        "request can only be reopened (by setting `status`)."
    ),
    responses=problem_responses(*UPDATE_ERRORS),
)
async def update_tracing_request(
    request_id: uuid.UUID,
    body: TracingRequestUpdate,
    session: SessionDep,
    access: WriteAccess,
    if_match: IfMatchHeader = None,
) -> Response:
    updated = await service.update(session, access.principal, request_id, body, if_match)
    await audit.record(session, access, f"{RECORD}.update", RECORD, disclosed(updated))
    await session.commit()
    return _json(updated)


@router.post(
    "/{request_id}/close",
    response_model=TracingRequestPublic,
    summary="Close a tracing request",
    description="Records the outcome and closes the request and its active persons. Requires "
    "`If-Match`.",
    responses=problem_responses(*UPDATE_ERRORS),
)
async def close_tracing_request(
    request_id: uuid.UUID,
    body: TracingRequestClose,
    session: SessionDep,
    access: CloseAccess,
    if_match: IfMatchHeader = None,
) -> Response:
    closed = await service.close(session, access.principal, request_id, body, if_match)
    await audit.record(session, access, f"{RECORD}.close", RECORD, disclosed(closed))
    await session.commit()
    return _json(closed)


@router.post(
    "/{request_id}/persons",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonPublic,
    summary="Add a person to a tracing request",
    description=(
        "Adds the enquirer (one per request) or a sought person, with its relationship to the "
        "enquirer when given. Send `Idempotency-Key` to make retries safe."
    ),
    responses=problem_responses(NotFound, Conflict, *WRITE_ERRORS),
)
async def add_request_person(
    request_id: uuid.UUID,
    body: RequestPersonCreate,
    request: Request,
    session: SessionDep,
    access: WriteAccess,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    async def action() -> Outcome:
        added = await service.add_person(session, access.principal, request_id, body)
        await audit.record(session, access, "person.create", "person", [added.id, request_id])
        return created_person(added, access)

    ttl = runtime.settings.idempotency_ttl

    def person_and_request(body: dict[str, Any]) -> list[uuid.UUID]:
        return [uuid.UUID(str(body["id"])), request_id]

    return await run_once(
        session, access, idempotency_key, request, action, ttl, "person", person_and_request
    )


@router.get(
    "/{request_id}/persons",
    response_model=list[PersonPublic],
    summary="List the persons of a tracing request",
    description="The enquirer first, then the sought persons in order of recording.",
    responses=problem_responses(NotFound),
)
async def list_request_persons(
    request_id: uuid.UUID, session: SessionDep, access: ReadAccess
) -> JSONResponse:
    people = await service.list_persons(session, access.principal, request_id)
    await audit.record(session, access, "person.list", "person", [p.id for p in people])
    await session.commit()
    return JSONResponse(
        [persons.person_public(p, access.principal.scopes).model_dump(mode="json") for p in people]
    )


@router.post(
    "/{request_id}/relationships",
    status_code=status.HTTP_201_CREATED,
    response_model=RelationshipPublic,
    summary="Record a relationship",
    description="Records what a sought person of the request is to its enquirer.",
    responses=problem_responses(NotFound, Conflict, PayloadTooLarge),
)
async def add_relationship(
    request_id: uuid.UUID, body: RelationshipCreate, session: SessionDep, access: WriteAccess
) -> RelationshipPublic:
    relationship = await service.add_relationship(session, access.principal, request_id, body)
    related = [request_id, relationship.enquirer_id, relationship.sought_person_id]
    await audit.record(session, access, "relationship.create", "tracing_request", related)
    await session.commit()
    return service.relationship_public(relationship)


@router.delete(
    "/{request_id}/relationships/{relationship_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a relationship",
    description="Removes a relationship recorded in the request.",
    responses=problem_responses(NotFound, Conflict),
)
async def remove_relationship(
    request_id: uuid.UUID,
    relationship_id: uuid.UUID,
    session: SessionDep,
    access: WriteAccess,
) -> Response:
    await service.remove_relationship(session, access.principal, request_id, relationship_id)
    await audit.record(session, access, "relationship.delete", "tracing_request", [request_id])
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
