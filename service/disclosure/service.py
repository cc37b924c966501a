"""The disclosure gate (domain rules 3, 4, 6 and 8).

A confirmed candidate link between a sought person and someone found (a registration, or the
enquirer of another request) opens a disclosure: "located, disclosure pending". Only the
located person's answer moves it on:

    pending -> requested -> released  (their recorded, unwithdrawn consent to disclosure to
                                       this enquirer; exactly the fields it allows)
                         -> refused   (the enquirer side learns "declines contact" only)
                         -> no_answer
    a minor involved: released only once the relationship is verified and two different
                      reviewers approved (awaiting_approval until then)
    deceased:         caseworker_delivery -> delivered (by a caseworker; never released)
    tracing stopped or the consent withdrawn: stopped (nothing more is shown)

Until a release the enquirer side sees the request's status and nothing of the located
person; after it, only the fields released, and only while the consent stands.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.disclosure import (
    Answer,
    DisclosureAnswer,
    DisclosurePublic,
    EnquirerDisclosure,
    EnquirerOutcome,
    EnquirerView,
    ReleasedWhereabouts,
    VerificationCreate,
)
from schemas.enums import (
    ConsentScope,
    DisclosableField,
    DisclosureStatus,
    PersonRole,
    RegistrationKind,
    TracingOutcome,
)
from service.candidates.service import possibly_minor
from service.consent import repository as consents
from service.db.models import CandidateLink, ConsentRecord, Disclosure
from service.disclosure import repository
from service.errors import Conflict, NotFound, invalid_fields
from service.persons import repository as persons
from service.persons.records import PersonRecord
from service.principal import Principal
from service.tracing import repository as tracing
from service.tracing import service as tracing_service
from service.values import place_public

# Links whose confirmation locates a sought person for their enquirer.
LOCATING_KINDS = frozenset({"sought_registration", "sought_enquirer", "reciprocal"})
FINAL = frozenset(
    {
        DisclosureStatus.RELEASED,
        DisclosureStatus.REFUSED,
        DisclosureStatus.STOPPED,
        DisclosureStatus.DELIVERED,
    }
)


async def disclosures_public(
    session: AsyncSession, disclosures: Sequence[Disclosure]
) -> list[DisclosurePublic]:
    """Wire views of disclosures: ids, states and the verification of a minor's relationship
    (its note decrypted); never the located person's whereabouts."""
    notes = await repository.verification_notes(session, disclosures)
    return [
        DisclosurePublic.model_validate(
            {
                **DisclosurePublic.model_validate(d, from_attributes=True).model_dump(),
                "verification_note": notes[d.id],
            }
        )
        for d in disclosures
    ]


def _sides(pair: Sequence[PersonRecord]) -> tuple[PersonRecord, PersonRecord] | None:
    """(sought person, located person) of a confirmed pair, if it locates someone."""
    sought = [p for p in pair if p.role == PersonRole.SOUGHT_PERSON]
    others = [p for p in pair if p.role != PersonRole.SOUGHT_PERSON]
    if len(sought) != 1 or len(others) != 1:
        return None
    return sought[0], others[0]


async def open_for_link(session: AsyncSession, link: CandidateLink, minor_age: int) -> None:
    """Open the disclosure of a confirmed link that locates a sought person (nothing is
    disclosed by this; the enquirer side sees only "located")."""
    if link.kind not in LOCATING_KINDS:
        return
    pair = await persons.get_persons(
        session, link.society_id, [link.left_person_id, link.right_person_id]
    )
    sides = _sides(pair)
    if sides is None:
        return
    sought, found = sides
    request_id = sought.tracing_request_id
    if request_id is None:
        return
    members = await persons.list_for_requests(session, link.society_id, [request_id])
    enquirers = [p for p in members if p.role == PersonRole.ENQUIRER]
    if not enquirers:
        return
    today = datetime.date.today()
    deceased = found.registration_kind == RegistrationKind.DECEASED
    values: dict[str, Any] = {
        "society_id": link.society_id,
        "link_id": link.id,
        "tracing_request_id": request_id,
        "enquirer_id": enquirers[0].id,
        "sought_person_id": sought.id,
        "found_person_id": found.id,
        "status": (
            DisclosureStatus.CASEWORKER_DELIVERY if deceased else DisclosureStatus.PENDING
        ).value,
        "minor": any(possibly_minor(p, minor_age, today) for p in (sought, found)),
    }
    await repository.open_disclosure(session, values)


async def get(session: AsyncSession, disclosure_id: uuid.UUID) -> Disclosure:
    """The disclosure, or 404 (also for another society's)."""
    disclosure = await repository.get(session, disclosure_id)
    if disclosure is None:
        raise NotFound(f"no disclosure {disclosure_id}")
    return disclosure


async def _locked(session: AsyncSession, disclosure_id: uuid.UUID) -> Disclosure:
    disclosure = await repository.lock(session, disclosure_id)
    if disclosure is None:
        raise NotFound(f"no disclosure {disclosure_id}")
    return disclosure


def _require(disclosure: Disclosure, *statuses: DisclosureStatus) -> None:
    if disclosure.status not in statuses:
        raise Conflict(f"the disclosure is {disclosure.status}")


async def mark_requested(
    session: AsyncSession, principal: Principal, disclosure_id: uuid.UUID
) -> Disclosure:
    """The located person has been asked whether their enquirer may learn where they are."""
    disclosure = await _locked(session, disclosure_id)
    _require(disclosure, DisclosureStatus.PENDING)
    await repository.change(session, disclosure, status=DisclosureStatus.REQUESTED.value)
    return disclosure


async def _disclosure_consent(
    session: AsyncSession, disclosure: Disclosure, consent_id: uuid.UUID
) -> ConsentRecord:
    """The located person's standing consent to disclosure to this enquirer (422 otherwise)."""
    consent = await consents.lock_consent(session, disclosure.found_person_id, consent_id)
    if (
        consent is None
        or consent.scope != ConsentScope.DISCLOSURE
        or consent.enquirer_id != disclosure.enquirer_id
        or consent.withdrawn_at is not None
    ):
        raise invalid_fields(
            "not a standing consent of the located person to disclosure to this enquirer",
            "consent_id",
        )
    return consent


async def answer(
    session: AsyncSession, principal: Principal, disclosure_id: uuid.UUID, body: DisclosureAnswer
) -> Disclosure:
    """Record the located person's answer: consent (released, or awaiting the approvals a
    minor needs), refusal, or no answer."""
    disclosure = await _locked(session, disclosure_id)
    _require(
        disclosure,
        DisclosureStatus.PENDING,
        DisclosureStatus.REQUESTED,
        DisclosureStatus.NO_ANSWER,
    )
    if body.answer is Answer.REFUSE:
        await repository.change(session, disclosure, status=DisclosureStatus.REFUSED.value)
        await tracing.set_outcome(
            session,
            disclosure.tracing_request_id,
            TracingOutcome.LOCATED_DECLINES_CONTACT.value,
        )
    elif body.answer is Answer.NO_ANSWER:
        await repository.change(session, disclosure, status=DisclosureStatus.NO_ANSWER.value)
    else:
        assert body.consent_id is not None
        consent = await _disclosure_consent(session, disclosure, body.consent_id)
        await repository.change(session, disclosure, consent_id=consent.id)
        await _release_if_allowed(session, principal, disclosure)
    return disclosure


async def verify(
    session: AsyncSession,
    principal: Principal,
    disclosure_id: uuid.UUID,
    body: VerificationCreate,
) -> Disclosure:
    """Record how the relationship between a minor and the claimed relative was verified."""
    disclosure = await _locked(session, disclosure_id)
    if not disclosure.minor:
        raise Conflict("no minor is involved: the relationship needs no verification here")
    if disclosure.status in FINAL:
        raise Conflict(f"the disclosure is {disclosure.status}")
    if body.verified_on > datetime.date.today():
        raise invalid_fields("a verification cannot be in the future", "verified_on")
    await repository.change(
        session,
        disclosure,
        verified_by=principal.subject,
        verification_method=body.method,
        verified_on=body.verified_on,
        verification_note=body.note,
    )
    await _release_if_allowed(session, principal, disclosure)
    return disclosure


async def approve(
    session: AsyncSession, principal: Principal, disclosure_id: uuid.UUID
) -> Disclosure:
    """A reviewer's approval of a minor's disclosure; two different reviewers are needed."""
    disclosure = await _locked(session, disclosure_id)
    if not disclosure.minor:
        raise Conflict("no minor is involved: the disclosure needs no approvals")
    if disclosure.status in FINAL:
        raise Conflict(f"the disclosure is {disclosure.status}")
    if principal.subject in disclosure.approved_by:
        raise Conflict("you have approved this disclosure already; another reviewer must")
    await repository.change(
        session, disclosure, approved_by=[*disclosure.approved_by, principal.subject]
    )
    await _release_if_allowed(session, principal, disclosure)
    return disclosure


async def mark_delivered(
    session: AsyncSession, principal: Principal, disclosure_id: uuid.UUID
) -> Disclosure:
    """A caseworker delivered the news of a death in person."""
    disclosure = await _locked(session, disclosure_id)
    _require(disclosure, DisclosureStatus.CASEWORKER_DELIVERY)
    await repository.change(session, disclosure, status=DisclosureStatus.DELIVERED.value)
    await tracing.set_outcome(session, disclosure.tracing_request_id, TracingOutcome.DECEASED.value)
    return disclosure


async def _release_if_allowed(
    session: AsyncSession, principal: Principal, disclosure: Disclosure
) -> None:
    """Release when everything the rules ask for is on record; else wait for approvals."""
    if disclosure.consent_id is None or disclosure.status in FINAL:
        return
    if disclosure.status == DisclosureStatus.CASEWORKER_DELIVERY:
        return
    approved = disclosure.verified_by is not None and len(set(disclosure.approved_by)) >= 2
    if disclosure.minor and not approved:
        await repository.change(
            session, disclosure, status=DisclosureStatus.AWAITING_APPROVAL.value
        )
        return
    consent = await _disclosure_consent(session, disclosure, disclosure.consent_id)
    fields = list(consent.fields)
    await repository.change(
        session, disclosure, status=DisclosureStatus.RELEASED.value, released_fields=fields
    )
    await repository.log_release(session, disclosure, fields, principal.subject)
    await tracing.set_outcome(
        session, disclosure.tracing_request_id, TracingOutcome.LOCATED_CONTACT_RESTORED.value
    )


def _released_whereabouts(found: PersonRecord, fields: Sequence[str]) -> ReleasedWhereabouts:
    """Exactly the allowed fields of the located person, nothing else."""
    allowed = set(fields)
    contact = {
        part: value
        for part, value in (found.personal.contact or {}).items()
        if part in allowed and value is not None
    }
    place = (
        place_public(found.personal.current_place)
        if DisclosableField.CURRENT_PLACE in allowed
        else None
    )
    return ReleasedWhereabouts.model_validate({"current_place": place, "contact": contact or None})


async def _enquirer_disclosure(
    session: AsyncSession, disclosure: Disclosure, may_see_deceased: bool
) -> EnquirerDisclosure:
    status = DisclosureStatus(disclosure.status)
    released = None
    if status is DisclosureStatus.RELEASED and disclosure.consent_id is not None:
        consent = await consents.find_consent(
            session, disclosure.found_person_id, disclosure.consent_id
        )
        found = await persons.get_person(session, disclosure.society_id, disclosure.found_person_id)
        if consent is not None and consent.withdrawn_at is None and found is not None:
            released = _released_whereabouts(found, disclosure.released_fields)
    if released is not None:
        outcome = EnquirerOutcome.CONTACT_RESTORED
    elif status in {DisclosureStatus.REFUSED, DisclosureStatus.STOPPED}:
        outcome = EnquirerOutcome.DECLINES_CONTACT
    elif may_see_deceased and status in {
        DisclosureStatus.CASEWORKER_DELIVERY,
        DisclosureStatus.DELIVERED,
    }:
        outcome = EnquirerOutcome.DECEASED_CASEWORKER_DELIVERY
    else:
        outcome = EnquirerOutcome.DISCLOSURE_PENDING
    return EnquirerDisclosure(
        sought_person_id=disclosure.sought_person_id, outcome=outcome, released=released
    )


async def enquirer_view(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, may_see_deceased: bool
) -> tuple[EnquirerView, list[uuid.UUID]]:
    """The request as its enquirer side may see it, and the located persons whose fields it
    releases (for the audit)."""
    record = await tracing_service.get_record(session, principal, request_id)
    disclosures = list(await repository.of_request(session, record.id))
    items = [
        await _enquirer_disclosure(session, disclosure, may_see_deceased)
        for disclosure in disclosures
    ]
    outcome = record.outcome
    if outcome == TracingOutcome.DECEASED and not may_see_deceased:
        outcome = None
    disclosed = [
        d.found_person_id
        for d, item in zip(disclosures, items, strict=True)
        if item.released is not None
    ]
    view = EnquirerView(
        tracing_request_id=record.id,
        status=record.status,
        outcome=TracingOutcome(outcome) if outcome else None,
        disclosures=items,
    )
    return view, disclosed
