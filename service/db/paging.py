"""Keyset pagination, the one way lists are paged."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import tuple_
from sqlmodel.sql.expression import SelectOfScalar

from service.http import Cursor

Row = TypeVar("Row")


def keyset_page(
    statement: SelectOfScalar[Row], at: Any, key: Any, after: Cursor | None, limit: int
) -> SelectOfScalar[Row]:
    """`statement` ordered by (`at`, `key`), past the cursor, one row longer than a page: the
    extra row only says that more follow. Stable under concurrent inserts, unlike offsets."""
    if after is not None:
        statement = statement.where(tuple_(at, key) > tuple_(after.created_at, after.id))
    return statement.order_by(at, key).limit(limit + 1)
