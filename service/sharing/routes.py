"""Routes of `/v1/sharing-grants`, `/v1/shared/persons` and `/v1/transfers`."""

from __future__ import annotations

import csv
import datetime
import io
import json
import uuid
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse, Response, StreamingResponse

from schemas.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from schemas.sharing import (
    GrantRevocation,
    SharedPersonPublic,
    SharingGrantCreate,
    SharingGrantPublic,
    TransferPublic,
)
from service.audit import service as audit
from service.deps import (
    DataProtectionAccess,
    ReadAccess,
    RuntimeDep,
    SessionDep,
    SharingAccess,
)
from service.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    problem_responses,
)
from service.http import Cursor, IdempotencyKeyHeader, IfMatchHeader, etag, page_cursor
from service.idempotency.service import Outcome, run_once
from service.sharing import repository, service

router = APIRouter(tags=["sharing"])

GRANT = "sharing_grant"
PERSON = "person"
EXPORT_PAGE = 1000


class GrantDirection(StrEnum):
    """Grants the caller's society gave, or received."""

    GIVEN = "given"
    RECEIVED = "received"


class TransferDirection(StrEnum):
    """Records the caller's society sent, or received."""

    SENT = "sent"
    RECEIVED = "received"


class ExportFormat(StrEnum):
    """Formats of a ledger export."""

    CSV = "csv"
    JSONL = "jsonl"


def _grant_response(grant: SharingGrantPublic) -> JSONResponse:
    return JSONResponse(grant.model_dump(mode="json"), headers={"ETag": etag(grant.version)})


@router.post(
    "/sharing-grants",
    status_code=status.HTTP_201_CREATED,
    response_model=SharingGrantPublic,
    summary="Grant another society access to records",
    description=(
        "A supervisor of the sharing society records what it shares with `recipient_society`: "
        "record categories (`tracing_request`: every request's enquirer and sought persons; "
        "`registration`) and/or individual tracing requests, which fields, for restoring family "
        "links, on which legal basis, until when. Contact details and current whereabouts "
        "cannot be granted (they pass only through the disclosure gate); sensitive persons and "
        "persons out of tracing are never shared. 422 for an unknown or own society, a past "
        "`valid_until`, or a tracing request the society does not hold. Send "
        "`Idempotency-Key` to make a retry safe."
    ),
    responses=problem_responses(IdempotencyInFlight, IdempotencyKeyReused),
)
async def create_grant(
    body: SharingGrantCreate,
    request: Request,
    session: SessionDep,
    access: SharingAccess,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    async def action() -> Outcome:
        grant = await service.create_grant(session, access.principal, body)
        await audit.record(session, access, f"{GRANT}.create", GRANT, [grant.id])
        (shown,) = await service.grants_public(session, [grant])
        return Outcome(
            201,
            shown.model_dump(mode="json"),
            {"ETag": etag(shown.version), "Location": f"/v1/sharing-grants/{shown.id}"},
        )

    ttl = runtime.settings.idempotency_ttl
    return await run_once(
        session, access, idempotency_key, request, action, ttl, GRANT, lambda _: []
    )


@router.get(
    "/sharing-grants",
    response_model=Page[SharingGrantPublic],
    summary="List sharing grants",
    description="Grants the caller's society gave and received (or one `direction`), oldest "
    "first, one page at a time.",
    responses=problem_responses(BadRequest),
)
async def list_grants(
    session: SessionDep,
    access: ReadAccess,
    direction: GrantDirection | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[SharingGrantPublic]:
    rows = await repository.grants_page(
        session,
        access.principal.society_id,
        direction.value if direction else None,
        Cursor.decode(cursor),
        limit,
    )
    items = await service.grants_public(session, rows[:limit])
    await session.commit()
    return Page[SharingGrantPublic](items=items, next_cursor=page_cursor(rows, limit))


@router.get(
    "/sharing-grants/{grant_id}",
    response_model=SharingGrantPublic,
    summary="Read a sharing grant",
    description="A grant the caller's society gave or received (404 otherwise).",
    responses=problem_responses(NotFound),
)
async def get_grant(grant_id: uuid.UUID, session: SessionDep, access: ReadAccess) -> JSONResponse:
    (shown,) = await service.grants_public(session, [await service.get_grant(session, grant_id)])
    await session.commit()
    return _grant_response(shown)


@router.post(
    "/sharing-grants/{grant_id}/revocation",
    response_model=SharingGrantPublic,
    summary="Revoke a sharing grant",
    description=(
        "Only the sharing society's supervisors revoke (403 for the recipient). From the "
        "commit on, nothing more is read under the grant, and the recipient's webhook "
        "subscriptions receive a `grant.revoked` tombstone: delete what was received under it. "
        "Needs `If-Match`; 409 when already revoked."
    ),
    responses=problem_responses(
        NotFound, Forbidden, Conflict, PreconditionFailed, PreconditionRequired
    ),
)
async def revoke_grant(
    grant_id: uuid.UUID,
    body: GrantRevocation,
    session: SessionDep,
    access: SharingAccess,
    if_match: IfMatchHeader = None,
) -> JSONResponse:
    grant = await service.revoke_grant(session, access.principal, grant_id, body.reason, if_match)
    await audit.record(session, access, f"{GRANT}.revoke", GRANT, [grant.id])
    (shown,) = await service.grants_public(session, [grant])
    await session.commit()
    return _grant_response(shown)


@router.get(
    "/shared/persons",
    response_model=Page[SharedPersonPublic],
    summary="List persons other societies share with you",
    description=(
        "Persons that grants in force cover (of one `society`, if given), oldest first, one "
        "page at a time, each with exactly the fields its grants allow. Every person sent is "
        "logged in the transfers ledger and the read is audited. Without a grant: an empty "
        "page."
    ),
    responses=problem_responses(BadRequest),
)
async def list_shared_persons(
    session: SessionDep,
    access: ReadAccess,
    society: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> JSONResponse:
    views, rows = await service.shared_page(
        session, access.principal, society, Cursor.decode(cursor), limit
    )
    ids = [uuid.UUID(view["id"]) for view in views]
    await audit.record(session, access, f"{PERSON}.shared_list", PERSON, ids)
    await session.commit()
    return JSONResponse({"items": views, "next_cursor": page_cursor(rows, limit)})


@router.get(
    "/shared/persons/{person_id}",
    response_model=SharedPersonPublic,
    summary="Read a person another society shares with you",
    description="404, exactly like a missing person, unless a grant in force covers it.",
    responses=problem_responses(NotFound),
)
async def get_shared_person(
    person_id: uuid.UUID, session: SessionDep, access: ReadAccess
) -> JSONResponse:
    view = await service.shared_person(session, access.principal, person_id)
    await audit.record(session, access, f"{PERSON}.shared_read", PERSON, [person_id])
    await session.commit()
    return JSONResponse(view)


@router.get(
    "/transfers",
    response_model=Page[TransferPublic],
    summary="List the transfers ledger",
    description=(
        "Every record sent to another society or received from one (or one `direction`): "
        "recipient, grant, purpose, legal basis and the fields sent. For data-protection "
        "officers."
    ),
    responses=problem_responses(BadRequest),
)
async def list_transfers(
    session: SessionDep,
    access: DataProtectionAccess,
    direction: TransferDirection | None = None,
    since: datetime.datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[TransferPublic]:
    rows = await repository.transfers_page(
        session,
        access.principal.society_id,
        direction.value if direction else None,
        since,
        Cursor.decode(cursor),
        limit,
    )
    items = await service.transfers_public(session, rows[:limit])
    await audit.record(session, access, "transfer.list", "transfer", [row.id for row in rows])
    await session.commit()
    return Page[TransferPublic](items=items, next_cursor=page_cursor(rows, limit, at="sent_at"))


def _csv_lines(items: list[TransferPublic], header: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = list(TransferPublic.model_fields)
    if header:
        writer.writerow(columns)
    for item in items:
        row = item.model_dump(mode="json")
        writer.writerow([";".join(v) if isinstance(v, list) else v for v in map(row.get, columns)])
    return buffer.getvalue()


@router.get(
    "/transfers/export",
    summary="Export the transfers ledger",
    description="The whole ledger (or one `direction`, `since` a time) as CSV or JSON Lines, "
    "streamed.",
    responses={
        **problem_responses(BadRequest),
        200: {"content": {"text/csv": {}, "application/jsonl": {}}},
    },
)
async def export_transfers(
    session: SessionDep,
    access: DataProtectionAccess,
    runtime: RuntimeDep,
    format: ExportFormat = ExportFormat.CSV,
    direction: TransferDirection | None = None,
    since: datetime.datetime | None = None,
) -> StreamingResponse:
    await audit.record(session, access, "transfer.export", "transfer", [])
    await session.commit()
    society = access.principal.society_id
    chosen = direction.value if direction else None

    async def body() -> AsyncIterator[str]:
        # The request's session closes with the route; the stream reads with its own.
        after: Cursor | None = None
        first = True
        while True:
            async with runtime.tenant_session(society) as reader:
                rows = await repository.transfers_page(
                    reader, society, chosen, since, after, EXPORT_PAGE
                )
                items = await service.transfers_public(reader, rows[:EXPORT_PAGE])
            if format is ExportFormat.CSV:
                yield _csv_lines(items, header=first)
            else:
                yield "".join(json.dumps(i.model_dump(mode="json")) + "\n" for i in items)
            first = False
            if len(rows) <= EXPORT_PAGE:
                return
            last = rows[EXPORT_PAGE - 1]
            after = Cursor(last.sent_at, last.id)

    media = "text/csv" if format is ExportFormat.CSV else "application/jsonl"
    return StreamingResponse(body(), media_type=media)
