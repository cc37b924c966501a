"""Copies of stored rows that a session does not track."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import SQLModel

Row = TypeVar("Row", bound=SQLModel)


def detached(row: Row, changes: dict[str, Any]) -> Row:
    """A copy of a stored row with some columns replaced (decrypted, say): changing it writes
    nothing back, and the session's own row keeps what is stored."""
    columns = type(row).__table__.columns.keys()  # type: ignore[attr-defined]
    return type(row)(**({column: getattr(row, column) for column in columns} | changes))
