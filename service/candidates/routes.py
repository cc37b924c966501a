"""Routes of `/v1/candidate-links`: the review queue and a candidate's detail."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

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
from schemas.persons import PersonPublic
from schemas.problem import InvalidParam
from service.audit import service as audit
from service.candidates import repository, review
from service.db.models import CandidateLink
from service.deps import CandidateReadAccess, ReviewAccess, RuntimeDep, SessionDep
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
from service.persons.records import PersonRecord
from service.persons.service import person_public
from service.principal import Access
from service.sharing import service as sharing
from service.societies import repository as societies

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
    access: CandidateReadAccess,
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
    codes = await societies.codes_of(session, _societies(shown))
    items = [_summary(row, codes) for row in shown]
    return Page[CandidateLinkSummary](items=items, next_cursor=following)


def _societies(links: Sequence[CandidateLink]) -> set[uuid.UUID]:
    """Every society named by cross-society links (partners and confirming sides)."""
    return {
        society
        for link in links
        if link.partner_society_id is not None
        for society in (link.society_id, link.partner_society_id, *link.confirmed_by)
    }


def _summary(link: CandidateLink, codes: dict[uuid.UUID, str]) -> CandidateLinkSummary:
    """A link as listed; a cross-society link names the partner and the confirmed sides."""
    fields = {
        name: getattr(link, name)
        for name in CandidateLinkSummary.model_fields
        if name not in ("partner_society", "confirmed_by")
    }
    if link.partner_society_id is not None:
        fields["partner_society"] = codes[link.partner_society_id]
        fields["confirmed_by"] = [codes[society] for society in link.confirmed_by]
    return CandidateLinkSummary.model_validate(fields)


@router.get(
    "/{link_id}",
    response_model=CandidateLinkPublic,
    summary="A candidate link",
    description=(
        "Both persons side by side with the engine's explanation; the `ETag` header carries "
        "the link's version for a later decision. On a cross-society link the partner "
        "society's person is shown by reference only (its side is null, its name parts in the "
        "explanation withheld) until both societies confirm."
    ),
    responses=problem_responses(NotFound),
)
async def get_candidate_link(
    link_id: uuid.UUID, access: CandidateReadAccess, session: SessionDep
) -> JSONResponse:
    link = await repository.get_link(session, link_id)
    if link is None:
        raise NotFound(f"no candidate link {link_id}")
    body = await _detail(session, link, access)
    await audit.record(session, access, f"{RECORD}.read", RECORD, _disclosed(link))
    await session.commit()
    return JSONResponse(body, headers={"ETag": etag(link.version)})


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
        "rules, never the confirmation alone. On a cross-society link (`partner_society` set) "
        "each society's reviewers confirm for their own side (`confirmed_by`); the pair is "
        "confirmed once both have, rejected by either."
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
    body = await _detail(session, link, access)
    await audit.record(
        session, access, f"{RECORD}.{decision.decision.value}", RECORD, _disclosed(link)
    )
    await session.commit()
    return JSONResponse(body, headers={"ETag": etag(link.version)})


def _disclosed(link: CandidateLink) -> list[uuid.UUID]:
    return [link.id, link.left_person_id, link.right_person_id]


async def _detail(session: AsyncSession, link: CandidateLink, access: Access) -> dict[str, Any]:
    """Both persons side by side, the explanation and the decisions so far (JSON-ready). On a
    cross-society link the caller sees its own person as its role may, and of the partner's
    person only the reference until both societies confirmed (then the fields a grant gives
    it, and no key for the others)."""
    own = access.principal.society_id
    scopes = access.principal.scopes
    pair = (link.left_person_id, link.right_person_id)
    people = {p.id: p for p in await persons.get_persons(session, own, list(pair))}
    if len(people) != (2 if link.partner_society_id is None else 1):
        raise NotFound(f"no candidate link {link.id}")
    partner_person = None
    if link.partner_society_id is not None and link.status == LinkStatus.CONFIRMED:
        (theirs,) = set(pair) - set(people)
        with contextlib.suppress(NotFound):
            partner_person = await sharing.shared_person(session, access.principal, theirs)
    decisions = await repository.decisions_of(session, link.id)
    codes = await societies.codes_of(session, _societies([link]))
    body = CandidateLinkPublic.model_validate(
        {
            **_summary(link, codes).model_dump(),
            "explanation": explanation_for(link, left_own=link.left_person_id in people),
            "left": _side(people.get(link.left_person_id), scopes),
            "right": _side(people.get(link.right_person_id), scopes),
            "decisions": [
                DecisionPublic.model_validate(d, from_attributes=True) for d in decisions
            ],
        }
    )
    return body.model_dump(mode="json") | {"partner_person": partner_person}


def _side(person: PersonRecord | None, scopes: frozenset[str]) -> PersonPublic | None:
    return person_public(person, scopes) if person is not None else None


def explanation_for(link: CandidateLink, *, left_own: bool) -> dict[str, Any]:
    """The explanation as one side may read it: on a cross-society link the other society's
    aligned name parts are withheld (levels, keys and evidence remain)."""
    if link.partner_society_id is None:
        return link.explanation
    withheld = 0 if not left_own else 1
    fields = {}
    for name, entry in link.explanation.get("fields", {}).items():
        if "parts" in entry:
            parts = [list(part) for part in entry["parts"]]
            for part in parts:
                part[withheld] = None
            entry = entry | {"parts": parts}
        fields[name] = entry
    return link.explanation | {"fields": fields}
