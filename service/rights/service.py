"""Data-subject rights (domain rule 11 and the data-protection lifecycle).

A subject-access export gathers everything held about one person; erasure removes the person
and everything derived from them, leaving a tombstone (id, time, reason) and a notice for the
partners. Rectification is an ordinary update: the person is matched again at once.
"""

from __future__ import annotations

import datetime
import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.audit import AuditEventPublic
from schemas.candidates import CandidateLinkSummary, DecisionPublic
from schemas.rights import PartnerNoticePublic, SubjectAccessExport
from service.audit import repository as audit
from service.candidates import repository as candidates
from service.consent import repository as consents
from service.consent.service import consent_public
from service.db.models import ErasureTombstone
from service.disclosure.service import disclosures_public
from service.exchange import repository as exchange
from service.persons import repository as persons
from service.persons import service as person_service
from service.principal import Principal
from service.rights import repository
from service.tracing import repository as tracing
from service.tracing.service import relationship_public, summary

AUDIT_EVENTS_EXPORTED = 5000
AUDIT_PAGE = 500


async def export(
    session: AsyncSession, principal: Principal, person_id: uuid.UUID
) -> SubjectAccessExport:
    """Everything held about the person, in full (the data-protection officer's view)."""
    record = await person_service.get(session, principal, person_id)
    request = None
    relationships = []
    if record.tracing_request_id is not None:
        request = await tracing.get_request(
            session, principal.society_id, record.tracing_request_id
        )
        relationships = [
            relationship_public(r)
            for r in await persons.list_relationships(
                session, principal.society_id, record.tracing_request_id
            )
            if record.id in (r.enquirer_id, r.sought_person_id)
        ]
    links = await repository.links_of(session, record.id)
    decisions = await candidates.decisions_on(session, [link.id for link in links])
    events, truncated = await _audit_events(session, record.id)
    return SubjectAccessExport(
        exported_at=datetime.datetime.now(datetime.UTC),
        person=person_service.person_public(record, principal.scopes),
        tracing_request=(summary(request, principal.society_code) if request is not None else None),
        relationships=relationships,
        consents=[consent_public(c) for c in await consents.consents_of(session, record.id)],
        candidate_links=[
            CandidateLinkSummary.model_validate(link, from_attributes=True) for link in links
        ],
        decisions=[DecisionPublic.model_validate(d, from_attributes=True) for d in decisions],
        disclosures=await disclosures_public(
            session, await repository.disclosures_of(session, record.id)
        ),
        partner_notices=[
            PartnerNoticePublic.model_validate(n, from_attributes=True)
            for n in await consents.notices_of(session, record.id)
        ],
        blocking_keys=await repository.key_count(session, record.id),
        audit_events=events,
        audit_events_truncated=truncated,
    )


async def _audit_events(
    session: AsyncSession, person_id: uuid.UUID
) -> tuple[list[AuditEventPublic], bool]:
    events: list[AuditEventPublic] = []
    after = None
    while len(events) < AUDIT_EVENTS_EXPORTED:
        rows = await audit.page(
            session, after=after, limit=AUDIT_PAGE, record_id=person_id, actor=None, action=None
        )
        events += [
            AuditEventPublic.model_validate(r, from_attributes=True) for r in rows[:AUDIT_PAGE]
        ]
        if len(rows) <= AUDIT_PAGE:
            return events, False
        after = rows[AUDIT_PAGE - 1].position
    return events[:AUDIT_EVENTS_EXPORTED], True


async def erase(
    session: AsyncSession, principal: Principal, person_id: uuid.UUID, reason: str
) -> ErasureTombstone:
    """Erase the person (404 for a person not in the caller's society)."""
    record = await person_service.get(session, principal, person_id)
    return await erase_record(session, record.society_id, record.id, reason, principal.subject)


async def erase_record(
    session: AsyncSession, society_id: uuid.UUID, person_id: uuid.UUID, reason: str, by: str
) -> ErasureTombstone:
    """Erase a person, leave the tombstone, and tell the partners (same transaction). A
    partner's id of the person (or of their request) can never bring them back."""
    await exchange.tombstone_person(session, person_id)
    tombstone = await repository.erase(session, society_id, person_id, reason, by)
    await consents.add_notice(session, society_id, person_id, "erased", None)
    return tombstone
