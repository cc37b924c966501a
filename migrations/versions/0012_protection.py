"""protection approvals: lifting a sensitive flag needs two supervisors (RLS)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-21 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "kintrace_app"


def upgrade() -> None:
    op.create_table(
        "protection_approval",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("person_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.Text(), nullable=False),
        sa.Column(
            "approved_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("action IN ('lift_sensitive')", name=op.f("ck_protection_approval_action")),
        sa.ForeignKeyConstraint(
            ["society_id"],
            ["society.id"],
            name=op.f("fk_protection_approval_society_id_society"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_protection_approval_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protection_approval")),
    )
    op.create_index(
        "uq_protection_approval_pending",
        "protection_approval",
        ["person_id", "action", "approved_by"],
        unique=True,
        postgresql_where=sa.text("consumed_at IS NULL"),
    )
    op.execute("ALTER TABLE protection_approval ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE protection_approval FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY society_isolation ON protection_approval AS PERMISSIVE FOR ALL TO PUBLIC "
        "USING (society_id = kintrace_current_society()) "
        "WITH CHECK (society_id = kintrace_current_society())"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON protection_approval TO {APP_ROLE}")


def downgrade() -> None:
    op.drop_table("protection_approval")
