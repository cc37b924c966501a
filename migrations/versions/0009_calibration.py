"""model calibrations fitted to reviewers' decisions, per society (RLS)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 11:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "kintrace_app"


def upgrade() -> None:
    op.create_table(
        "model_calibration",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("base_version", sa.Text(), nullable=False),
        sa.Column("slope", sa.Float(), nullable=False),
        sa.Column("intercept", sa.Float(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["society_id"],
            ["society.id"],
            name=op.f("fk_model_calibration_society_id_society"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_calibration")),
        sa.UniqueConstraint(
            "society_id", "label", name=op.f("uq_model_calibration_society_id_label")
        ),
    )
    op.create_index(
        op.f("ix_model_calibration_society_id_created_at"),
        "model_calibration",
        ["society_id", "created_at"],
        unique=False,
    )
    op.execute("ALTER TABLE model_calibration ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE model_calibration FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY society_isolation ON model_calibration AS PERMISSIVE FOR ALL TO PUBLIC "
        "USING (society_id = kintrace_current_society()) "
        "WITH CHECK (society_id = kintrace_current_society())"
    )
    op.execute(f"GRANT SELECT, INSERT ON model_calibration TO {APP_ROLE}")


def downgrade() -> None:
    op.drop_index(
        op.f("ix_model_calibration_society_id_created_at"), table_name="model_calibration"
    )
    op.drop_table("model_calibration")
