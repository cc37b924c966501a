"""encryption at rest: the wrapped data key of each person and tracing request (RLS), and the
persons each stored idempotent response shows (its body is now sealed)

Personal fields written from now on are stored encrypted under their owner's data key; rows
written before this revision stay readable as they are (the codec reads unprefixed values as
plaintext) until they are next written.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-21 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "kintrace_app"


def upgrade() -> None:
    op.create_table(
        "data_key",
        sa.Column("owner_id", sa.UUID(), nullable=False),
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["society_id"],
            ["society.id"],
            name=op.f("fk_data_key_society_id_society"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("owner_id", name=op.f("pk_data_key")),
    )
    op.execute("ALTER TABLE data_key ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE data_key FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY society_isolation ON data_key AS PERMISSIVE FOR ALL TO PUBLIC "
        "USING (society_id = kintrace_current_society()) "
        "WITH CHECK (society_id = kintrace_current_society())"
    )
    op.execute(f"GRANT SELECT, INSERT, DELETE ON data_key TO {APP_ROLE}")
    op.add_column(
        "idempotency_record",
        sa.Column(
            "person_ids",
            postgresql.ARRAY(sa.UUID()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("idempotency_record", "person_ids")
    op.drop_table("data_key")
