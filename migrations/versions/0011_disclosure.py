"""disclosure: the located person's answer decides what their enquirer learns (RLS), and a
log of every release with the fields released

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21 14:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "kintrace_app"
STATUSES = (
    "'pending', 'requested', 'awaiting_approval', 'released', 'refused', 'no_answer', "
    "'stopped', 'caseworker_delivery', 'delivered'"
)


def _isolate(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY society_isolation ON {table} AS PERMISSIVE FOR ALL TO PUBLIC "
        "USING (society_id = kintrace_current_society()) "
        "WITH CHECK (society_id = kintrace_current_society())"
    )


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        server_default=sa.text("clock_timestamp()"),
        nullable=False,
    )


def _reference(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "disclosure",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("link_id", sa.UUID(), nullable=False),
        sa.Column("tracing_request_id", sa.UUID(), nullable=False),
        sa.Column("enquirer_id", sa.UUID(), nullable=False),
        sa.Column("sought_person_id", sa.UUID(), nullable=False),
        sa.Column("found_person_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("minor", sa.Boolean(), nullable=False),
        sa.Column("consent_id", sa.UUID(), nullable=True),
        sa.Column(
            "released_fields",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("verified_by", sa.Text(), nullable=True),
        sa.Column("verification_method", sa.Text(), nullable=True),
        sa.Column("verified_on", sa.Date(), nullable=True),
        sa.Column("verification_note", sa.Text(), nullable=True),
        sa.Column(
            "approved_by",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        _timestamp("created_at"),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_disclosure_status")),
        sa.CheckConstraint(
            "status <> 'released' OR (consent_id IS NOT NULL AND cardinality(released_fields) > 0"
            " AND (NOT minor OR (verified_by IS NOT NULL AND cardinality(approved_by) >= 2)))",
            name=op.f("ck_disclosure_release_gate"),
        ),
        _reference("disclosure", "society_id", "society", "RESTRICT"),
        _reference("disclosure", "link_id", "candidate_link", "CASCADE"),
        _reference("disclosure", "tracing_request_id", "tracing_request", "CASCADE"),
        _reference("disclosure", "enquirer_id", "person", "CASCADE"),
        _reference("disclosure", "sought_person_id", "person", "CASCADE"),
        _reference("disclosure", "found_person_id", "person", "CASCADE"),
        _reference("disclosure", "consent_id", "consent_record", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure")),
        sa.UniqueConstraint("link_id", name=op.f("uq_disclosure_link_id")),
    )
    op.create_index(
        op.f("ix_disclosure_society_id_status_created_at"),
        "disclosure",
        ["society_id", "status", "created_at"],
    )
    for column in ("tracing_request_id", "found_person_id", "consent_id"):
        op.create_index(op.f(f"ix_disclosure_{column}"), "disclosure", [column])
    _isolate("disclosure")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON disclosure TO {APP_ROLE}")

    op.create_table(
        "disclosure_release",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("disclosure_id", sa.UUID(), nullable=False),
        sa.Column("fields", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("released_by", sa.Text(), nullable=False),
        _timestamp("released_at"),
        _reference("disclosure_release", "society_id", "society", "RESTRICT"),
        _reference("disclosure_release", "disclosure_id", "disclosure", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_release")),
    )
    op.create_index(
        op.f("ix_disclosure_release_disclosure_id"), "disclosure_release", ["disclosure_id"]
    )
    _isolate("disclosure_release")
    op.execute(f"GRANT SELECT, INSERT ON disclosure_release TO {APP_ROLE}")


def downgrade() -> None:
    op.drop_table("disclosure_release")
    op.drop_table("disclosure")
