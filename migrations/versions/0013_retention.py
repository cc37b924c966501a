"""retention and erasure: review dates, archiving, per-society retention policies and erasure
tombstones (RLS)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-21 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "kintrace_app"


def _isolate(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY society_isolation ON {table} AS PERMISSIVE FOR ALL TO PUBLIC "
        "USING (society_id = kintrace_current_society()) "
        "WITH CHECK (society_id = kintrace_current_society())"
    )


def _society(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["society_id"],
        ["society.id"],
        name=op.f(f"fk_{table}_society_id_society"),
        ondelete="RESTRICT",
    )


def upgrade() -> None:
    op.add_column("tracing_request", sa.Column("review_on", sa.Date(), nullable=True))
    op.add_column(
        "tracing_request", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(
        "UPDATE tracing_request SET review_on = CASE WHEN closed_on IS NULL "
        "THEN opened_on + 365 ELSE closed_on + 730 END"
    )
    op.add_column("person", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "retention_policy",
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("open_review_days", sa.Integer(), nullable=False),
        sa.Column("closed_retention_days", sa.Integer(), nullable=False),
        sa.Column("registration_retention_days", sa.Integer(), nullable=False),
        sa.Column("closed_action", sa.Text(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "closed_action IN ('erase', 'archive')",
            name=op.f("ck_retention_policy_closed_action"),
        ),
        sa.CheckConstraint(
            "open_review_days > 0 AND closed_retention_days >= 0 "
            "AND registration_retention_days > 0",
            name=op.f("ck_retention_policy_days"),
        ),
        _society("retention_policy"),
        sa.PrimaryKeyConstraint("society_id", name=op.f("pk_retention_policy")),
    )
    _isolate("retention_policy")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON retention_policy TO {APP_ROLE}")

    op.create_table(
        "erasure_tombstone",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("person_id", sa.UUID(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("erased_by", sa.Text(), nullable=False),
        sa.Column(
            "erased_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        _society("erasure_tombstone"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_tombstone")),
        sa.UniqueConstraint("person_id", name=op.f("uq_erasure_tombstone_person_id")),
    )
    op.create_index(
        op.f("ix_erasure_tombstone_society_id_erased_at"),
        "erasure_tombstone",
        ["society_id", "erased_at"],
    )
    _isolate("erasure_tombstone")
    op.execute(f"GRANT SELECT, INSERT ON erasure_tombstone TO {APP_ROLE}")


def downgrade() -> None:
    op.drop_table("erasure_tombstone")
    op.drop_table("retention_policy")
    op.drop_column("person", "archived_at")
    op.drop_column("tracing_request", "archived_at")
    op.drop_column("tracing_request", "review_on")
