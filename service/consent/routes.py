"""Routes of `/v1/persons/{id}/consents` and `/v1/persons/{id}/do-not-trace`."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from schemas.consent import ConsentCreate, ConsentList, ConsentPublic, ConsentWithdrawal
from schemas.persons import PersonPublic
from service.audit import service as audit
from service.consent import service
from service.deps import ReadAccess, RuntimeDep, SessionDep, WriteAccess
from service.errors import Conflict, NotFound, PreconditionFailed, problem_responses
from service.http import etag
from service.persons.service import person_public

router = APIRouter(tags=["consent"])

RECORD = "consent"


@router.post(
    "/persons/{person_id}/consents",
    status_code=status.HTTP_201_CREATED,
    response_model=ConsentPublic,
    summary="Record a consent",
    description=(
        "Records a consent as it was obtained: its scope (tracing, sharing with partner "
        "societies, disclosure of whereabouts and contact to a named enquirer, publication), "
        "who gave it (the person; for a possible minor, a guardian or a recorded best-interest "
        "decision), how and when. Consent obtained as a condition of receiving aid is refused "
        "(422). A consent to tracing resumes a person's stopped tracing; after a request not "
        "to be traced, only the person's own consent does (409 otherwise)."
    ),
    responses=problem_responses(NotFound, Conflict, PreconditionFailed),
)
async def record_consent(
    person_id: uuid.UUID,
    body: ConsentCreate,
    session: SessionDep,
    access: WriteAccess,
    runtime: RuntimeDep,
) -> JSONResponse:
    consent = await service.record(
        session, access.principal, person_id, body, runtime.settings.minor_age
    )
    await audit.record(session, access, f"{RECORD}.create", "person", [person_id])
    await session.commit()
    return JSONResponse(
        service.consent_public(consent).model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/v1/persons/{person_id}/consents/{consent.id}"},
    )


@router.get(
    "/persons/{person_id}/consents",
    response_model=ConsentList,
    summary="List a person's consents",
    description="Every consent recorded for the person, withdrawn ones too, oldest first.",
    responses=problem_responses(NotFound),
)
async def list_consents(
    person_id: uuid.UUID, session: SessionDep, access: ReadAccess
) -> ConsentList:
    found = await service.consents(session, access.principal, person_id)
    await audit.record(session, access, f"{RECORD}.list", "person", [person_id])
    await session.commit()
    return ConsentList(items=[service.consent_public(consent) for consent in found])


@router.post(
    "/persons/{person_id}/consents/{consent_id}/withdrawal",
    response_model=ConsentPublic,
    summary="Withdraw a consent",
    description=(
        "Records that the consent is withdrawn (409 if it already is). Withdrawing consent to "
        "tracing takes the person out of all matching in the same transaction: blocking keys "
        "deleted, still-proposed candidate links withdrawn (`candidate.withdrawn` in the "
        "feed), pending matching cancelled. Every withdrawal leaves a notice for the partners "
        "that received the person."
    ),
    responses=problem_responses(NotFound, Conflict, PreconditionFailed),
)
async def withdraw_consent(
    person_id: uuid.UUID,
    consent_id: uuid.UUID,
    body: ConsentWithdrawal,
    session: SessionDep,
    access: WriteAccess,
) -> ConsentPublic:
    consent = await service.withdraw(session, access.principal, person_id, consent_id, body)
    await audit.record(session, access, f"{RECORD}.withdraw", "person", [person_id])
    await session.commit()
    return service.consent_public(consent)


@router.post(
    "/persons/{person_id}/do-not-trace",
    response_model=PersonPublic,
    summary="Record a request not to be traced",
    description=(
        "The person asked not to be traced: stronger than withdrawing a consent, it takes them "
        "out of all matching whatever their legal basis (as a withdrawal does) and leaves a "
        "notice for the partners. Only the person's own new consent to tracing lifts it."
    ),
    responses=problem_responses(NotFound, Conflict, PreconditionFailed),
)
async def do_not_trace(
    person_id: uuid.UUID, session: SessionDep, access: WriteAccess
) -> JSONResponse:
    person = await service.do_not_trace(session, access.principal, person_id)
    await audit.record(session, access, "person.do_not_trace", "person", [person.id])
    await session.commit()
    return JSONResponse(
        person_public(person, access.principal.scopes).model_dump(mode="json"),
        headers={"ETag": etag(person.version)},
    )
