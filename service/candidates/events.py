"""`GET /v1/events`: the society's feed of candidate links and decisions, for polling tools."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Security

from schemas.candidates import EventFeed, LinkEventPublic
from schemas.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from service.auth.scopes import Scope
from service.candidates import repository
from service.deps import SessionDep, get_principal
from service.errors import problem_responses
from service.principal import Principal

router = APIRouter(prefix="/events", tags=["candidate links"])


@router.get(
    "",
    response_model=EventFeed,
    summary="Feed of candidates and decisions",
    description=(
        "Events after `after` (0: from the start), oldest first: candidates proposed, "
        "proposed again, confirmed or rejected, and decisions recorded. Numbers are contiguous "
        "and in commit order, so polling with the returned `next_after` neither misses nor "
        "repeats an event. Ids only: read a candidate to see its persons."
    ),
    responses=problem_responses(),
)
async def list_events(
    _: Annotated[Principal, Security(get_principal, scopes=[Scope.CANDIDATES_READ])],
    session: SessionDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> EventFeed:
    rows = await repository.events_after(session, after, limit)
    items = [LinkEventPublic.model_validate(row, from_attributes=True) for row in rows]
    return EventFeed(items=items, next_after=items[-1].seq if items else after)
