"""bulk exchange over the API: import jobs and their items, partners' external ids and the
tombstones of erased ones (RLS)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-21 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import created_at, grant, isolate, society_fk

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _counter(name: str, default: str = "0") -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Integer(), server_default=sa.text(default), nullable=False)


def upgrade() -> None:
    op.create_table(
        "import_job",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="queued", nullable=False),
        sa.Column("total_items", sa.Integer(), nullable=False),
        _counter("next_item", "1"),
        _counter("created"),
        _counter("updated"),
        _counter("unchanged"),
        _counter("failed"),
        created_at(),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("format IN ('jsonl', 'csv', 'pfif')", name=op.f("ck_import_job_format")),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done')", name=op.f("ck_import_job_status")
        ),
        society_fk("import_job"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_job")),
    )
    op.create_index(
        op.f("ix_import_job_society_id_created_at"), "import_job", ["society_id", "created_at"]
    )
    op.create_index(
        op.f("ix_import_job_status"),
        "import_job",
        ["status"],
        postgresql_where=sa.text("status <> 'done'"),
    )
    isolate("import_job")
    grant("import_job", "SELECT, INSERT, UPDATE")

    op.create_table(
        "import_item",
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["import_job.id"],
            name=op.f("fk_import_item_job_id_import_job"),
            ondelete="CASCADE",
        ),
        society_fk("import_item"),
        sa.PrimaryKeyConstraint("job_id", "position", name=op.f("pk_import_item")),
    )
    isolate("import_item")
    grant("import_item", "SELECT, INSERT, UPDATE, DELETE")

    op.create_table(
        "external_record",
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("record_kind", sa.Text(), nullable=False),
        sa.Column("record_id", sa.UUID(), nullable=False),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        society_fk("external_record"),
        sa.PrimaryKeyConstraint(
            "society_id", "source", "external_id", name=op.f("pk_external_record")
        ),
    )
    op.create_index(op.f("ix_external_record_record_id"), "external_record", ["record_id"])
    isolate("external_record")
    grant("external_record", "SELECT, INSERT, UPDATE, DELETE")

    op.create_table(
        "external_tombstone",
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        created_at("erased_at"),
        society_fk("external_tombstone"),
        sa.PrimaryKeyConstraint(
            "society_id", "source", "external_id", name=op.f("pk_external_tombstone")
        ),
    )
    isolate("external_tombstone")
    grant("external_tombstone", "SELECT, INSERT")


def downgrade() -> None:
    for table in ("external_tombstone", "external_record", "import_item", "import_job"):
        op.drop_table(table)
