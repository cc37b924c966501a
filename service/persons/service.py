"""Person use cases: registrations, persons in requests, names; and their wire views."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from matching import Script, token_script
from schemas.enums import LegalBasis, PersonRole, PersonStatus
from schemas.persons import (
    Contact,
    NameCreate,
    NameParts,
    NamePublic,
    PersonClose,
    PersonFields,
    PersonPublic,
    PersonUpdate,
    RegistrationCreate,
    RequestPersonCreate,
)
from service.candidates import service as candidates
from service.errors import (
    Conflict,
    NotFound,
    PreconditionFailed,
    invalid_fields,
)
from service.http import etag, require_if_match
from service.persons import repository
from service.persons.records import NameRecord, NewPerson, PersonalFields, PersonRecord
from service.persons.views import may_see_person, withheld_fields
from service.principal import Principal
from service.values import fuzzy_date_document, fuzzy_date_public, place_document, place_public


def detect_script(text: str) -> str | None:
    """ISO 15924 code of the script most letters of `text` are written in (the engine's view)."""
    script = token_script(text)
    return None if script is Script.OTHER else script.value


def _name_record(name: NameCreate) -> NameRecord:
    parts = name.parts or NameParts()
    written = " ".join(
        value
        for value in (
            name.full_name,
            parts.given,
            parts.father,
            parts.grandfather,
            parts.family,
            parts.other,
        )
        if value
    )
    return NameRecord(
        kind=name.kind.value,
        full_name=name.full_name,
        script=name.script or detect_script(written),
        given=parts.given,
        family=parts.family,
        father=parts.father,
        grandfather=parts.grandfather,
        other=parts.other,
    )


def contact_document(contact: Contact | None) -> dict[str, Any] | None:
    """A contact as stored: only the parts given (none given is no contact)."""
    parts = contact.model_dump(exclude_none=True) if contact is not None else {}
    return parts or None


def legal_basis_of(fields: PersonFields, role: PersonRole) -> str:
    """The legal basis given, or the usual one for the role: an enquirer asks to be
    processed (consent); a sought person or a registration is processed to restore family
    links, usually without their consent yet (vital interest)."""
    if fields.legal_basis is not None:
        return fields.legal_basis.value
    usual = LegalBasis.CONSENT if role is PersonRole.ENQUIRER else LegalBasis.VITAL_INTEREST
    return usual.value


def _personal(fields: PersonFields, path: str) -> PersonalFields:
    return PersonalFields(
        sex=fields.sex.value,
        birth_date=fuzzy_date_document(fields.birth_date, f"{path}birth_date"),
        birth_place=place_document(fields.birth_place),
        nationalities=list(fields.nationalities),
        languages=list(fields.languages),
        father_name=fields.father_name,
        mother_name=fields.mother_name,
        tribe_clan=fields.tribe_clan,
        last_known_place=place_document(fields.last_known_place),
        last_known_date=fuzzy_date_document(fields.last_known_date, f"{path}last_known_date"),
        notes=fields.notes,
        current_place=place_document(fields.current_place),
        contact=contact_document(fields.contact),
        sensitive=fields.sensitive,
    )


def name_public(name: NameRecord) -> NamePublic:
    """Wire view of a stored name."""
    assert name.id is not None and name.created_at is not None
    return NamePublic(
        id=name.id,
        kind=name.kind,
        full_name=name.full_name,
        script=name.script,
        parts=NameParts(
            given=name.given,
            family=name.family,
            father=name.father,
            grandfather=name.grandfather,
            other=name.other,
        ),
        created_at=name.created_at,
    )


def person_public(record: PersonRecord, scopes: Iterable[str]) -> PersonPublic:
    """Wire view of a stored person, without the fields a holder of `scopes` may not see."""
    personal = record.personal
    return PersonPublic.model_validate(
        {
            "id": record.id,
            "tracing_request_id": record.tracing_request_id,
            "role": record.role,
            "status": record.status,
            "registration_kind": record.registration_kind,
            "registration_source": record.registration_source,
            "registration_date": record.registration_date,
            "names": [name_public(name) for name in record.names],
            "sex": personal.sex,
            "birth_date": fuzzy_date_public(personal.birth_date),
            "birth_place": place_public(personal.birth_place),
            "nationalities": personal.nationalities,
            "languages": personal.languages,
            "father_name": personal.father_name,
            "mother_name": personal.mother_name,
            "tribe_clan": personal.tribe_clan,
            "last_known_place": place_public(personal.last_known_place),
            "last_known_date": fuzzy_date_public(personal.last_known_date),
            "notes": personal.notes,
            "current_place": place_public(personal.current_place),
            "contact": personal.contact,
            "legal_basis": record.legal_basis,
            "sensitive": personal.sensitive,
            "tracing_stopped": record.tracing_stopped,
            "tracing_stopped_at": record.tracing_stopped_at,
            "closed_at": record.closed_at,
            "close_reason": record.close_reason,
            "version": record.version,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
        }
    ).withholding(withheld_fields(scopes))


def new_registration(principal: Principal, body: RegistrationCreate) -> NewPerson:
    """Validate and normalise a registration (422 problems raised here, before any write)."""
    return NewPerson(
        society_id=principal.society_id,
        tracing_request_id=None,
        role=PersonRole.REGISTRATION.value,
        personal=_personal(body, ""),
        names=[_name_record(name) for name in body.names],
        registration_kind=body.registration_kind.value,
        registration_source=body.registration_source,
        registration_date=body.registration_date,
        legal_basis=legal_basis_of(body, PersonRole.REGISTRATION),
    )


async def store_registrations(
    session: AsyncSession, registrations: Sequence[NewPerson]
) -> list[PersonRecord]:
    """Store registrations with their blocking keys and match jobs, a batch at a time."""
    records = await repository.insert_persons(session, registrations)
    await candidates.index_persons(session, records, new=True)
    return records


async def create_registration(
    session: AsyncSession, principal: Principal, body: RegistrationCreate
) -> PersonRecord:
    """Record a person registered as safe and well, found, detained, hospitalised or dead."""
    return (await store_registrations(session, [new_registration(principal, body)]))[0]


async def replace_registration(
    session: AsyncSession, principal: Principal, person_id: uuid.UUID, body: RegistrationCreate
) -> PersonRecord:
    """Replace a registration by a version its sender sent again (a partner re-sending a
    record it keys by its own id)."""
    record = await get(session, principal, person_id)
    if record.role != PersonRole.REGISTRATION:
        raise Conflict("the sender's id belongs to a person of a tracing request")
    return await replace(session, record, new_registration(principal, body))


async def replace(session: AsyncSession, record: PersonRecord, new: NewPerson) -> PersonRecord:
    """Replace a person's fields and names by `new`. A sensitive flag stays raised, the legal
    basis stays as recorded, and the blocking keys and match job follow the new fields."""
    expected = record.version
    record.personal = dataclasses.replace(
        new.personal, sensitive=new.personal.sensitive or record.personal.sensitive
    )
    record.registration_kind = new.registration_kind
    record.registration_source = new.registration_source
    record.registration_date = new.registration_date
    await _save(session, record, expected)
    for name in record.names:
        assert name.id is not None
        await repository.delete_name(session, record, name.id)
    record.names = [await repository.insert_name(session, record, name) for name in new.names]
    await candidates.index_person(session, record)
    return record


def new_request_person(
    principal: Principal, tracing_request_id: uuid.UUID, body: RequestPersonCreate, path: str = ""
) -> NewPerson:
    """Validate and normalise an enquirer or sought person of a request."""
    return NewPerson(
        society_id=principal.society_id,
        tracing_request_id=tracing_request_id,
        role=body.role.value,
        personal=_personal(body, path),
        names=[_name_record(name) for name in body.names],
        legal_basis=legal_basis_of(body, body.role),
    )


async def add_to_request(
    session: AsyncSession,
    principal: Principal,
    tracing_request_id: uuid.UUID,
    body: RequestPersonCreate,
    path: str = "",
) -> PersonRecord:
    """Add an enquirer or sought person to a tracing request (one enquirer per request)."""
    new_person = new_request_person(principal, tracing_request_id, body, path)
    try:
        async with session.begin_nested():
            record = await repository.insert_person(session, new_person)
    except IntegrityError as err:
        raise Conflict("this tracing request already has an enquirer") from err
    await candidates.index_person(session, record)
    return record


async def get(session: AsyncSession, principal: Principal, person_id: uuid.UUID) -> PersonRecord:
    """The person, or 404 (also for another society's person, and for a deceased registration
    to a principal who may not learn of a death)."""
    record = await repository.get_person(session, principal.society_id, person_id)
    if record is None or not may_see_person(record, principal.scopes):
        raise NotFound(f"no person {person_id}")
    return record


async def _save(session: AsyncSession, record: PersonRecord, expected_version: int) -> None:
    if not await repository.write_person(session, record, expected_version):
        raise PreconditionFailed("the person changed while this update was being made")


def _apply_update(record: PersonRecord, body: PersonUpdate) -> None:
    changes = body.model_dump(exclude_unset=True)
    registration_fields = {"registration_kind", "registration_source", "registration_date"}
    misplaced = changes.keys() & registration_fields
    if misplaced and record.role != PersonRole.REGISTRATION:
        raise invalid_fields("registration fields are only for registrations", *sorted(misplaced))
    if "registration_kind" in changes and body.registration_kind is None:
        raise invalid_fields("a registration needs `registration_kind`", "registration_kind")
    if "legal_basis" in changes:
        if body.legal_basis is None:
            raise invalid_fields("every person needs a legal basis", "legal_basis")
        record.legal_basis = body.legal_basis.value
    personal_changes: dict[str, Any] = {}
    for field_name in changes:
        value = getattr(body, field_name)
        if field_name == "legal_basis":
            continue
        if field_name in registration_fields:
            setattr(record, field_name, getattr(value, "value", value))
        elif field_name in {"birth_date", "last_known_date"}:
            personal_changes[field_name] = fuzzy_date_document(value, field_name)
        elif field_name in {"birth_place", "last_known_place", "current_place"}:
            personal_changes[field_name] = place_document(value)
        elif field_name == "contact":
            personal_changes[field_name] = contact_document(value)
        elif field_name == "sex":
            personal_changes[field_name] = value.value if value is not None else "unknown"
        elif field_name == "sensitive":
            if record.personal.sensitive and not value:
                raise Conflict(
                    "lifting the sensitive flag needs the approvals of two different "
                    f"supervisors: POST /v1/persons/{record.id}/sensitivity-lift"
                )
            personal_changes[field_name] = bool(value)
        elif field_name in {"nationalities", "languages"}:
            personal_changes[field_name] = list(value or [])
        else:
            personal_changes[field_name] = value
    record.personal = dataclasses.replace(record.personal, **personal_changes)


async def update(
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    body: PersonUpdate,
    if_match: str | None,
) -> PersonRecord:
    """Change personal fields; the caller must hold the current version (If-Match)."""
    record = await get(session, principal, person_id)
    require_if_match(if_match, record.version)
    expected = record.version
    _apply_update(record, body)
    await _save(session, record, expected)
    await candidates.index_person(session, record)
    return record


async def close(
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    body: PersonClose,
    if_match: str | None,
) -> PersonRecord:
    """Close a person record (it stays readable; closing twice is a conflict)."""
    record = await get(session, principal, person_id)
    require_if_match(if_match, record.version)
    if record.status == PersonStatus.CLOSED:
        raise Conflict("the person is already closed")
    await _mark_closed(session, record, body.reason)
    return record


async def close_all(session: AsyncSession, persons: list[PersonRecord], reason: str) -> None:
    """Close the still-active persons of a request being closed."""
    for record in persons:
        if record.status != PersonStatus.CLOSED:
            await _mark_closed(session, record, reason)


async def _mark_closed(session: AsyncSession, record: PersonRecord, reason: str | None) -> None:
    expected = record.version
    record.status = PersonStatus.CLOSED.value
    record.closed_at = datetime.datetime.now(datetime.UTC)
    record.close_reason = reason
    await _save(session, record, expected)
    await candidates.index_person(session, record)


async def add_name(
    session: AsyncSession, principal: Principal, person_id: uuid.UUID, body: NameCreate
) -> tuple[PersonRecord, NameRecord]:
    """Add a name to a person (advances the person's version)."""
    record = await get(session, principal, person_id)
    name = await repository.insert_name(session, record, _name_record(body))
    if not await repository.touch_person(session, record, record.version):
        raise PreconditionFailed("the person changed while the name was being added")
    record.names.append(name)
    await candidates.index_person(session, record)
    return record, name


async def remove_name(
    session: AsyncSession, principal: Principal, person_id: uuid.UUID, name_id: uuid.UUID
) -> PersonRecord:
    """Remove one of a person's names (advances the person's version)."""
    record = await get(session, principal, person_id)
    if not await repository.delete_name(session, record, name_id):
        raise NotFound(f"person {person_id} has no name {name_id}")
    if not await repository.touch_person(session, record, record.version):
        raise PreconditionFailed("the person changed while the name was being removed")
    record.names = [name for name in record.names if name.id != name_id]
    await candidates.index_person(session, record)
    return record


def person_etag(record: PersonRecord) -> str:
    """ETag of the person's current version."""
    return etag(record.version)


LIFT_SENSITIVE = "lift_sensitive"
APPROVALS_TO_LIFT = 2


async def approve_lifting_sensitive(
    session: AsyncSession, principal: Principal, person_id: uuid.UUID
) -> tuple[PersonRecord, list[str]]:
    """A supervisor's approval of lifting the sensitive flag; the second different supervisor's
    lifts it (and the person is matched again with one reviewer's confirmation enough)."""
    record = await get(session, principal, person_id)
    if not record.personal.sensitive:
        raise Conflict("the person is not flagged sensitive")
    if not await repository.add_approval(session, record, LIFT_SENSITIVE, principal.subject):
        raise Conflict("you have approved already; a different supervisor must approve too")
    approvals = await repository.pending_approvals(session, record.id, LIFT_SENSITIVE)
    if len(set(approvals)) >= APPROVALS_TO_LIFT:
        expected = record.version
        record.personal = dataclasses.replace(record.personal, sensitive=False)
        await _save(session, record, expected)
        await repository.consume_approvals(session, record.id, LIFT_SENSITIVE)
        await candidates.index_person(session, record)
    return record, approvals
