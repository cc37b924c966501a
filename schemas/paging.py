"""Cursor pagination envelope."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

ItemT = TypeVar("ItemT")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class Page(BaseModel, Generic[ItemT]):
    """One page of a listing.

    `next_cursor` is opaque; pass it back as `cursor` to get the following page. It is null on
    the last page. Cursors are stable under concurrent inserts (keyset pagination).
    """

    items: list[ItemT]
    next_cursor: str | None = Field(default=None)
