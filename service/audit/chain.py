"""The hash chain over a society's audit events (pure).

Each seal's digest is SHA-256 over the previous digest and a canonical encoding of the event, so
altering, removing or reordering any sealed event (or seal) breaks every digest after it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

GENESIS_DIGEST = "0" * 64


@dataclass(frozen=True, slots=True)
class ChainedEvent:
    """The fields of an audit event that the chain covers (all of them)."""

    id: uuid.UUID
    society_id: uuid.UUID
    position: int
    occurred_at: datetime.datetime
    actor: str
    actor_roles: Sequence[str]
    action: str
    record_type: str
    record_ids: Sequence[uuid.UUID]
    purpose: str
    request_id: str | None


def canonical(event: ChainedEvent) -> bytes:
    """A byte encoding of the event that does not depend on dict order or driver types."""
    document = {
        "id": str(event.id),
        "society_id": str(event.society_id),
        "position": event.position,
        "occurred_at": event.occurred_at.astimezone(datetime.UTC).isoformat(),
        "actor": event.actor,
        "actor_roles": list(event.actor_roles),
        "action": event.action,
        "record_type": event.record_type,
        "record_ids": [str(record) for record in event.record_ids],
        "purpose": event.purpose,
        "request_id": event.request_id,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def link_digest(previous_digest: str, event: ChainedEvent) -> str:
    """The digest of the chain after `event` is appended."""
    digest = hashlib.sha256()
    digest.update(previous_digest.encode())
    digest.update(b"\n")
    digest.update(canonical(event))
    return digest.hexdigest()
