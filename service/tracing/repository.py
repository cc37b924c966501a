"""Queries on tracing requests and their reference numbers.

`_sensitive_columns` / `_record` are the only places that know how the request's free text
and places are stored: encrypted under the request's own data key (as a person's fields are).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import ReferenceCounter, TracingRequest
from service.db.paging import keyset_page
from service.http import Cursor
from service.persons.crypto import FieldCipher
from service.persons.repository import ciphers, new_ciphers
from service.tracing.records import TracingRequestRecord


@dataclass(frozen=True, slots=True)
class RequestFilters:
    """Filters of the tracing-request listing."""

    status: str | None = None
    outcome: str | None = None
    reference_number: str | None = None
    opened_from: datetime.date | None = None
    opened_to: datetime.date | None = None


def _sensitive_columns(record: TracingRequestRecord, cipher: FieldCipher) -> dict[str, Any]:
    return {
        "circumstances": cipher.seal("circumstances", record.circumstances),
        "separation_place": cipher.seal_document("separation_place", record.separation_place),
        "separation_date": record.separation_date,
    }


async def _records(
    session: AsyncSession, rows: Sequence[TracingRequest]
) -> list[TracingRequestRecord]:
    by_request = await ciphers(session, [row.id for row in rows])
    return [_record(row, by_request[row.id]) for row in rows]


def _record(row: TracingRequest, cipher: FieldCipher) -> TracingRequestRecord:
    return TracingRequestRecord(
        id=row.id,
        society_id=row.society_id,
        reference_number=row.reference_number,
        status=row.status,
        outcome=row.outcome,
        opened_on=row.opened_on,
        closed_on=row.closed_on,
        circumstances=cipher.open("circumstances", row.circumstances),
        separation_place=cipher.open_document("separation_place", row.separation_place),
        separation_date=row.separation_date,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        review_on=row.review_on,
        archived_at=row.archived_at,
    )


async def insert_request(session: AsyncSession, record: TracingRequestRecord) -> None:
    """Store a new tracing request; fills in the record's database-set fields."""
    cipher = (await new_ciphers(session, [(record.id, record.society_id)]))[record.id]
    row = TracingRequest(
        id=record.id,
        society_id=record.society_id,
        reference_number=record.reference_number,
        status=record.status,
        outcome=record.outcome,
        opened_on=record.opened_on,
        closed_on=record.closed_on,
        review_on=record.review_on,
        **_sensitive_columns(record, cipher),
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    record.version, record.created_at, record.updated_at = (
        row.version,
        row.created_at,
        row.updated_at,
    )


async def held_request_ids(
    session: AsyncSession, society_id: uuid.UUID, request_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Of these tracing requests, those the society holds (one query, nothing decrypted)."""
    if not request_ids:
        return set()
    statement = select(TracingRequest.id).where(
        col(TracingRequest.id).in_(set(request_ids)), TracingRequest.society_id == society_id
    )
    return set(await session.exec(statement))


async def get_request(
    session: AsyncSession, society_id: uuid.UUID, request_id: uuid.UUID
) -> TracingRequestRecord | None:
    """The tracing request, if it belongs to the society."""
    row = (
        await session.exec(
            select(TracingRequest).where(
                TracingRequest.id == request_id, TracingRequest.society_id == society_id
            )
        )
    ).first()
    return None if row is None else (await _records(session, [row]))[0]


async def list_requests(
    session: AsyncSession,
    society_id: uuid.UUID,
    filters: RequestFilters,
    after: Cursor | None,
    limit: int,
) -> list[TracingRequestRecord]:
    """A page of tracing requests in order of recording (plus one row to detect more)."""
    statement = select(TracingRequest).where(TracingRequest.society_id == society_id)
    if filters.status is not None:
        statement = statement.where(TracingRequest.status == filters.status)
    if filters.outcome is not None:
        statement = statement.where(TracingRequest.outcome == filters.outcome)
    if filters.reference_number is not None:
        statement = statement.where(TracingRequest.reference_number == filters.reference_number)
    if filters.opened_from is not None:
        statement = statement.where(col(TracingRequest.opened_on) >= filters.opened_from)
    if filters.opened_to is not None:
        statement = statement.where(col(TracingRequest.opened_on) <= filters.opened_to)
    statement = keyset_page(
        statement, col(TracingRequest.created_at), col(TracingRequest.id), after, limit
    )
    return await _records(session, list(await session.exec(statement)))


async def write_request(
    session: AsyncSession, record: TracingRequestRecord, expected_version: int
) -> bool:
    """Save a changed request if it is still at `expected_version`; False when it is not."""
    cipher = (await ciphers(session, [record.id]))[record.id]
    statement = (
        update(TracingRequest)
        .where(
            col(TracingRequest.id) == record.id,
            col(TracingRequest.society_id) == record.society_id,
            col(TracingRequest.version) == expected_version,
        )
        .values(
            reference_number=record.reference_number,
            status=record.status,
            outcome=record.outcome,
            opened_on=record.opened_on,
            closed_on=record.closed_on,
            review_on=record.review_on,
            **_sensitive_columns(record, cipher),
            version=TracingRequest.version + 1,
            updated_at=func.now(),
        )
        .returning(col(TracingRequest.version), col(TracingRequest.updated_at))
    )
    result = (await session.exec(statement)).first()
    if result is None:
        return False
    record.version, record.updated_at = result
    return True


async def reference_taken(session: AsyncSession, society_id: uuid.UUID, reference: str) -> bool:
    """Whether the society already uses this reference number."""
    found = await session.exec(
        select(TracingRequest.id).where(
            TracingRequest.society_id == society_id,
            TracingRequest.reference_number == reference,
        )
    )
    return found.first() is not None


async def next_reference_value(session: AsyncSession, society_id: uuid.UUID, year: int) -> int:
    """The next counter value for the society's references of `year` (row-locked upsert)."""
    statement = (
        insert(ReferenceCounter)
        .values(society_id=society_id, year=year, last_value=1)
        .on_conflict_do_update(
            index_elements=["society_id", "year"],
            set_={"last_value": ReferenceCounter.last_value + 1},
        )
        .returning(col(ReferenceCounter.last_value))
    )
    return int((await session.exec(statement)).one()[0])


async def mark_located(session: AsyncSession, request_ids: Sequence[uuid.UUID]) -> int:
    """Set open requests to `located` (a confirmed candidate; disclosure still pending)."""
    if not request_ids:
        return 0
    result = await session.exec(
        update(TracingRequest)
        .where(
            col(TracingRequest.id).in_(request_ids),
            col(TracingRequest.status).not_in(["located", "closed"]),
        )
        .values(status="located", version=TracingRequest.version + 1, updated_at=func.now())
    )
    return int(result.rowcount or 0)


async def set_outcome(session: AsyncSession, request_id: uuid.UUID, outcome: str) -> None:
    """Record what came of a located person's disclosure on their open tracing request."""
    await session.exec(
        update(TracingRequest)
        .where(col(TracingRequest.id) == request_id, col(TracingRequest.status) != "closed")
        .values(outcome=outcome, version=TracingRequest.version + 1, updated_at=func.now())
    )
