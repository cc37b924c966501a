"""Wire contract of the audit trail (read by auditors and data-protection officers)."""

from __future__ import annotations

import datetime
import uuid

from pydantic import Field

from schemas.base import WireModel
from schemas.enums import Purpose


class AuditEventPublic(WireModel):
    """One access to personal data: who, what, which records, why and when.

    Holds record ids only, never the personal data itself.
    """

    id: uuid.UUID
    position: int = Field(description="Order of recording (gaps are rolled-back requests).")
    occurred_at: datetime.datetime
    actor: str = Field(description="`user:<id>`, `client:<client_id>` or `<issuer>#<sub>`.")
    actor_roles: list[str]
    action: str = Field(examples=["tracing_request.read"])
    record_type: str = Field(examples=["tracing_request"])
    record_ids: list[uuid.UUID]
    purpose: Purpose
    request_id: str | None = None
