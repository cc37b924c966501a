"""Routes of `/v1/disclosures` and the enquirer-side view of a tracing request."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from schemas.disclosure import (
    DisclosureAnswer,
    DisclosurePublic,
    EnquirerView,
    VerificationCreate,
)
from schemas.enums import DisclosureStatus
from schemas.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from service.audit import service as audit
from service.auth.scopes import Scope
from service.db.models import Disclosure
from service.deps import ReadAccess, ReviewAccess, SessionDep, WriteAccess
from service.disclosure import repository, service
from service.errors import BadRequest, Conflict, NotFound, problem_responses
from service.http import Cursor, page_cursor
from service.principal import Access

router = APIRouter(tags=["disclosure"])

RECORD = "disclosure"
STEP_ERRORS = (NotFound, Conflict)


async def _recorded(
    session: SessionDep, access: Access, action: str, disclosure: Disclosure
) -> DisclosurePublic:
    await audit.record(session, access, f"{RECORD}.{action}", RECORD, [disclosure.id])
    (shown,) = await service.disclosures_public(session, [disclosure])
    await session.commit()
    return shown


@router.get(
    "/disclosures",
    response_model=Page[DisclosurePublic],
    summary="List disclosures",
    description="The society's disclosures (one per confirmed link that located someone), "
    "oldest first, one page at a time.",
    responses=problem_responses(BadRequest),
)
async def list_disclosures(
    session: SessionDep,
    access: ReadAccess,
    status: DisclosureStatus | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[DisclosurePublic]:
    rows = await repository.page(
        session, status.value if status else None, Cursor.decode(cursor), limit
    )
    shown = rows[:limit]
    await audit.record(session, access, f"{RECORD}.list", RECORD, [row.id for row in shown])
    items = await service.disclosures_public(session, shown)
    await session.commit()
    return Page[DisclosurePublic](
        items=items,
        next_cursor=page_cursor(rows, limit),
    )


@router.get(
    "/disclosures/{disclosure_id}",
    response_model=DisclosurePublic,
    summary="Read a disclosure",
    description="Its state, the located and the sought person's ids, the fields released, "
    "and for a minor the verification and approvals so far (no personal data).",
    responses=problem_responses(NotFound),
)
async def get_disclosure(
    disclosure_id: uuid.UUID, session: SessionDep, access: ReadAccess
) -> DisclosurePublic:
    return await _recorded(session, access, "read", await service.get(session, disclosure_id))


@router.post(
    "/disclosures/{disclosure_id}/request",
    response_model=DisclosurePublic,
    summary="Record that the located person was asked",
    description="`pending` -> `requested` (409 from any other state).",
    responses=problem_responses(*STEP_ERRORS),
)
async def request_disclosure(
    disclosure_id: uuid.UUID, session: SessionDep, access: WriteAccess
) -> DisclosurePublic:
    found = await service.mark_requested(session, access.principal, disclosure_id)
    return await _recorded(session, access, "request", found)


@router.post(
    "/disclosures/{disclosure_id}/answer",
    response_model=DisclosurePublic,
    summary="Record the located person's answer",
    description=(
        "`consent` names the person's recorded consent to disclosure to this request's "
        "enquirer (422 if it is not that, or is withdrawn): the fields it allows are released "
        "at once, or once a minor's relationship is verified and two reviewers approved "
        "(`awaiting_approval`). `refuse`: the enquirer side learns only that the person "
        "declines contact. `no_answer` can be followed by an answer later."
    ),
    responses=problem_responses(*STEP_ERRORS),
)
async def answer_disclosure(
    disclosure_id: uuid.UUID, body: DisclosureAnswer, session: SessionDep, access: WriteAccess
) -> DisclosurePublic:
    found = await service.answer(session, access.principal, disclosure_id, body)
    return await _recorded(session, access, f"answer_{body.answer.value}", found)


@router.post(
    "/disclosures/{disclosure_id}/verification",
    response_model=DisclosurePublic,
    summary="Record the verification of a minor's relationship",
    description="Who verified (the caller), how and when. Only where a minor is involved.",
    responses=problem_responses(*STEP_ERRORS),
)
async def verify_relationship(
    disclosure_id: uuid.UUID, body: VerificationCreate, session: SessionDep, access: WriteAccess
) -> DisclosurePublic:
    found = await service.verify(session, access.principal, disclosure_id, body)
    return await _recorded(session, access, "verify", found)


@router.post(
    "/disclosures/{disclosure_id}/approvals",
    response_model=DisclosurePublic,
    summary="Approve a minor's disclosure",
    description="Two different reviewers must approve before anything about a minor is "
    "released (409 for a second approval by the same reviewer).",
    responses=problem_responses(*STEP_ERRORS),
)
async def approve_disclosure(
    disclosure_id: uuid.UUID, session: SessionDep, access: ReviewAccess
) -> DisclosurePublic:
    found = await service.approve(session, access.principal, disclosure_id)
    return await _recorded(session, access, "approve", found)


@router.post(
    "/disclosures/{disclosure_id}/delivered",
    response_model=DisclosurePublic,
    summary="Record that a death was delivered in person",
    description="`caseworker_delivery` -> `delivered`: news of a death is never released by "
    "the API, a caseworker delivers it.",
    responses=problem_responses(*STEP_ERRORS),
)
async def mark_delivered(
    disclosure_id: uuid.UUID, session: SessionDep, access: WriteAccess
) -> DisclosurePublic:
    found = await service.mark_delivered(session, access.principal, disclosure_id)
    return await _recorded(session, access, "delivered", found)


@router.get(
    "/tracing-requests/{request_id}/enquirer-view",
    response_model=EnquirerView,
    summary="The request as its enquirer side may see it",
    description=(
        "Status and outcome, and per located sought person only what the enquirer may "
        "learn: `disclosure_pending` until the located person consents, `contact_restored` "
        "with exactly the fields they allowed (while their consent stands), "
        "`declines_contact` otherwise. A death is shown only to roles that may see it "
        "(`deceased:read`), for delivery in person."
    ),
    responses=problem_responses(NotFound),
)
async def enquirer_view(
    request_id: uuid.UUID, session: SessionDep, access: ReadAccess
) -> EnquirerView:
    may_see_deceased = Scope.DECEASED_READ.value in access.principal.scopes
    view, released = await service.enquirer_view(
        session, access.principal, request_id, may_see_deceased
    )
    await audit.record(session, access, "tracing_request.enquirer_view", "person", released)
    await session.commit()
    return view
