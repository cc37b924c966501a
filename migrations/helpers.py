"""Pieces every tenant table's migration repeats: row-level security, the society key, the
creation time."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

APP_ROLE = "kintrace_app"


def isolate(table: str) -> None:
    """Confine a table to the session's society (FORCE: the owner is confined too)."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY society_isolation ON {table} AS PERMISSIVE FOR ALL TO PUBLIC "
        "USING (society_id = kintrace_current_society()) "
        "WITH CHECK (society_id = kintrace_current_society())"
    )


def society_fk(table: str, column: str = "society_id") -> sa.ForeignKeyConstraint:
    """The foreign key of a society column (a society is never deleted under its records)."""
    return sa.ForeignKeyConstraint(
        [column],
        ["society.id"],
        name=op.f(f"fk_{table}_{column}_society"),
        ondelete="RESTRICT",
    )


def created_at(name: str = "created_at") -> sa.Column:  # type: ignore[type-arg]
    """A row's creation time (the clock, not the transaction start: rows of one transaction
    keep their order)."""
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        server_default=sa.text("clock_timestamp()"),
        nullable=False,
    )


def grant(table: str, privileges: str) -> None:
    """What the application role may do on a table."""
    op.execute(f"GRANT {privileges} ON {table} TO {APP_ROLE}")
