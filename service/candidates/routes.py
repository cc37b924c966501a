"""Routes of `/v1/candidate-links`: the review queue and a candidate's detail."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.candidates import (
    CandidateKind,
    CandidateLinkPublic,
    CandidateLinkSummary,
    DecisionCreate,
    DecisionPublic,
    LinkStatus,
)
from schemas.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from schemas.problem import InvalidParam
from service.audit import service as audit
from service.candidates import repository, review
from service.db.models import CandidateLink
from service.deps import ReviewAccess, RuntimeDep, SessionDep
from service.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    problem_responses,
)
from service.http import IfMatchHeader, etag
from service.persons import repository as persons
from service.persons.service import person_public

router = APIRouter(prefix="/candidate-links", tags=["candidate links"])

RECORD = "candidate_link"


def _cursor(probability: float, link_id: uuid.UUID) -> str:
    raw = json.dumps([probability, str(link_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _position(text: str | None) -> tuple[float, uuid.UUID] | None:
    if text is None:
        return None
    try:
        probability, link_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return float(probability), uuid.UUID(link_id)
    except (binascii.Error, ValueError, TypeError) as err:
        raise BadRequest(
            "the cursor is not one this service issued",
            invalid_params=[InvalidParam(name="cursor", location="query", reason="invalid")],
        ) from err


@router.get(
    "",
    response_model=Page[CandidateLinkSummary],
    summary="The review queue",
    description=(
        "The society's candidate links, most probable first (`status` defaults to "
        "`proposed`), filtered by kind and minimum probability, one page at a time."
    ),
    responses=problem_responses(BadRequest),
)
async def list_candidate_links(
    access: ReviewAccess,
    session: SessionDep,
    status: LinkStatus = LinkStatus.PROPOSED,
    kind: CandidateKind | None = None,
    min_probability: Annotated[float, Query(ge=0, le=1)] = 0.0,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[CandidateLinkSummary]:
    rows = await repository.links_page(
        session,
        status=status.value,
        kind=kind.value if kind else None,
        min_probability=min_probability,
        after=_position(cursor),
        limit=limit,
    )
    shown = rows[:limit]
    await audit.record(session, access, f"{RECORD}.list", RECORD, [row.id for row in shown])
    await session.commit()
    following = _cursor(shown[-1].probability, shown[-1].id) if len(rows) > limit else None
    items = [CandidateLinkSummary.model_validate(row, from_attributes=True) for row in shown]
    return Page[CandidateLinkSummary](items=items, next_cursor=following)


@router.get(
    "/{link_id}",
    response_model=CandidateLinkPublic,
    summary="A candidate link",
    description=(
        "Both persons side by side with the engine's explanation; the `ETag` header carries "
        "the link's version for a later decision."
    ),
    responses=problem_responses(NotFound),
)
async def get_candidate_link(
    link_id: uuid.UUID, access: ReviewAccess, session: SessionDep
) -> JSONResponse:
    link = await repository.get_link(session, link_id)
    if link is None:
        raise NotFound(f"no candidate link {link_id}")
    body = await _detail(session, link, access.principal.scopes)
    await audit.record(session, access, f"{RECORD}.read", RECORD, _disclosed(link))
    await session.commit()
    return JSONResponse(body.model_dump(mode="json"), headers={"ETag": etag(link.version)})


@router.post(
    "/{link_id}/decisions",
    response_model=CandidateLinkPublic,
    summary="Decide on a candidate link",
    description=(
        "`confirm` or `reject` (with a reason: different person, insufficient information, "
        "duplicate record, or other with a note). Requires `If-Match` with the link's ETag. "
        "One rejection rejects the pair; a pair involving a possible minor or a deceased "
        "registration needs the confirmation of two different reviewers. A rejected pair is "
        "proposed again only if a compared field of either person changes. Confirming sets "
        "the tracing request to `located`; disclosure to the enquirer follows the consent "
        "rules, never the confirmation alone."
    ),
    responses=problem_responses(NotFound, Conflict, PreconditionFailed, PreconditionRequired),
)
async def decide_candidate_link(
    link_id: uuid.UUID,
    decision: DecisionCreate,
    access: ReviewAccess,
    session: SessionDep,
    runtime: RuntimeDep,
    if_match: IfMatchHeader = None,
) -> JSONResponse:
    link = await review.decide(
        session, access, link_id, decision, if_match, runtime.settings.minor_age
    )
    body = await _detail(session, link, access.principal.scopes)
    await audit.record(
        session, access, f"{RECORD}.{decision.decision.value}", RECORD, _disclosed(link)
    )
    await session.commit()
    return JSONResponse(body.model_dump(mode="json"), headers={"ETag": etag(link.version)})


def _disclosed(link: CandidateLink) -> list[uuid.UUID]:
    return [link.id, link.left_person_id, link.right_person_id]


async def _detail(
    session: AsyncSession, link: CandidateLink, scopes: frozenset[str]
) -> CandidateLinkPublic:
    """Both persons side by side, the explanation and the decisions so far."""
    people = {
        p.id: p
        for p in await persons.get_persons(
            session, link.society_id, [link.left_person_id, link.right_person_id]
        )
    }
    if len(people) != 2:
        raise NotFound(f"no candidate link {link.id}")
    decisions = await repository.decisions_of(session, link.id)
    return CandidateLinkPublic.model_validate(
        {
            **CandidateLinkSummary.model_validate(link, from_attributes=True).model_dump(),
            "explanation": link.explanation,
            "left": person_public(people[link.left_person_id], scopes),
            "right": person_public(people[link.right_person_id], scopes),
            "decisions": [
                DecisionPublic.model_validate(d, from_attributes=True) for d in decisions
            ],
        }
    )
