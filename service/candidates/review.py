"""Reviewers' decisions on candidate links.

A rejection by one reviewer rejects the pair; a confirmation needs `reviews_required` different
reviewers (two for a possible minor or a deceased registration). Decisions count only for the
fingerprint they saw: if a compared field changes, the pair is proposed afresh. Confirming
sets the sought person's tracing request to `located`; what the enquirer may learn is decided
by the disclosure rules, never by the confirmation itself.

A cross-society link (matched under a sharing grant) is confirmed by each society's reviewers
for their side, each side needing `reviews_required` of its own; it is confirmed once both
have, and rejected by either. Each side's decisions and notes stay with that side.
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
    society_id = access.principal.society_id
    current = [
        d
        for d in await repository.decisions_of(session, link.id)
        if d.fingerprint == link.fingerprint and d.decision == Decision.CONFIRM
    ]
    if body.decision is Decision.CONFIRM and any(d.decided_by == reviewer for d in current):
        raise Conflict("you have confirmed this pair already; another reviewer must confirm it")
    if body.decision is Decision.CONFIRM and society_id in link.confirmed_by:
        raise Conflict(
            "your society has confirmed this pair; the partner society's reviewers must confirm it"
        )
    await repository.add_decision(
        session,
        CandidateDecision(
            society_id=society_id,
            link_id=link.id,
            decision=body.decision.value,
            reason=body.reason.value if body.reason else None,
            note=body.note,
            decided_by=reviewer,
            fingerprint=link.fingerprint,
        ),
    )
    side_done = len(current) + 1 >= link.reviews_required
    if body.decision is Decision.REJECT:
        await repository.set_link_status(session, link, LinkStatus.REJECTED, decided=True)
    elif link.partner_society_id is not None:
        await _confirm_side(session, link, society_id, side_done)
    elif side_done:
        await repository.set_link_status(session, link, LinkStatus.CONFIRMED, decided=True)
        await _mark_requests_located(session, link, society_id)
        await disclosure.open_for_link(session, link, minor_age)
    else:
        await repository.set_link_status(session, link, LinkStatus.PROPOSED, decided=False)
    return link


async def _confirm_side(
    session: AsyncSession, link: CandidateLink, society_id: uuid.UUID, side_done: bool
) -> None:
    """A confirmation on a cross-society link: the society's side is confirmed once its own
    reviewers suffice, the pair once both sides are. Disclosure stays with the society that
    holds the found person (not built across societies yet); the caller's own sought persons'
    requests are marked located, the other side's by its worker (`locate_across`)."""
    sides = list(link.confirmed_by) + ([society_id] if side_done else [])
    both = {link.society_id, link.partner_society_id} <= set(sides)
    status = LinkStatus.CONFIRMED if both else LinkStatus.PROPOSED
    located = [society_id] if both else []
    await repository.set_link_status(
        session, link, status, decided=both, confirmed_by=sides, located_for=located
    )
    if both:
        await _mark_requests_located(session, link, society_id)


async def locate_across(session: AsyncSession, society_id: uuid.UUID, limit: int = 100) -> int:
    """Mark the society's sought persons located on cross-society links both sides confirmed
    where the other side's reviewer confirmed last (the worker runs this for each society:
    a society reaches only its own requests); how many links."""
    links = await repository.confirmed_across_unlocated(session, society_id, limit)
    for link in links:
        await _mark_requests_located(session, link, society_id)
        await repository.mark_located_for(session, link.id, society_id)
    return len(links)


async def _mark_requests_located(
    session: AsyncSession, link: CandidateLink, society_id: uuid.UUID
) -> None:
    pair = await persons.get_persons(
        session, society_id, [link.left_person_id, link.right_person_id]
    )
    requests = [
        person.tracing_request_id
        for person in pair
        if person.role == PersonRole.SOUGHT_PERSON and person.tracing_request_id is not None
    ]
    await tracing.mark_located(session, requests)
