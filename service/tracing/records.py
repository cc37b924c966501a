"""Plain, decrypted view of a stored tracing request, as the repository hands it out."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class TracingRequestRecord:
    """A stored tracing request (without its persons)."""

    id: uuid.UUID
    society_id: uuid.UUID
    reference_number: str
    status: str
    outcome: str | None
    opened_on: datetime.date
    closed_on: datetime.date | None
    circumstances: str | None
    separation_place: dict[str, Any] | None
    separation_date: dict[str, Any] | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    review_on: datetime.date | None = None
    archived_at: datetime.datetime | None = None
