"""Which persons a sharing grant covers (the rule row-level security applies, in Python)."""

from __future__ import annotations

from schemas.enums import PersonRole
from schemas.sharing import SharedRecordKind
from service.db.models import Person, SharingGrant
from service.persons.records import PersonRecord


def record_kind(role: str) -> SharedRecordKind:
    """The category a person falls in: a registration, or part of a tracing request."""
    if role == PersonRole.REGISTRATION:
        return SharedRecordKind.REGISTRATION
    return SharedRecordKind.TRACING_REQUEST


def covers(grant: SharingGrant, person: Person | PersonRecord) -> bool:
    """Whether a grant covers a person (the same rule row-level security applies)."""
    return grant.society_id == person.society_id and (
        record_kind(person.role).value in grant.record_kinds
        or (person.tracing_request_id is not None)
        and person.tracing_request_id in grant.tracing_request_ids
    )
