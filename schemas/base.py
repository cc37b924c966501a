"""Shared model configuration for every wire contract."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


def storable_text(value: Any) -> Any:
    """`value` unchanged, if every string in it can be stored: PostgreSQL keeps no NUL
    character in text or JSON, and UTF-8 has no lone surrogates. Refusing them here makes such
    input a 422 naming the field, instead of a failed write."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain the NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode (it has a lone surrogate)") from None
    elif isinstance(value, list | tuple):
        for item in value:
            storable_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            storable_text(key)
            storable_text(item)
    return value


class WireModel(BaseModel):
    """Base of every request and response body.

    Unknown fields are rejected rather than ignored: a misspelt field in a tracing request would
    otherwise vanish silently and a family could be searched for with less than was recorded.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return storable_text(value)
