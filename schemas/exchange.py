"""Bulk exchange: import jobs, their progress and the records they refused."""

from __future__ import annotations

import datetime
import uuid
from enum import StrEnum

from pydantic import Field

from schemas.base import WireModel


class ImportStatus(StrEnum):
    """Where an import job stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


class ImportJobPublic(WireModel):
    """An import job and its progress."""

    id: uuid.UUID
    format: str = Field(description="`jsonl`, `csv` or `pfif`.")
    status: ImportStatus
    source: str = Field(description="Whose ids the records carry (the principal that sent them).")
    total_items: int
    processed: int = Field(description="Items done so far (stored, unchanged or refused).")
    created: int
    updated: int
    unchanged: int = Field(description="Sent again exactly as stored: nothing written.")
    failed: int = Field(description="Refused items; see `/problems`.")
    progress: float = Field(ge=0, le=1)
    created_at: datetime.datetime
    updated_at: datetime.datetime
    finished_at: datetime.datetime | None


class ImportProblem(WireModel):
    """A refused item: where it was in the body, the sender's id, and why."""

    position: int
    external_id: str | None
    reason: str


class ImportProblemPage(WireModel):
    """Refused items by position; `next_after` continues the listing (null at the end)."""

    items: list[ImportProblem]
    next_after: int | None
