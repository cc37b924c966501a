"""Keyset pagination, the one way lists are paged."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import tuple_
from sqlmodel.sql.expression import Select, SelectOfScalar

from service.http import Cursor

Statement = TypeVar("Statement", SelectOfScalar[Any], Select[*tuple[Any, ...]])


def keyset_page(
    statement: Statement, at: Any, key: Any, after: Cursor | None, limit: int
) -> Statement:
    """`statement` ordered by (`at`, `key`), past the cursor, one row longer than a page: the
    extra row only says that more follow. Stable under concurrent inserts, unlike offsets."""
    if after is not None:
        statement = statement.where(tuple_(at, key) > tuple_(after.created_at, after.id))
    return statement.order_by(at, key).limit(limit + 1)
