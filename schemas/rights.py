"""Wire contracts of data-subject rights: a subject-access export and erasure."""

from __future__ import annotations

import datetime
import uuid

from pydantic import Field

from schemas.audit import AuditEventPublic
from schemas.base import WireModel
from schemas.candidates import CandidateLinkSummary, DecisionPublic
from schemas.consent import ConsentPublic
from schemas.disclosure import DisclosurePublic
from schemas.persons import PersonPublic
from schemas.tracing import RelationshipPublic, TracingRequestSummary


class PartnerNoticePublic(WireModel):
    """A notice left for partners about the person."""

    id: uuid.UUID
    kind: str
    scope: str | None
    created_at: datetime.datetime
    delivered_at: datetime.datetime | None


class SubjectAccessExport(WireModel):
    """Everything the service holds about one person, for a subject-access request."""

    exported_at: datetime.datetime
    person: PersonPublic
    tracing_request: TracingRequestSummary | None
    relationships: list[RelationshipPublic]
    consents: list[ConsentPublic]
    candidate_links: list[CandidateLinkSummary]
    decisions: list[DecisionPublic]
    disclosures: list[DisclosurePublic]
    partner_notices: list[PartnerNoticePublic]
    blocking_keys: int = Field(description="Keyed hashes derived from the person's data.")
    audit_events: list[AuditEventPublic] = Field(
        description="Who read or changed the person's data, when and why (newest last)."
    )
    audit_events_truncated: bool


class ErasureCreate(WireModel):
    """Why a person's data is erased (kept in the tombstone)."""

    reason: str = Field(min_length=1, max_length=500, examples=["erasure requested by the person"])


class TombstonePublic(WireModel):
    """What is left of an erased person: the id, when, why and by whom; nothing else."""

    person_id: uuid.UUID
    erased_at: datetime.datetime
    reason: str
    erased_by: str
