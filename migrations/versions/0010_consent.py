"""consent: legal basis, whereabouts and contact, consent records, stopped tracing, partner
notices, withdrawn candidate links

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "kintrace_app"
LEGAL_BASES = "'consent', 'vital_interest', 'public_interest', 'legitimate_interest'"
OLD_LINK_EVENTS = (
    "'candidate.proposed', 'candidate.reproposed', 'candidate.confirmed', "
    "'candidate.rejected', 'decision.recorded'"
)
LINK_EVENTS = OLD_LINK_EVENTS + ", 'candidate.withdrawn'"


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


def upgrade() -> None:
    op.add_column("person", sa.Column("current_place", postgresql.JSONB(), nullable=True))
    op.add_column("person", sa.Column("contact", postgresql.JSONB(), nullable=True))
    op.add_column(
        "person",
        sa.Column("legal_basis", sa.Text(), server_default="vital_interest", nullable=False),
    )
    op.execute("UPDATE person SET legal_basis = 'consent' WHERE role = 'enquirer'")
    op.add_column("person", sa.Column("tracing_stopped", sa.Text(), nullable=True))
    op.add_column(
        "person", sa.Column("tracing_stopped_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_check_constraint(
        op.f("ck_person_legal_basis"), "person", f"legal_basis IN ({LEGAL_BASES})"
    )
    op.create_check_constraint(
        op.f("ck_person_tracing_stopped"),
        "person",
        "tracing_stopped IS NULL OR tracing_stopped IN ('consent_withdrawn', 'do_not_trace')",
    )
    op.create_check_constraint(
        op.f("ck_person_tracing_stopped_at"),
        "person",
        "(tracing_stopped IS NULL) = (tracing_stopped_at IS NULL)",
    )

    op.drop_constraint(op.f("ck_candidate_link_status"), "candidate_link")
    op.create_check_constraint(
        op.f("ck_candidate_link_status"),
        "candidate_link",
        "status IN ('proposed', 'confirmed', 'rejected', 'withdrawn')",
    )
    op.drop_constraint(op.f("ck_link_event_type"), "link_event")
    op.create_check_constraint(
        op.f("ck_link_event_type"),
        "link_event",
        f"type IN ({LINK_EVENTS})",
    )

    op.create_table(
        "consent_record",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("person_id", sa.UUID(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("given_by", sa.Text(), nullable=False),
        sa.Column("giver_name", sa.Text(), nullable=True),
        sa.Column("decision_reference", sa.Text(), nullable=True),
        sa.Column("obtained_how", sa.Text(), nullable=False),
        sa.Column("obtained_on", sa.Date(), nullable=False),
        sa.Column("enquirer_id", sa.UUID(), nullable=True),
        sa.Column(
            "fields", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        _timestamp("recorded_at"),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.Text(), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "scope IN ('tracing', 'partner_sharing', 'disclosure', 'publication')",
            name=op.f("ck_consent_record_scope"),
        ),
        sa.CheckConstraint(
            "given_by IN ('person', 'guardian', 'best_interest_decision')",
            name=op.f("ck_consent_record_given_by"),
        ),
        sa.CheckConstraint(
            "obtained_how IN ('in_person_signed', 'in_person_oral', 'telephone', 'written', "
            "'through_partner', 'condition_of_aid') AND obtained_how <> 'condition_of_aid'",
            name=op.f("ck_consent_record_obtained_how"),
        ),
        sa.CheckConstraint(
            "(scope = 'disclosure') = (enquirer_id IS NOT NULL AND cardinality(fields) > 0)",
            name=op.f("ck_consent_record_disclosure_target"),
        ),
        sa.CheckConstraint(
            "(withdrawn_at IS NULL) = (withdrawn_by IS NULL)",
            name=op.f("ck_consent_record_withdrawal"),
        ),
        sa.ForeignKeyConstraint(
            ["society_id"],
            ["society.id"],
            name=op.f("fk_consent_record_society_id_society"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_consent_record_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enquirer_id"],
            ["person.id"],
            name=op.f("fk_consent_record_enquirer_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_record")),
    )
    op.create_index(
        op.f("ix_consent_record_person_id_recorded_at"),
        "consent_record",
        ["person_id", "recorded_at"],
    )
    op.create_index(op.f("ix_consent_record_enquirer_id"), "consent_record", ["enquirer_id"])
    _isolate("consent_record")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON consent_record TO {APP_ROLE}")

    op.create_table(
        "partner_notice",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("person_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=True),
        _timestamp("created_at"),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('consent_withdrawn', 'do_not_trace', 'erased')",
            name=op.f("ck_partner_notice_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["society_id"],
            ["society.id"],
            name=op.f("fk_partner_notice_society_id_society"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_notice")),
    )
    op.create_index(
        op.f("ix_partner_notice_society_id_created_at"),
        "partner_notice",
        ["society_id", "created_at"],
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    _isolate("partner_notice")
    op.execute(f"GRANT SELECT, INSERT ON partner_notice TO {APP_ROLE}")


def downgrade() -> None:
    op.drop_table("partner_notice")
    op.drop_table("consent_record")
    op.execute("DELETE FROM link_event WHERE type = 'candidate.withdrawn'")
    op.drop_constraint(op.f("ck_link_event_type"), "link_event")
    op.create_check_constraint(
        op.f("ck_link_event_type"), "link_event", f"type IN ({OLD_LINK_EVENTS})"
    )
    op.execute("UPDATE candidate_link SET status = 'proposed' WHERE status = 'withdrawn'")
    op.drop_constraint(op.f("ck_candidate_link_status"), "candidate_link")
    op.create_check_constraint(
        op.f("ck_candidate_link_status"),
        "candidate_link",
        "status IN ('proposed', 'confirmed', 'rejected')",
    )
    for constraint in ("tracing_stopped_at", "tracing_stopped", "legal_basis"):
        op.drop_constraint(op.f(f"ck_person_{constraint}"), "person")
    for column in ("tracing_stopped_at", "tracing_stopped", "legal_basis", "contact"):
        op.drop_column("person", column)
    op.drop_column("person", "current_place")
