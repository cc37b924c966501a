"""Tracing-request use cases and their wire views."""

from __future__ import annotations

import datetime
import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.enums import PersonRole, TracingRequestStatus
from schemas.paging import Page
from schemas.persons import RequestPersonCreate
from schemas.tracing import (
    RelationshipCreate,
    RelationshipPublic,
    TracingRequestClose,
    TracingRequestCreate,
    TracingRequestPublic,
    TracingRequestSummary,
    TracingRequestUpdate,
)
from service.errors import Conflict, NotFound, PreconditionFailed, invalid_fields
from service.http import Cursor, page_cursor, require_if_match
from service.persons import repository as persons_repository
from service.persons import service as persons
from service.persons.records import PersonRecord, RelationshipRecord
from service.persons.views import may_see_person
from service.principal import Principal
from service.rights import retention_repository as retention
from service.tracing import repository
from service.tracing.records import TracingRequestRecord
from service.values import fuzzy_date_document, fuzzy_date_public, place_document, place_public


def summary(record: TracingRequestRecord, society_code: str) -> TracingRequestSummary:
    """Wire view of a request without its persons."""
    return TracingRequestSummary.model_validate(_summary_fields(record, society_code))


def _summary_fields(record: TracingRequestRecord, society_code: str) -> dict[str, object]:
    return {
        "id": record.id,
        "society_code": society_code,
        "reference_number": record.reference_number,
        "status": record.status,
        "outcome": record.outcome,
        "opened_on": record.opened_on,
        "closed_on": record.closed_on,
        "circumstances": record.circumstances,
        "separation_place": place_public(record.separation_place),
        "separation_date": fuzzy_date_public(record.separation_date),
        "review_on": record.review_on,
        "archived_at": record.archived_at,
        "version": record.version,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def relationship_public(record: RelationshipRecord) -> RelationshipPublic:
    """Wire view of a relationship."""
    return RelationshipPublic.model_validate(
        {
            "id": record.id,
            "enquirer_id": record.enquirer_id,
            "sought_person_id": record.sought_person_id,
            "relationship": record.relationship,
            "created_at": record.created_at,
        }
    )


async def _persons_of(
    session: AsyncSession, principal: Principal, record: TracingRequestRecord
) -> list[PersonRecord]:
    return await persons_repository.list_for_requests(session, principal.society_id, [record.id])


async def _relate(
    session: AsyncSession,
    principal: Principal,
    record: TracingRequestRecord,
    enquirer: PersonRecord,
    sought: PersonRecord,
    relationship: str,
) -> RelationshipRecord:
    return await persons_repository.insert_relationship(
        session,
        society_id=principal.society_id,
        tracing_request_id=record.id,
        enquirer_id=enquirer.id,
        sought_person_id=sought.id,
        relationship=relationship,
    )


async def _reference(session: AsyncSession, principal: Principal, year: int) -> str:
    while True:
        value = await repository.next_reference_value(session, principal.society_id, year)
        reference = f"{principal.society_code.upper()}-{year}-{value:06d}"
        if not await repository.reference_taken(session, principal.society_id, reference):
            return reference


async def _insert(session: AsyncSession, record: TracingRequestRecord) -> None:
    try:
        async with session.begin_nested():
            await repository.insert_request(session, record)
    except IntegrityError as err:
        raise Conflict(f"the reference number {record.reference_number} is already in use") from err


async def create(
    session: AsyncSession, principal: Principal, body: TracingRequestCreate
) -> TracingRequestPublic:
    """Open a tracing request with its enquirer, sought persons and their relationships."""
    today = datetime.date.today()
    opened_on = body.opened_on or today
    reference = body.reference_number or await _reference(session, principal, opened_on.year)
    if body.reference_number and await repository.reference_taken(
        session, principal.society_id, reference
    ):
        raise Conflict(f"the reference number {reference} is already in use")
    _check_relationships_have_enquirer(body)
    record = TracingRequestRecord(
        id=uuid.uuid4(),
        society_id=principal.society_id,
        reference_number=reference,
        status=body.status.value,
        outcome=None,
        opened_on=opened_on,
        closed_on=None,
        circumstances=body.circumstances,
        separation_place=place_document(body.separation_place),
        separation_date=fuzzy_date_document(body.separation_date, "separation_date"),
        version=1,
        created_at=datetime.datetime.now(datetime.UTC),
        updated_at=datetime.datetime.now(datetime.UTC),
    )
    policy = await retention.policy_of(session, principal.society_id)
    record.review_on = opened_on + datetime.timedelta(days=policy.open_review_days)
    await _insert(session, record)
    added: list[tuple[PersonRecord, RequestPersonCreate]] = []
    for index, person in enumerate(body.persons):
        stored = await persons.add_to_request(
            session, principal, record.id, person, f"persons.{index}."
        )
        added.append((stored, person))
    enquirer = next((p for p, wire in added if wire.role is PersonRole.ENQUIRER), None)
    relationships = []
    for stored, wire in added:
        if wire.relationship_to_enquirer is not None and enquirer is not None:
            relationships.append(
                await _relate(
                    session,
                    principal,
                    record,
                    enquirer,
                    stored,
                    wire.relationship_to_enquirer.value,
                )
            )
    return _public(record, principal, [p for p, _ in added], relationships)


async def replace_from_exchange(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, body: TracingRequestCreate
) -> None:
    """A request sent again by its sender: its circumstances and separation take the new
    values, and each person the fields of the person at the same position. Persons that differ
    in number or role, and relationships, are changed through the API, not by sending again."""
    record = await get_record(session, principal, request_id)
    people = await _persons_of(session, principal, record)  # the enquirer first, then in order
    sent = sorted(enumerate(body.persons), key=lambda item: item[1].role is not PersonRole.ENQUIRER)
    if [p.role for p in people] != [wire.role.value for _, wire in sent]:
        raise Conflict(
            "the persons sent differ in number or role from those stored: change the request "
            "through the API"
        )
    expected = record.version
    record.circumstances = body.circumstances
    record.separation_place = place_document(body.separation_place)
    record.separation_date = fuzzy_date_document(body.separation_date, "separation_date")
    await _save(session, record, expected)
    for stored, (index, wire) in zip(people, sent, strict=True):
        new = persons.new_request_person(principal, record.id, wire, f"persons.{index}.")
        await persons.replace(session, stored, new)


def _check_relationships_have_enquirer(body: TracingRequestCreate) -> None:
    has_enquirer = any(p.role is PersonRole.ENQUIRER for p in body.persons)
    for index, person in enumerate(body.persons):
        if person.relationship_to_enquirer is not None and not has_enquirer:
            raise invalid_fields(
                "a relationship to the enquirer needs an enquirer in the request",
                f"persons.{index}.relationship_to_enquirer",
            )


def _public(
    record: TracingRequestRecord,
    principal: Principal,
    people: list[PersonRecord],
    relationships: list[RelationshipRecord],
) -> TracingRequestPublic:
    shown = [p for p in people if may_see_person(p, principal.scopes)]
    ids = {p.id for p in shown}
    return TracingRequestPublic.model_validate(
        {
            **_summary_fields(record, principal.society_code),
            "persons": [persons.person_public(p, principal.scopes) for p in shown],
            "relationships": [
                relationship_public(r)
                for r in relationships
                if {r.enquirer_id, r.sought_person_id} <= ids
            ],
        }
    )


async def get_record(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID
) -> TracingRequestRecord:
    """The request, or 404 (also for another society's request)."""
    record = await repository.get_request(session, principal.society_id, request_id)
    if record is None:
        raise NotFound(f"no tracing request {request_id}")
    return record


async def get(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID
) -> TracingRequestPublic:
    """The request with its persons and relationships."""
    record = await get_record(session, principal, request_id)
    return await _full(session, principal, record)


async def _full(
    session: AsyncSession, principal: Principal, record: TracingRequestRecord
) -> TracingRequestPublic:
    people = await _persons_of(session, principal, record)
    relationships = await persons_repository.list_relationships(
        session, principal.society_id, record.id
    )
    return _public(record, principal, people, relationships)


async def list_page(
    session: AsyncSession,
    principal: Principal,
    filters: repository.RequestFilters,
    cursor: str | None,
    limit: int,
) -> Page[TracingRequestSummary]:
    """One page of the society's tracing requests."""
    rows = await repository.list_requests(
        session, principal.society_id, filters, Cursor.decode(cursor), limit
    )
    return Page[TracingRequestSummary](
        items=[summary(row, principal.society_code) for row in rows[:limit]],
        next_cursor=page_cursor(rows, limit),
    )


async def _save(session: AsyncSession, record: TracingRequestRecord, expected: int) -> None:
    try:
        async with session.begin_nested():
            saved = await repository.write_request(session, record, expected)
    except IntegrityError as err:
        raise Conflict(f"the reference number {record.reference_number} is already in use") from err
    if not saved:
        raise PreconditionFailed("the tracing request changed while this update was being made")


async def update(
    session: AsyncSession,
    principal: Principal,
    request_id: uuid.UUID,
    body: TracingRequestUpdate,
    if_match: str | None,
) -> TracingRequestPublic:
    """Change a request's fields; a closed request can only be reopened."""
    record = await get_record(session, principal, request_id)
    require_if_match(if_match, record.version)
    changes = body.model_dump(exclude_unset=True)
    if body.status is TracingRequestStatus.CLOSED:
        raise invalid_fields(
            "close a request with POST .../close, which records its outcome", "status"
        )
    for field_name in ("status", "opened_on", "reference_number"):
        if field_name in changes and changes[field_name] is None:
            raise invalid_fields(f"`{field_name}` cannot be null", field_name)
    reopening = record.status == TracingRequestStatus.CLOSED and "status" in changes
    if record.status == TracingRequestStatus.CLOSED and not reopening:
        raise Conflict("the request is closed; reopen it by setting `status` first")
    expected = record.version
    if reopening:
        record.closed_on, record.outcome = None, None
        policy = await retention.policy_of(session, principal.society_id)
        record.review_on = datetime.date.today() + datetime.timedelta(days=policy.open_review_days)
    for field_name in changes:
        value = getattr(body, field_name)
        if field_name == "separation_place":
            record.separation_place = place_document(value)
        elif field_name == "separation_date":
            record.separation_date = fuzzy_date_document(value, field_name)
        else:
            setattr(record, field_name, getattr(value, "value", value))
    await _save(session, record, expected)
    return await _full(session, principal, record)


async def close(
    session: AsyncSession,
    principal: Principal,
    request_id: uuid.UUID,
    body: TracingRequestClose,
    if_match: str | None,
) -> TracingRequestPublic:
    """Close a request with its outcome; its active persons are closed with it."""
    record = await get_record(session, principal, request_id)
    require_if_match(if_match, record.version)
    if record.status == TracingRequestStatus.CLOSED:
        raise Conflict("the request is already closed")
    expected = record.version
    record.status = TracingRequestStatus.CLOSED.value
    record.outcome = body.outcome.value
    record.closed_on = body.closed_on or datetime.date.today()
    if record.closed_on < record.opened_on:
        raise invalid_fields("`closed_on` is before the request was opened", "closed_on")
    policy = await retention.policy_of(session, principal.society_id)
    record.review_on = record.closed_on + datetime.timedelta(days=policy.closed_retention_days)
    await _save(session, record, expected)
    people = await _persons_of(session, principal, record)
    await persons.close_all(session, people, reason=f"request closed: {body.outcome.value}")
    return await _full(session, principal, record)


async def _open_record(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID
) -> TracingRequestRecord:
    record = await get_record(session, principal, request_id)
    if record.status == TracingRequestStatus.CLOSED:
        raise Conflict("the request is closed; reopen it before changing its persons")
    return record


async def _touch(session: AsyncSession, record: TracingRequestRecord) -> None:
    await _save(session, record, record.version)


async def add_person(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, body: RequestPersonCreate
) -> PersonRecord:
    """Add an enquirer or sought person (with its relationship to the enquirer, if given)."""
    record = await _open_record(session, principal, request_id)
    enquirer = None
    if body.relationship_to_enquirer is not None:
        people = await _persons_of(session, principal, record)
        enquirer = next((p for p in people if p.role == PersonRole.ENQUIRER), None)
        if enquirer is None:
            raise invalid_fields(
                "a relationship to the enquirer needs an enquirer in the request",
                "relationship_to_enquirer",
            )
    stored = await persons.add_to_request(session, principal, record.id, body)
    if enquirer is not None and body.relationship_to_enquirer is not None:
        await _relate(
            session, principal, record, enquirer, stored, body.relationship_to_enquirer.value
        )
    await _touch(session, record)
    return stored


async def list_persons(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID
) -> list[PersonRecord]:
    """The persons of a request the principal may see."""
    record = await get_record(session, principal, request_id)
    people = await _persons_of(session, principal, record)
    return [p for p in people if may_see_person(p, principal.scopes)]


async def add_relationship(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, body: RelationshipCreate
) -> RelationshipRecord:
    """Record what a sought person of the request is to its enquirer."""
    record = await _open_record(session, principal, request_id)
    people = {p.id: p for p in await _persons_of(session, principal, record)}
    enquirer, sought = people.get(body.enquirer_id), people.get(body.sought_person_id)
    if enquirer is None or enquirer.role != PersonRole.ENQUIRER:
        raise invalid_fields("`enquirer_id` is not the enquirer of this request", "enquirer_id")
    if sought is None or sought.role != PersonRole.SOUGHT_PERSON:
        raise invalid_fields(
            "`sought_person_id` is not a sought person of this request", "sought_person_id"
        )
    if await persons_repository.find_relationship(session, enquirer.id, sought.id):
        raise Conflict("this relationship is already recorded")
    relationship = await _relate(
        session, principal, record, enquirer, sought, body.relationship.value
    )
    await _touch(session, record)
    return relationship


async def remove_relationship(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, relationship_id: uuid.UUID
) -> None:
    """Remove a relationship from a request."""
    record = await _open_record(session, principal, request_id)
    if not await persons_repository.delete_relationship(
        session, principal.society_id, record.id, relationship_id
    ):
        raise NotFound(f"tracing request {request_id} has no relationship {relationship_id}")
    await _touch(session, record)
