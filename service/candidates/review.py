"""Reviewers' decisions on candidate links.

A rejection by one reviewer rejects the pair; a confirmation needs `reviews_required` different
reviewers (two for a possible minor or a deceased registration). Decisions count only for the
fingerprint they saw: if a compared field changes, the pair is proposed afresh. Confirming
sets the sought person's tracing request to `located`; what the enquirer may learn is decided
by the disclosure rules, never by the confirmation itself.
"""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.candidates import Decision, DecisionCreate, LinkStatus
from schemas.enums import PersonRole
from service.candidates import repository
from service.db.models import CandidateDecision, CandidateLink
from service.disclosure import service as disclosure
from service.errors import Conflict, NotFound
from service.http import require_if_match
from service.persons import repository as persons
from service.principal import Access
from service.tracing import repository as tracing


async def decide(
    session: AsyncSession,
    access: Access,
    link_id: uuid.UUID,
    body: DecisionCreate,
    if_match: str | None,
    minor_age: int = 18,
) -> CandidateLink:
    """Record a decision and move the link on (confirmed, rejected, or awaiting a second
    reviewer)."""
    link = await repository.lock_link(session, link_id)
    if link is None:
        raise NotFound(f"no candidate link {link_id}")
    require_if_match(if_match, link.version)
    if link.status != LinkStatus.PROPOSED:
        raise Conflict(f"the candidate link is already {link.status}")
    reviewer = access.principal.subject
    current = [
        d
        for d in await repository.decisions_of(session, link.id)
        if d.fingerprint == link.fingerprint and d.decision == Decision.CONFIRM
    ]
    if body.decision is Decision.CONFIRM and any(d.decided_by == reviewer for d in current):
        raise Conflict("you have confirmed this pair already; another reviewer must confirm it")
    await repository.add_decision(
        session,
        CandidateDecision(
            society_id=link.society_id,
            link_id=link.id,
            decision=body.decision.value,
            reason=body.reason.value if body.reason else None,
            note=body.note,
            decided_by=reviewer,
            fingerprint=link.fingerprint,
        ),
    )
    if body.decision is Decision.REJECT:
        await repository.set_link_status(session, link, LinkStatus.REJECTED, decided=True)
    elif len(current) + 1 >= link.reviews_required:
        await repository.set_link_status(session, link, LinkStatus.CONFIRMED, decided=True)
        await _mark_requests_located(session, link)
        await disclosure.open_for_link(session, link, minor_age)
    else:
        await repository.set_link_status(session, link, LinkStatus.PROPOSED, decided=False)
    return link


async def _mark_requests_located(session: AsyncSession, link: CandidateLink) -> None:
    pair = await persons.get_persons(
        session, link.society_id, [link.left_person_id, link.right_person_id]
    )
    requests = [
        person.tracing_request_id
        for person in pair
        if person.role == PersonRole.SOUGHT_PERSON and person.tracing_request_id is not None
    ]
    await tracing.mark_located(session, requests)
