"""`POST /v1/search` and `GET /v1/search-flags`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Security

from schemas.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from schemas.search import SearchFlagPublic, SearchQuery, SearchResult
from service.auth.scopes import Scope
from service.deps import ReadAccess, RuntimeDep, SessionDep, get_principal
from service.errors import TooManyRequests, problem_responses
from service.principal import Principal
from service.search import repository, service
from service.search.service import SearchTooBroad

router = APIRouter(tags=["search"])


@router.post(
    "/search",
    response_model=SearchResult,
    summary="Search for a person",
    description=(
        "A name and at least one other identifier (birth date or year, sex, birth place, "
        "father's name); a name alone or identifiers alone are refused (422 "
        "`search-too-broad`). Ranked by the engine's calibrated probability with its "
        "explanation. Rate-limited per caller; every search is audited with the persons it "
        "returned, and a caller searching unusually much is flagged to supervisors and the "
        "data-protection officer."
    ),
    responses=problem_responses(SearchTooBroad, TooManyRequests),
)
async def search_persons(
    query: SearchQuery, access: ReadAccess, session: SessionDep, runtime: RuntimeDep
) -> SearchResult:
    decision = runtime.search_limits.take(access.principal.subject)
    if not decision.allowed:
        raise TooManyRequests(
            "Too many searches; wait and try again.", retry_after=decision.retry_after_seconds
        )
    result = await service.search(session, access, query, runtime.settings.search_flag_per_hour)
    await session.commit()
    return result


@router.get(
    "/search-flags",
    response_model=list[SearchFlagPublic],
    summary="Callers flagged for their search volume",
    description="Newest first: who searched more than the society's rule allows in an hour.",
    responses=problem_responses(),
)
async def list_search_flags(
    _: Annotated[Principal, Security(get_principal, scopes=[Scope.OVERSIGHT])],
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> list[SearchFlagPublic]:
    rows = await repository.flags(session, limit)
    return [SearchFlagPublic.model_validate(row, from_attributes=True) for row in rows]
