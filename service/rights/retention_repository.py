"""Queries of the retention policy and of what it makes due."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from sqlalchemy import func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import Person, RetentionPolicy, TracingRequest
from service.persons.repository import shred


@dataclass(frozen=True, slots=True)
class Policy:
    """A society's retention periods (the defaults apply until it sets its own)."""

    open_review_days: int = 365
    closed_retention_days: int = 730
    registration_retention_days: int = 1825
    closed_action: str = "erase"


async def policy_of(session: AsyncSession, society_id: uuid.UUID) -> Policy:
    """The society's policy, or the defaults."""
    row = await session.get(RetentionPolicy, society_id)
    if row is None:
        return Policy()
    return Policy(
        row.open_review_days,
        row.closed_retention_days,
        row.registration_retention_days,
        row.closed_action,
    )


async def save_policy(session: AsyncSession, society_id: uuid.UUID, policy: Policy) -> None:
    """Set the society's policy (review dates already given keep their value)."""
    values = {
        "open_review_days": policy.open_review_days,
        "closed_retention_days": policy.closed_retention_days,
        "registration_retention_days": policy.registration_retention_days,
        "closed_action": policy.closed_action,
    }
    statement = insert(RetentionPolicy).values(society_id=society_id, **values)
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["society_id"], set_={**values, "updated_at": func.now()}
        )
    )


@dataclass(frozen=True, slots=True)
class DueRequest:
    """A tracing request whose review date has come."""

    id: uuid.UUID
    reference_number: str
    status: str
    review_on: datetime.date


async def due_requests(session: AsyncSession, today: datetime.date) -> list[DueRequest]:
    """The society's unarchived requests whose review date is today or past, oldest first."""
    rows = await session.exec(
        select(
            TracingRequest.id,
            TracingRequest.reference_number,
            TracingRequest.status,
            col(TracingRequest.review_on),
        )
        .where(
            col(TracingRequest.review_on) <= today,
            col(TracingRequest.archived_at).is_(None),
        )
        .order_by(col(TracingRequest.review_on), col(TracingRequest.id))
    )
    return [
        DueRequest(id_, reference, status, review_on)
        for id_, reference, status, review_on in rows
        if review_on is not None
    ]


async def due_registrations(
    session: AsyncSession, recorded_before: datetime.datetime
) -> list[uuid.UUID]:
    """The society's unarchived registrations recorded before `recorded_before`."""
    rows = await session.exec(
        select(Person.id)
        .where(
            Person.role == "registration",
            col(Person.created_at) < recorded_before,
            col(Person.archived_at).is_(None),
        )
        .order_by(col(Person.created_at), col(Person.id))
    )
    return list(rows.all())


async def person_ids_of_request(session: AsyncSession, request_id: uuid.UUID) -> list[uuid.UUID]:
    """The persons of a tracing request."""
    rows = await session.exec(select(Person.id).where(Person.tracing_request_id == request_id))
    return list(rows.all())


async def delete_request(session: AsyncSession, request_id: uuid.UUID) -> None:
    """Delete a tracing request (its persons are erased first, one by one)."""
    await session.exec(  # type: ignore[call-overload]
        text("DELETE FROM tracing_request WHERE id = :r").bindparams(r=request_id)
    )
    await shred(session, request_id)


async def archive_request(session: AsyncSession, request_id: uuid.UUID) -> None:
    """Mark a closed tracing request and its persons archived."""
    now = func.now()
    await session.exec(
        update(TracingRequest).where(col(TracingRequest.id) == request_id).values(archived_at=now)
    )
    await session.exec(
        update(Person).where(col(Person.tracing_request_id) == request_id).values(archived_at=now)
    )


async def archive_person(session: AsyncSession, person_id: uuid.UUID) -> None:
    """Mark a registration archived."""
    await session.exec(
        update(Person).where(col(Person.id) == person_id).values(archived_at=func.now())
    )
