"""Sharing between societies (domain rule 9).

A society's supervisors grant another society access to categories of records or to individual
tracing requests, field by field, for restoring family links, on a legal basis, until a date.
The receiving society reads what it was granted through `/v1/shared/persons`: row-level
security admits only the persons an active grant covers (never sensitive, stopped or archived
ones), and this module sends only the granted fields and logs each record sent in the ledger.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.sharing import (
    SharedField,
    SharedPersonPublic,
    SharingGrantCreate,
    SharingGrantPublic,
    TransferChannel,
    TransferPublic,
)
from service.candidates import repository as candidates
from service.db.models import Person, SharingGrant, Transfer
from service.errors import Conflict, Forbidden, NotFound, invalid_fields
from service.http import Cursor, require_if_match
from service.persons import repository as persons
from service.persons.records import PersonRecord
from service.persons.service import person_public
from service.persons.views import may_see_person
from service.principal import Principal
from service.sharing import repository
from service.sharing.rules import covers
from service.societies import repository as societies
from service.tracing import repository as tracing

# The person keys each shared field stands for in a person's view.
FIELD_KEYS: dict[SharedField, tuple[str, ...]] = {
    SharedField.REGISTRATION: ("registration_kind", "registration_source", "registration_date"),
} | {field: (field.value,) for field in SharedField if field is not SharedField.REGISTRATION}


def is_active(grant: SharingGrant, now: datetime.datetime) -> bool:
    """Neither revoked nor lapsed."""
    return grant.revoked_at is None and grant.valid_until > now


def shareable(record: PersonRecord, scopes: Iterable[str]) -> bool:
    """Whether a covered person may leave its society at all: never a sensitive person, nor
    one out of tracing (withdrawn consent, do not trace); a death only to a recipient whose
    roles may learn of one."""
    if record.personal.sensitive or not record.traceable:
        return False
    return may_see_person(record, scopes)


def granted_fields(grants: Iterable[SharingGrant]) -> list[SharedField]:
    """The fields the grants together allow, in the enum's order."""
    return in_order(SharedField(field) for grant in grants for field in grant.fields)


def shared_view(
    record: PersonRecord, society_code: str, grant: SharingGrant, fields: Sequence[SharedField]
) -> dict[str, Any]:
    """A person as a recipient sees it: identity, holder, grant, and only `fields`."""
    full = person_public(record, frozenset()).model_dump(mode="json")
    view: dict[str, Any] = {
        "id": str(record.id),
        "society": society_code,
        "grant_id": str(grant.id),
        "role": record.role,
        "status": record.status,
        "tracing_request_id": full["tracing_request_id"],
        "fields": [field.value for field in fields],
    }
    for field in fields:
        for key in FIELD_KEYS[field]:
            view[key] = full[key]
    return SharedPersonPublic.model_validate(view).model_dump(mode="json", include=set(view))


def grant_public(grant: SharingGrant, codes: dict[uuid.UUID, str]) -> SharingGrantPublic:
    """Wire view of a grant."""
    return SharingGrantPublic.model_validate(
        {
            **grant.model_dump(
                exclude={"society_id", "recipient_society_id", "revocation_notified_at"}
            ),
            "society": codes[grant.society_id],
            "recipient_society": codes[grant.recipient_society_id],
            "active": is_active(grant, datetime.datetime.now(datetime.UTC)),
        }
    )


async def grants_public(
    session: AsyncSession, grants: Sequence[SharingGrant]
) -> list[SharingGrantPublic]:
    """Wire views of grants, with their societies' codes."""
    codes = await societies.codes_of(
        session, [s for g in grants for s in (g.society_id, g.recipient_society_id)]
    )
    return [grant_public(grant, codes) for grant in grants]


async def transfers_public(
    session: AsyncSession, transfers: Sequence[Transfer]
) -> list[TransferPublic]:
    """Wire views of ledger entries, with their societies' codes."""
    codes = await societies.codes_of(
        session, [s for t in transfers for s in (t.society_id, t.recipient_society_id)]
    )
    return [
        TransferPublic.model_validate(
            {
                **t.model_dump(exclude={"society_id", "recipient_society_id"}),
                "society": codes[t.society_id],
                "recipient_society": codes[t.recipient_society_id],
            }
        )
        for t in transfers
    ]


async def create_grant(
    session: AsyncSession, principal: Principal, body: SharingGrantCreate
) -> SharingGrant:
    """Record a grant of the caller's society (422 for an unknown or own recipient, a past
    expiry, or a tracing request the society does not hold)."""
    found = await societies.get_by_code(session, body.recipient_society)
    if found is None:
        raise invalid_fields("no society has this code", "recipient_society")
    recipient = found.id
    if recipient == principal.society_id:
        raise invalid_fields("a society does not share with itself", "recipient_society")
    if body.valid_until <= datetime.datetime.now(datetime.UTC):
        raise invalid_fields("a grant must run until a time in the future", "valid_until")
    held = await tracing.held_request_ids(session, principal.society_id, body.tracing_request_ids)
    for request_id in body.tracing_request_ids:
        if request_id not in held:
            raise invalid_fields(f"no tracing request {request_id}", "tracing_request_ids")
    grant = await repository.insert_grant(
        session,
        SharingGrant(
            society_id=principal.society_id,
            recipient_society_id=recipient,
            record_kinds=[kind.value for kind in body.record_kinds],
            tracing_request_ids=list(dict.fromkeys(body.tracing_request_ids)),
            fields=[field.value for field in in_order(body.fields)],
            purpose=body.purpose.value,
            legal_basis=body.legal_basis.value,
            valid_until=body.valid_until,
            created_by=principal.subject,
        ),
    )
    # The recipient matches what it is now shared against its own persons; its own persons
    # probe the shared ones as they are next matched.
    await candidates.enqueue_granted(session, grant.id)
    return grant


def in_order(fields: Iterable[SharedField]) -> list[SharedField]:
    """Fields once each, in the enum's order."""
    wanted = set(fields)
    return [field for field in SharedField if field in wanted]


async def get_grant(session: AsyncSession, grant_id: uuid.UUID) -> SharingGrant:
    """A grant the caller's society gave or received (404 otherwise)."""
    grant = await repository.get_grant(session, grant_id)
    if grant is None:
        raise NotFound(f"no sharing grant {grant_id}")
    return grant


async def revoke_grant(
    session: AsyncSession,
    principal: Principal,
    grant_id: uuid.UUID,
    reason: str,
    if_match: str | None,
) -> SharingGrant:
    """Revoke a grant the caller's society gave: from this commit on nothing more is read
    under it, and the outbox tells the recipient (a `grant.revoked` tombstone)."""
    grant = await repository.lock_grant(session, grant_id)
    if grant is None or grant.society_id != principal.society_id:
        # Row security lets only the sharing society lock it; the recipient can read it.
        if await repository.get_grant(session, grant_id) is not None:
            raise Forbidden("only the sharing society revokes a grant")
        raise NotFound(f"no sharing grant {grant_id}")
    require_if_match(if_match, grant.version)
    if grant.revoked_at is not None:
        raise Conflict("the grant is revoked already")
    revoked = await repository.revoke_grant(session, grant, principal.subject, reason)
    await candidates.withdraw_partner_links(
        session, revoked.recipient_society_id, revoked.society_id
    )
    return revoked


async def _open_shared(
    session: AsyncSession, principal: Principal, owner_code: str | None
) -> tuple[list[SharingGrant], uuid.UUID | None]:
    """The grants in force for the caller (of one owner, if named), with shared reading on."""
    owner = None
    if owner_code is not None:
        society = await societies.get_by_code(session, owner_code)
        if society is None:
            return [], None
        owner = society.id
    return await repository.read_granted(session, principal.society_id, owner), owner


async def _views(
    session: AsyncSession,
    principal: Principal,
    rows: Sequence[Person],
    grants: Sequence[SharingGrant],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Views of shared persons and the ledger entries for sending them."""
    codes = await societies.codes_of(session, [row.society_id for row in rows])
    views: list[dict[str, Any]] = []
    ledger: list[dict[str, Any]] = []
    for owner in dict.fromkeys(row.society_id for row in rows):
        ids = [row.id for row in rows if row.society_id == owner]
        for record in await persons.get_persons(session, owner, ids):
            covering = [grant for grant in grants if covers(grant, record)]
            if not covering or not shareable(record, principal.scopes):
                continue
            fields = granted_fields(covering)
            views.append(shared_view(record, codes[owner], covering[0], fields))
            ledger += [
                {
                    "society_id": owner,
                    "recipient_society_id": principal.society_id,
                    "grant_id": grant.id,
                    "record_id": record.id,
                    "fields": list(grant.fields),
                    "purpose": grant.purpose,
                    "legal_basis": grant.legal_basis,
                    "channel": TransferChannel.API.value,
                    "received_by": principal.subject,
                }
                for grant in covering
            ]
    order = {row.id: index for index, row in enumerate(rows)}
    views.sort(key=lambda view: order[uuid.UUID(view["id"])])
    return views, ledger


async def shared_page(
    session: AsyncSession,
    principal: Principal,
    owner_code: str | None,
    after: Cursor | None,
    limit: int,
) -> tuple[list[dict[str, Any]], list[Person]]:
    """A page of persons shared with the caller's society (views, and the rows read, for the
    cursor); each one sent is logged in the ledger."""
    grants, owner = await _open_shared(session, principal, owner_code)
    if not grants:
        return [], []
    rows = await repository.shared_persons(session, principal.society_id, owner, after, limit)
    views, ledger = await _views(session, principal, rows[:limit], grants)
    await repository.log_transfers(session, ledger)
    return views, rows


async def shared_person(
    session: AsyncSession, principal: Principal, person_id: uuid.UUID
) -> dict[str, Any]:
    """One person shared with the caller's society (404 exactly like a missing one when no
    grant in force covers it); logged in the ledger."""
    grants, _ = await _open_shared(session, principal, None)
    row = (
        await repository.shared_person(session, principal.society_id, person_id) if grants else None
    )
    views, ledger = await _views(session, principal, [row] if row else [], grants)
    if not views:
        raise NotFound(f"no shared person {person_id}")
    await repository.log_transfers(session, ledger)
    return views[0]
