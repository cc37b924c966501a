"""Running a search: the engine's keys through the society's index, scoring off the event loop.

The query becomes a `matching.PersonRecord`; its keyed blocking digests find candidates in
`person_key` exactly as a new record would; the engine scores them in a worker thread. Every
search is audited (with the persons it returned), and a caller whose searches in the last hour
exceed the society's rule is flagged once an hour to supervisors and data-protection officers.
"""

from __future__ import annotations

import asyncio
import datetime
import uuid
from functools import lru_cache

from sqlmodel.ext.asyncio.session import AsyncSession

from matching import FuzzyDateError, Matcher, PersonName, PersonRecord, parse_fuzzy_date
from schemas.enums import PersonRole
from schemas.problem import InvalidParam
from schemas.search import SearchHit, SearchQuery, SearchResult
from service.audit import service as audit
from service.candidates import calibration, keys
from service.candidates.records import SEX_CODES, matching_record
from service.candidates.service import Pool, find_candidates
from service.db.models import SearchFlag
from service.errors import UnprocessableContent
from service.persons import repository as persons
from service.persons.records import PersonRecord as StoredPerson
from service.persons.service import person_public
from service.persons.views import may_see_person
from service.principal import Access
from service.search import repository

MAX_SCORED = 200
NOBODY = uuid.UUID(int=0)


class SearchTooBroad(UnprocessableContent):
    slug, title = "search-too-broad", "Give a name and at least one other identifier"


@lru_cache(maxsize=1)
def search_matcher() -> Matcher:
    """The engine, loaded once per process."""
    return Matcher()


def query_record(query: SearchQuery) -> PersonRecord:
    """The query as the engine sees it; a name alone is refused."""
    identifiers = [query.birth_date, query.sex, query.birth_place, query.father_name]
    if not any(value is not None for value in identifiers):
        raise SearchTooBroad(
            "a search needs a name and at least one of birth_date, sex, birth_place, father_name",
            invalid_params=[
                InvalidParam(name="birth_date", location="body", reason="no identifier given")
            ],
        )
    birth_date = None
    if query.birth_date is not None:
        try:
            birth_date = parse_fuzzy_date(query.birth_date)
        except FuzzyDateError as err:
            raise UnprocessableContent(
                f"birth_date: {err}",
                invalid_params=[InvalidParam(name="birth_date", location="body", reason=str(err))],
            ) from err
    return PersonRecord(
        id="query",
        names=(PersonName(full=query.name),),
        sex=SEX_CODES.get(query.sex.value) if query.sex else None,
        birth_date=birth_date,
        birth_place=query.birth_place,
        father_name=query.father_name,
    )


def _score(
    matcher: Matcher,
    record: PersonRecord,
    found: list[StoredPerson],
    limit: int,
    scopes: frozenset[str],
) -> list[SearchHit]:
    prepared = matcher.prepare(record)
    scored = [(matcher.compare(prepared, matching_record(person)), person) for person in found]
    scored.sort(key=lambda pair: -pair[0].match_weight)
    return [
        SearchHit(
            person=person_public(person, scopes),
            probability=comparison.probability,
            match_weight=comparison.match_weight,
            explanation=comparison.explanation(),
        )
        for comparison, person in scored[:limit]
    ]


async def search(
    session: AsyncSession, access: Access, query: SearchQuery, flag_per_hour: int
) -> SearchResult:
    """Find, score, audit and watch; the caller commits."""
    record = query_record(query)
    society = access.principal.society_id
    probe = keys.lookup_digests(keys.secret_of(session), record)
    roles = [role.value for role in (query.roles or list(PersonRole))]
    found = await find_candidates(
        session,
        society_id=society,
        pool=Pool(society, probe),
        person_id=NOBODY,
        roles=roles,
        limit=MAX_SCORED,
    )
    people = await persons.get_persons(session, society, [c.person_id for c in found])
    scopes = access.principal.scopes
    active = [p for p in people if p.traceable and may_see_person(p, scopes)]
    matcher = await calibration.society_matcher(session, search_matcher())
    hits = await asyncio.to_thread(_score, matcher, record, active, query.limit, scopes)
    await audit.record(
        session, access, repository.SEARCH_ACTION, "person", [hit.person.id for hit in hits]
    )
    await _watch(session, access, flag_per_hour)
    return SearchResult(hits=hits, model_version=matcher.model_version)


async def _watch(session: AsyncSession, access: Access, flag_per_hour: int) -> None:
    """Flag the caller if their searches in the last hour exceed the rule (once an hour)."""
    actor = access.principal.subject
    since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    count = await repository.searches_since(session, actor, since)
    if count > flag_per_hour and not await repository.flagged_since(session, actor, since):
        await repository.add_flag(
            session,
            SearchFlag(
                society_id=access.principal.society_id,
                principal=actor,
                searches_last_hour=count,
                rule=f"more than {flag_per_hour} searches in an hour",
            ),
        )
