"""Shared model configuration for every wire contract."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    """Base of every request and response body.

    Unknown fields are rejected rather than ignored: a misspelt field in a tracing request would
    otherwise vanish silently and a family could be searched for with less than was recorded.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
