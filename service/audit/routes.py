"""`GET /v1/audit-events`: the society's trail, for auditors and data-protection officers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from schemas.audit import AuditEventPublic
from schemas.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from service.audit import repository
from service.deps import AuditAccess, SessionDep
from service.errors import BadRequest, problem_responses

router = APIRouter(prefix="/audit-events", tags=["audit"])


@router.get(
    "",
    response_model=Page[AuditEventPublic],
    summary="Read the audit trail",
    description=(
        "Every access to the society's personal data in order of recording, optionally only "
        "those touching one record, by one actor or of one action. Pass `next_cursor` back as "
        "`cursor` for the next page."
    ),
    responses=problem_responses(BadRequest),
)
async def list_audit_events(
    access: AuditAccess,
    session: SessionDep,
    record_id: uuid.UUID | None = None,
    actor: Annotated[str | None, Query(max_length=512)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=32, pattern=r"^\d+$")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Page[AuditEventPublic]:
    rows = await repository.page(
        session,
        after=int(cursor) if cursor else None,
        limit=limit,
        record_id=record_id,
        actor=actor,
        action=action,
    )
    items = [AuditEventPublic.model_validate(row, from_attributes=True) for row in rows[:limit]]
    following = str(rows[limit - 1].position) if len(rows) > limit else None
    return Page[AuditEventPublic](items=items, next_cursor=following)
