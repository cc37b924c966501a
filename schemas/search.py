"""Wire contracts of the ad-hoc person search."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from pydantic import Field

from schemas.base import WireModel
from schemas.enums import PersonRole, Sex
from schemas.persons import PersonPublic


class SearchQuery(WireModel):
    """A name and at least one other identifier: a name alone or identifiers alone are refused
    (they would turn the search into a way of browsing the archive)."""

    name: str = Field(min_length=1, max_length=200, examples=["Mohammed Ahmed al-Hassan"])
    birth_date: str | None = Field(
        default=None, max_length=64, description="A fuzzy date as text (`1990`, `ca. 1985`, ...)"
    )
    sex: Sex | None = None
    birth_place: str | None = Field(default=None, max_length=200)
    father_name: str | None = Field(default=None, max_length=200)
    roles: list[PersonRole] | None = Field(
        default=None, description="Only persons of these roles (default: every role)."
    )
    limit: int = Field(default=20, ge=1, le=50)


class SearchHit(WireModel):
    """A person the query may describe, with the engine's probability and explanation."""

    person: PersonPublic
    probability: float
    match_weight: float
    explanation: dict[str, Any]


class SearchResult(WireModel):
    """Hits by probability, highest first."""

    hits: list[SearchHit]
    model_version: str


class SearchFlagPublic(WireModel):
    """A caller whose search volume broke the society's rule."""

    id: uuid.UUID
    principal: str
    searches_last_hour: int
    rule: str
    flagged_at: datetime.datetime
