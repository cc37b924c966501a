"""Consent rules: what a consent must say to be valid, and what withdrawing it does.

Withdrawing consent to tracing, or a person's request not to be traced, takes the person out
of all matching in the transaction that records it: their blocking keys are deleted, their
still-proposed candidate links withdrawn, their pending match job cancelled, their pending
disclosures (and any release) stopped, and a notice is left for every partner that received
them. A new consent to tracing resumes it; after a
request not to be traced only the person's own consent does.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.consent import ConsentCreate, ConsentPublic, ConsentWithdrawal
from schemas.enums import ConsentGiver, ConsentScope, PersonRole, TracingStop
from service.candidates import repository as candidates_repository
from service.candidates import service as candidates
from service.consent import repository
from service.db.models import ConsentRecord
from service.disclosure import repository as disclosures
from service.errors import Conflict, NotFound, PreconditionFailed, invalid_fields
from service.persons import repository as persons_repository
from service.persons import service as persons
from service.persons.records import PersonRecord
from service.principal import Principal


def consent_public(consent: ConsentRecord) -> ConsentPublic:
    """Wire view of a stored consent."""
    return ConsentPublic.model_validate(consent, from_attributes=True)


def _check_giver(person: PersonRecord, body: ConsentCreate, minor_age: int) -> None:
    """A minor cannot consent alone: a guardian or a recorded best-interest decision must."""
    today = datetime.date.today()
    if body.given_by is ConsentGiver.PERSON and candidates.possibly_minor(person, minor_age, today):
        raise invalid_fields(
            "the person may be a minor: consent comes from a guardian or a recorded "
            "best-interest decision",
            "given_by",
        )
    if body.obtained_on > today:
        raise invalid_fields("a consent cannot be obtained in the future", "obtained_on")


async def _check_enquirer(
    session: AsyncSession, principal: Principal, enquirer_id: uuid.UUID | None
) -> None:
    if enquirer_id is None:
        return
    enquirer = await persons_repository.get_person(session, principal.society_id, enquirer_id)
    if enquirer is None or enquirer.role != PersonRole.ENQUIRER:
        raise invalid_fields("no enquirer with this id in your society", "enquirer_id")


async def record(
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    body: ConsentCreate,
    minor_age: int,
) -> ConsentRecord:
    """Record a consent; a consent to tracing resumes a person's stopped tracing."""
    person = await persons.get(session, principal, person_id)
    _check_giver(person, body, minor_age)
    await _check_enquirer(session, principal, body.enquirer_id)
    resumes = body.scope is ConsentScope.TRACING and person.tracing_stopped is not None
    if (
        resumes
        and person.tracing_stopped == TracingStop.DO_NOT_TRACE
        and body.given_by is not ConsentGiver.PERSON
    ):
        raise Conflict(
            "the person asked not to be traced: only their own consent to tracing lifts that"
        )
    consent = await repository.add_consent(
        session,
        ConsentRecord(
            society_id=principal.society_id,
            person_id=person.id,
            scope=body.scope.value,
            given_by=body.given_by.value,
            giver_name=body.giver_name,
            decision_reference=body.decision_reference,
            obtained_how=body.obtained_how.value,
            obtained_on=body.obtained_on,
            enquirer_id=body.enquirer_id,
            fields=[field.value for field in body.fields],
            note=body.note,
            recorded_by=principal.subject,
        ),
    )
    if resumes:
        await _set_tracing_stop(session, person, None)
    return consent


async def consents(
    session: AsyncSession, principal: Principal, person_id: uuid.UUID
) -> Sequence[ConsentRecord]:
    """The person's consents, oldest first (404 for a person not in the caller's society)."""
    person = await persons.get(session, principal, person_id)
    return await repository.consents_of(session, person.id)


async def withdraw(
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    consent_id: uuid.UUID,
    body: ConsentWithdrawal,
) -> ConsentRecord:
    """Withdraw a consent. Withdrawing consent to tracing stops the person's tracing at once;
    any withdrawal leaves a notice for the partners."""
    person = await persons.get(session, principal, person_id)
    consent = await repository.lock_consent(session, person.id, consent_id)
    if consent is None:
        raise NotFound(f"person {person_id} has no consent {consent_id}")
    if consent.withdrawn_at is not None:
        raise Conflict("the consent is already withdrawn")
    consent = await repository.mark_withdrawn(session, consent, principal.subject, body.reason)
    await repository.add_notice(
        session, person.society_id, person.id, "consent_withdrawn", consent.scope
    )
    if consent.scope == ConsentScope.TRACING and person.tracing_stopped is None:
        await _set_tracing_stop(session, person, TracingStop.CONSENT_WITHDRAWN)
    if consent.scope == ConsentScope.DISCLOSURE:
        await disclosures.stop_for_consent(session, consent.id, "consent_withdrawn")
    return consent


async def do_not_trace(
    session: AsyncSession, principal: Principal, person_id: uuid.UUID
) -> PersonRecord:
    """Record a person's request not to be traced: out of all matching, whatever their legal
    basis, and partners are told."""
    person = await persons.get(session, principal, person_id)
    if person.tracing_stopped == TracingStop.DO_NOT_TRACE:
        raise Conflict("the person's request not to be traced is already recorded")
    await _set_tracing_stop(session, person, TracingStop.DO_NOT_TRACE)
    await repository.add_notice(session, person.society_id, person.id, "do_not_trace", None)
    return person


async def _set_tracing_stop(
    session: AsyncSession, person: PersonRecord, stop: TracingStop | None
) -> None:
    """Stop (or resume) a person's tracing, with everything that follows, in this
    transaction."""
    expected = person.version
    person.tracing_stopped = stop.value if stop is not None else None
    person.tracing_stopped_at = datetime.datetime.now(datetime.UTC) if stop else None
    if not await persons_repository.write_person(session, person, expected):
        raise PreconditionFailed("the person changed while this was being recorded")
    await candidates.index_person(session, person)
    if stop is not None:
        await candidates_repository.withdraw_links_of(session, person.id)
        await candidates_repository.cancel_jobs(session, person.id)
        await disclosures.stop_for_person(session, person.id, stop.value)
