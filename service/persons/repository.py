"""Queries on persons, names and relationships, and the codec of personal fields.

`_personal_columns` / `_personal_from_row` and `_name_columns` / `_name_from_row` are the only
places that know how personal data is stored: names, parents' names, tribe or clan, notes,
contact details and the last known and current places are encrypted under the person's data
key (`service/persons/crypto.py`); what matching and lists filter on stays plain.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import TextClause, delete, func, text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from service.db.models import DataKey, Person, PersonName, PersonRelationship, ProtectionApproval
from service.db.paging import keyset_page
from service.http import Cursor
from service.persons import crypto
from service.persons.crypto import FieldCipher
from service.persons.records import (
    NameRecord,
    NewPerson,
    PersonalFields,
    PersonRecord,
    RelationshipRecord,
)

ENCRYPTED_TEXT = ("father_name", "mother_name", "tribe_clan", "notes")
ENCRYPTED_DOCUMENTS = ("last_known_place", "current_place", "contact")
NAME_PARTS = {
    "full_name": "full_name",
    "given_name": "given",
    "family_name": "family",
    "father_name": "father",
    "grandfather_name": "grandfather",
    "other_name": "other",
}


def _personal_columns(personal: PersonalFields, cipher: FieldCipher) -> dict[str, Any]:
    return {
        "sex": personal.sex,
        "birth_date": personal.birth_date,
        "birth_place": personal.birth_place,
        "nationalities": list(personal.nationalities),
        "languages": list(personal.languages),
        "last_known_date": personal.last_known_date,
        "sensitive": personal.sensitive,
        **{f: cipher.seal(f, getattr(personal, f)) for f in ENCRYPTED_TEXT},
        **{f: cipher.seal_document(f, getattr(personal, f)) for f in ENCRYPTED_DOCUMENTS},
    }


def _personal_from_row(row: Person, cipher: FieldCipher) -> PersonalFields:
    opened: dict[str, Any] = {f: cipher.open(f, getattr(row, f)) for f in ENCRYPTED_TEXT}
    opened |= {f: cipher.open_document(f, getattr(row, f)) for f in ENCRYPTED_DOCUMENTS}
    return PersonalFields(
        sex=row.sex,
        birth_date=row.birth_date,
        birth_place=row.birth_place,
        nationalities=list(row.nationalities),
        languages=list(row.languages),
        last_known_date=row.last_known_date,
        sensitive=row.sensitive,
        **opened,
    )


def _name_columns(name: NameRecord, cipher: FieldCipher) -> dict[str, Any]:
    return {
        "kind": name.kind,
        "script": name.script,
        **{
            column: cipher.seal(f"name.{column}", getattr(name, part))
            for column, part in NAME_PARTS.items()
        },
    }


def _name_from_row(row: PersonName, cipher: FieldCipher) -> NameRecord:
    return NameRecord(
        id=row.id,
        kind=row.kind,
        script=row.script,
        created_at=row.created_at,
        **{
            part: cipher.open(f"name.{column}", getattr(row, column))
            for column, part in NAME_PARTS.items()
        },
    )


async def ciphers(
    session: AsyncSession, owner_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, FieldCipher]:
    """The field ciphers of persons (or requests), their data keys unwrapped once per session.
    An owner without a data key (erased, or stored before encryption) gets a cipher that only
    reads plaintext."""
    wanted = [
        owner for owner in dict.fromkeys(owner_ids) if crypto.remembered(session, owner) is None
    ]
    if wanted:
        rows = await session.exec(
            select(DataKey.owner_id, DataKey.society_id, DataKey.wrapped).where(
                col(DataKey.owner_id).in_(wanted)
            )
        )
        for owner, society, wrapped in rows:
            _unwrap_data_key(session, owner, society, wrapped)
    return {owner: FieldCipher(owner, crypto.remembered(session, owner)) for owner in owner_ids}


def _unwrap_data_key(
    session: AsyncSession, owner: uuid.UUID, society: uuid.UUID, wrapped: bytes
) -> None:
    """Unwrap an owner's data key for the session, if it may use its society's wrapping key."""
    wrapping = crypto.wrapping_key_for(session, society)
    if wrapping is not None:
        crypto.remember(session, owner, crypto.unwrap(wrapping, owner, wrapped))


async def new_ciphers(
    session: AsyncSession, owners: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> dict[uuid.UUID, FieldCipher]:
    """Data keys for new owners ((owner id, society id)), stored wrapped in one statement."""
    if not owners:
        return {}
    wrapping = crypto.wrapping_key_of(session)
    keys = {owner: crypto.new_data_key() for owner, _ in owners}
    await session.exec(  # type: ignore[call-overload]
        text(
            "INSERT INTO data_key (owner_id, society_id, wrapped) SELECT * FROM unnest("
            "CAST(:owners AS uuid[]), CAST(:societies AS uuid[]), CAST(:wrapped AS bytea[]))"
        ).bindparams(
            owners=[owner for owner, _ in owners],
            societies=[society for _, society in owners],
            wrapped=[crypto.wrap(wrapping, owner, keys[owner]) for owner, _ in owners],
        )
    )
    for owner, key in keys.items():
        crypto.remember(session, owner, key)
    return {owner: FieldCipher(owner, key) for owner, key in keys.items()}


async def shred(session: AsyncSession, owner_id: uuid.UUID) -> None:
    """Delete an owner's data key: whatever was encrypted under it is unreadable from now on."""
    await session.exec(  # type: ignore[call-overload]
        text("DELETE FROM data_key WHERE owner_id = :o").bindparams(o=owner_id)
    )
    session.info.get(crypto.SESSION_KEY_CACHE, {}).pop(owner_id, None)


def _record(row: Person, names: list[NameRecord], cipher: FieldCipher) -> PersonRecord:
    return PersonRecord(
        id=row.id,
        society_id=row.society_id,
        tracing_request_id=row.tracing_request_id,
        role=row.role,
        status=row.status,
        registration_kind=row.registration_kind,
        registration_source=row.registration_source,
        registration_date=row.registration_date,
        personal=_personal_from_row(row, cipher),
        names=names,
        closed_at=row.closed_at,
        close_reason=row.close_reason,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        legal_basis=row.legal_basis,
        tracing_stopped=row.tracing_stopped,
        tracing_stopped_at=row.tracing_stopped_at,
    )


async def _names_of(
    session: AsyncSession,
    person_ids: Sequence[uuid.UUID],
    by_person: dict[uuid.UUID, FieldCipher],
) -> dict[uuid.UUID, list[NameRecord]]:
    if not person_ids:
        return {}
    rows = await session.exec(
        select(PersonName)
        .where(col(PersonName.person_id).in_(person_ids))
        .order_by(col(PersonName.person_id), col(PersonName.position))
    )
    grouped: dict[uuid.UUID, list[NameRecord]] = defaultdict(list)
    for row in rows:
        grouped[row.person_id].append(_name_from_row(row, by_person[row.person_id]))
    return grouped


async def _records(session: AsyncSession, rows: Sequence[Person]) -> list[PersonRecord]:
    by_person = await ciphers(session, [row.id for row in rows])
    names = await _names_of(session, [row.id for row in rows], by_person)
    return [_record(row, names.get(row.id, []), by_person[row.id]) for row in rows]


def _persons() -> Select[Person, uuid.UUID, bytes]:
    """Persons with their wrapped data keys (an outer join: an erased person has none), so that
    reading persons costs two round trips (persons, names), not three; matching reads fifty
    candidates for each new record."""
    return select(Person, col(DataKey.society_id), col(DataKey.wrapped)).outerjoin(
        DataKey, col(DataKey.owner_id) == col(Person.id)
    )


async def _read(
    session: AsyncSession, statement: Select[Person, uuid.UUID, bytes]
) -> list[PersonRecord]:
    """The records of the persons a `_persons()` statement selects."""
    rows = []
    for row, society, wrapped in await session.exec(statement):
        if wrapped is not None and crypto.remembered(session, row.id) is None:
            _unwrap_data_key(session, row.id, society, wrapped)
        rows.append(row)
    return await _records(session, rows)


def _rows_document(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as one JSON document for `jsonb_populate_recordset`: a batch of any size is one
    parameter and one statement (PostgreSQL casts each value to its column's type)."""
    return json.dumps(rows, default=str, ensure_ascii=False)


def _insert_from_document(table: str, columns: Sequence[str], returning: str) -> TextClause:
    listed = ", ".join(columns)
    return text(
        f"INSERT INTO {table} ({listed}) SELECT {listed} "
        f"FROM jsonb_populate_recordset(NULL::{table}, CAST(:rows AS jsonb)) "
        f"RETURNING {returning}"
    )


async def insert_persons(
    session: AsyncSession, new_persons: Sequence[NewPerson]
) -> list[PersonRecord]:
    """Store new persons with their names: two statements for any number of persons.

    Bulk import stores its batches through here, the API its single persons: one code path,
    and an import batch costs two round trips instead of several per person.
    """
    if not new_persons:
        return []
    by_person = await new_ciphers(session, [(new.id, new.society_id) for new in new_persons])
    person_rows = [
        {
            "id": new.id,
            "society_id": new.society_id,
            "tracing_request_id": new.tracing_request_id,
            "role": new.role,
            "registration_kind": new.registration_kind,
            "registration_source": new.registration_source,
            "registration_date": new.registration_date,
            "legal_basis": new.legal_basis,
            **_personal_columns(new.personal, by_person[new.id]),
        }
        for new in new_persons
    ]
    stored = await session.exec(  # type: ignore[call-overload]
        _insert_from_document(
            "person",
            list(person_rows[0]),
            "id, status, version, created_at, updated_at, closed_at, close_reason",
        ).bindparams(rows=_rows_document(person_rows))
    )
    written = {row.id: row for row in stored}
    name_rows = [
        {
            "society_id": new.society_id,
            "person_id": new.id,
            "position": position,
            **_name_columns(name, by_person[new.id]),
        }
        for new in new_persons
        for position, name in enumerate(new.names)
    ]
    written_names: dict[tuple[uuid.UUID, int], Any] = {}
    if name_rows:
        stored_names = await session.exec(  # type: ignore[call-overload]
            _insert_from_document(
                "person_name", list(name_rows[0]), "id, person_id, position, created_at"
            ).bindparams(rows=_rows_document(name_rows))
        )
        written_names = {(row.person_id, row.position): row for row in stored_names}
    return [_new_record(new, written[new.id], written_names) for new in new_persons]


def _new_record(
    new: NewPerson, written: Any, written_names: dict[tuple[uuid.UUID, int], Any]
) -> PersonRecord:
    """The stored view of a person just inserted: what was written, plus what the database
    set (ids, timestamps, version, status) as `RETURNING` gave it back."""
    names = [
        dataclasses.replace(
            name,
            id=written_names[(new.id, position)].id,
            created_at=written_names[(new.id, position)].created_at,
        )
        for position, name in enumerate(new.names)
    ]
    return PersonRecord(
        id=new.id,
        society_id=new.society_id,
        tracing_request_id=new.tracing_request_id,
        role=new.role,
        status=written.status,
        registration_kind=new.registration_kind,
        registration_source=new.registration_source,
        registration_date=new.registration_date,
        personal=dataclasses.replace(new.personal),
        names=names,
        closed_at=written.closed_at,
        close_reason=written.close_reason,
        version=written.version,
        created_at=written.created_at,
        updated_at=written.updated_at,
        legal_basis=new.legal_basis,
    )


async def insert_person(session: AsyncSession, new_person: NewPerson) -> PersonRecord:
    """Store one new person with its names."""
    return (await insert_persons(session, [new_person]))[0]


async def get_person(
    session: AsyncSession, society_id: uuid.UUID, person_id: uuid.UUID
) -> PersonRecord | None:
    """The person with its names, if it belongs to the society."""
    found = await _read(
        session, _persons().where(Person.id == person_id, Person.society_id == society_id)
    )
    return found[0] if found else None


async def get_persons(
    session: AsyncSession, society_id: uuid.UUID, person_ids: Sequence[uuid.UUID]
) -> list[PersonRecord]:
    """The persons with these ids that belong to the society (any order)."""
    if not person_ids:
        return []
    return await _read(
        session,
        _persons().where(Person.society_id == society_id, col(Person.id).in_(person_ids)),
    )


async def list_for_requests(
    session: AsyncSession, society_id: uuid.UUID, request_ids: Sequence[uuid.UUID]
) -> list[PersonRecord]:
    """Persons of the given tracing requests, enquirer first, then in order of recording."""
    return await _read(
        session,
        _persons()
        .where(Person.society_id == society_id, col(Person.tracing_request_id).in_(request_ids))
        .order_by(col(Person.role) != "enquirer", col(Person.created_at), col(Person.id)),
    )


async def list_registrations(
    session: AsyncSession,
    society_id: uuid.UUID,
    *,
    kind: str | None,
    status: str | None,
    after: Cursor | None,
    limit: int,
    include_deceased: bool = True,
    include_sensitive: bool = True,
) -> list[PersonRecord]:
    """A page of registrations (plus one row to tell whether more follow)."""
    statement = _persons().where(Person.society_id == society_id, Person.role == "registration")
    if not include_deceased:
        statement = statement.where(Person.registration_kind != "deceased")
    if not include_sensitive:
        statement = statement.where(col(Person.sensitive).is_(False))
    if kind is not None:
        statement = statement.where(Person.registration_kind == kind)
    if status is not None:
        statement = statement.where(Person.status == status)
    statement = keyset_page(statement, col(Person.created_at), col(Person.id), after, limit)
    return await _read(session, statement)


async def has_registrations(session: AsyncSession, society_id: uuid.UUID) -> bool:
    """Whether the society has recorded any registration."""
    found = await session.exec(
        select(Person.id).where(Person.society_id == society_id, Person.role == "registration")
    )
    return found.first() is not None


async def write_person(
    session: AsyncSession,
    record: PersonRecord,
    expected_version: int,
) -> bool:
    """Save a changed person if it is still at `expected_version`; False when it is not."""
    cipher = (await ciphers(session, [record.id]))[record.id]
    values = {
        **_personal_columns(record.personal, cipher),
        "status": record.status,
        "registration_kind": record.registration_kind,
        "registration_source": record.registration_source,
        "registration_date": record.registration_date,
        "closed_at": record.closed_at,
        "close_reason": record.close_reason,
        "legal_basis": record.legal_basis,
        "tracing_stopped": record.tracing_stopped,
        "tracing_stopped_at": record.tracing_stopped_at,
    }
    return await _versioned_update(session, record, expected_version, values)


async def touch_person(session: AsyncSession, record: PersonRecord, expected_version: int) -> bool:
    """Advance a person's version (its names changed) if it is still at `expected_version`."""
    return await _versioned_update(session, record, expected_version, {})


async def _versioned_update(
    session: AsyncSession, record: PersonRecord, expected_version: int, values: dict[str, Any]
) -> bool:
    statement = (
        update(Person)
        .where(
            col(Person.id) == record.id,
            col(Person.society_id) == record.society_id,
            col(Person.version) == expected_version,
        )
        .values(**values, version=Person.version + 1, updated_at=func.now())
        .returning(col(Person.version), col(Person.updated_at))
    )
    result = (await session.exec(statement)).first()
    if result is None:
        return False
    record.version, record.updated_at = result
    return True


async def insert_name(session: AsyncSession, record: PersonRecord, name: NameRecord) -> NameRecord:
    """Append a name to a person."""
    position = (
        await session.exec(
            select(func.coalesce(func.max(PersonName.position), -1) + 1).where(
                PersonName.person_id == record.id
            )
        )
    ).one()
    cipher = (await ciphers(session, [record.id]))[record.id]
    row = PersonName(
        society_id=record.society_id,
        person_id=record.id,
        position=position,
        **_name_columns(name, cipher),
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return _name_from_row(row, cipher)


async def delete_name(session: AsyncSession, record: PersonRecord, name_id: uuid.UUID) -> bool:
    """Remove one of the person's names; False when the person has no such name."""
    result = await session.exec(
        delete(PersonName)
        .where(
            col(PersonName.id) == name_id,
            col(PersonName.person_id) == record.id,
            col(PersonName.society_id) == record.society_id,
        )
        .returning(col(PersonName.id))
    )
    return result.first() is not None


def _relationship(row: PersonRelationship) -> RelationshipRecord:
    return RelationshipRecord(
        id=row.id,
        tracing_request_id=row.tracing_request_id,
        enquirer_id=row.enquirer_id,
        sought_person_id=row.sought_person_id,
        relationship=row.relationship,
        created_at=row.created_at,
    )


async def insert_relationship(
    session: AsyncSession,
    *,
    society_id: uuid.UUID,
    tracing_request_id: uuid.UUID,
    enquirer_id: uuid.UUID,
    sought_person_id: uuid.UUID,
    relationship: str,
) -> RelationshipRecord:
    """Record what the sought person is to the enquirer."""
    row = PersonRelationship(
        society_id=society_id,
        tracing_request_id=tracing_request_id,
        enquirer_id=enquirer_id,
        sought_person_id=sought_person_id,
        relationship=relationship,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return _relationship(row)


async def find_relationship(
    session: AsyncSession, enquirer_id: uuid.UUID, sought_person_id: uuid.UUID
) -> RelationshipRecord | None:
    """The relationship between these two persons, if recorded."""
    row = (
        await session.exec(
            select(PersonRelationship).where(
                PersonRelationship.enquirer_id == enquirer_id,
                PersonRelationship.sought_person_id == sought_person_id,
            )
        )
    ).first()
    return None if row is None else _relationship(row)


async def list_relationships(
    session: AsyncSession, society_id: uuid.UUID, tracing_request_id: uuid.UUID
) -> list[RelationshipRecord]:
    """Relationships recorded in one tracing request."""
    rows = await session.exec(
        select(PersonRelationship)
        .where(
            PersonRelationship.society_id == society_id,
            PersonRelationship.tracing_request_id == tracing_request_id,
        )
        .order_by(col(PersonRelationship.created_at), col(PersonRelationship.id))
    )
    return [_relationship(row) for row in rows]


async def delete_relationship(
    session: AsyncSession,
    society_id: uuid.UUID,
    tracing_request_id: uuid.UUID,
    relationship_id: uuid.UUID,
) -> bool:
    """Remove a relationship; False when the request has no such relationship."""
    result = await session.exec(
        delete(PersonRelationship)
        .where(
            col(PersonRelationship.id) == relationship_id,
            col(PersonRelationship.society_id) == society_id,
            col(PersonRelationship.tracing_request_id) == tracing_request_id,
        )
        .returning(col(PersonRelationship.id))
    )
    return result.first() is not None


async def active_person_ids(
    session: AsyncSession, after: uuid.UUID | None, limit: int
) -> list[uuid.UUID]:
    """Ids of the session's society's active persons, in id order after `after`."""
    statement = select(Person.id).where(Person.status == "active")
    if after is not None:
        statement = statement.where(col(Person.id) > after)
    statement = statement.order_by(col(Person.id)).limit(limit)
    return list((await session.exec(statement)).all())


async def add_approval(
    session: AsyncSession, record: PersonRecord, action: str, approved_by: str
) -> bool:
    """Record a supervisor's approval; False if they have one pending for it already."""
    result = await session.exec(  # type: ignore[call-overload]
        text(
            """
            INSERT INTO protection_approval (society_id, person_id, action, approved_by)
            VALUES (:society, :person, :action, :by)
            ON CONFLICT (person_id, action, approved_by) WHERE consumed_at IS NULL DO NOTHING
            RETURNING id
            """
        ).bindparams(society=record.society_id, person=record.id, action=action, by=approved_by)
    )
    return result.first() is not None


async def pending_approvals(session: AsyncSession, person_id: uuid.UUID, action: str) -> list[str]:
    """Who approved the action on the person and is still waiting, oldest first."""
    rows = await session.exec(
        select(ProtectionApproval.approved_by)
        .where(
            ProtectionApproval.person_id == person_id,
            ProtectionApproval.action == action,
            col(ProtectionApproval.consumed_at).is_(None),
        )
        .order_by(col(ProtectionApproval.approved_at))
    )
    return list(rows.all())


async def consume_approvals(session: AsyncSession, person_id: uuid.UUID, action: str) -> None:
    """Mark the pending approvals of an action as used (the action took effect)."""
    await session.exec(
        update(ProtectionApproval)
        .where(
            col(ProtectionApproval.person_id) == person_id,
            col(ProtectionApproval.action) == action,
            col(ProtectionApproval.consumed_at).is_(None),
        )
        .values(consumed_at=func.now())
    )
