"""Routes of data-subject rights: `/v1/persons/{id}/subject-access` and `.../erasure`."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from schemas.rights import ErasureCreate, SubjectAccessExport, TombstonePublic
from service.audit import service as audit
from service.deps import DataProtectionAccess, SessionDep
from service.errors import NotFound, problem_responses
from service.rights import service

router = APIRouter(tags=["data-subject rights"])


@router.get(
    "/persons/{person_id}/subject-access",
    response_model=SubjectAccessExport,
    summary="Export everything held about a person",
    description=(
        "For a subject-access request (data-protection officers): the person in full, their "
        "tracing request and relationships, consents, candidate links and the decisions on "
        "them, disclosures, partner notices, how many blocking keys derive from them, and who "
        "read or changed their data (the audit trail, ids only)."
    ),
    responses=problem_responses(NotFound),
)
async def subject_access(
    person_id: uuid.UUID, session: SessionDep, access: DataProtectionAccess
) -> SubjectAccessExport:
    exported = await service.export(session, access.principal, person_id)
    await audit.record(session, access, "person.subject_access", "person", [person_id])
    await session.commit()
    return exported


@router.post(
    "/persons/{person_id}/erasure",
    response_model=TombstonePublic,
    summary="Erase a person",
    description=(
        "Erasure on request (data-protection officers): the person and everything derived from "
        "them (names, blocking keys, candidate links and decisions, disclosures, consents, "
        "relationships, match jobs, stored idempotent responses) are deleted in one "
        "transaction; a tombstone (id, time, reason) and a notice for the partners remain. "
        "The audit trail keeps ids only."
    ),
    responses=problem_responses(NotFound),
)
async def erase_person(
    person_id: uuid.UUID, body: ErasureCreate, session: SessionDep, access: DataProtectionAccess
) -> TombstonePublic:
    tombstone = await service.erase(session, access.principal, person_id, body.reason)
    await audit.record(session, access, "person.erase", "person", [person_id])
    await session.commit()
    return TombstonePublic.model_validate(tombstone, from_attributes=True)
