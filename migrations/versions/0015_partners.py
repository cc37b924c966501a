"""partners: sharing grants (visible to both societies, written by the sharing one), the
transfers ledger, webhook subscriptions and their durable outbox; grant-aware row-level
security on persons, their names and data keys for transactions that turn shared reading on

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-21 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.helpers import created_at, grant, isolate, society_fk

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD_KINDS = "'tracing_request', 'registration'"
FIELDS = (
    "'names', 'sex', 'birth_date', 'birth_place', 'nationalities', 'languages', "
    "'father_name', 'mother_name', 'tribe_clan', 'last_known_place', 'last_known_date', "
    "'registration', 'notes'"
)
LEGAL_BASES = "'consent', 'vital_interest', 'public_interest', 'legitimate_interest'"
EVENT_TYPES = (
    "'candidate.proposed', 'candidate.reproposed', 'candidate.confirmed', "
    "'candidate.rejected', 'candidate.withdrawn', 'decision.recorded', "
    "'person.consent_withdrawn', 'person.do_not_trace', 'person.erased', 'grant.revoked'"
)
SHARED_READ = "current_setting('kintrace.shared_read', true) = 'on'"


def _grants() -> None:
    op.create_table(
        "sharing_grant",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("recipient_society_id", sa.UUID(), nullable=False),
        sa.Column(
            "record_kinds", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "tracing_request_ids", postgresql.ARRAY(sa.UUID()), server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("fields", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        created_at(),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Text(), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.Column("revocation_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "society_id <> recipient_society_id", name=op.f("ck_sharing_grant_another_society")
        ),
        sa.CheckConstraint(
            "cardinality(record_kinds) > 0 OR cardinality(tracing_request_ids) > 0",
            name=op.f("ck_sharing_grant_shares_something"),
        ),
        sa.CheckConstraint(
            f"record_kinds <@ ARRAY[{RECORD_KINDS}]::text[]",
            name=op.f("ck_sharing_grant_record_kinds"),
        ),
        sa.CheckConstraint(
            f"cardinality(fields) > 0 AND fields <@ ARRAY[{FIELDS}]::text[]",
            name=op.f("ck_sharing_grant_fields"),
        ),
        sa.CheckConstraint(
            "purpose IN ('restoring_family_links')", name=op.f("ck_sharing_grant_purpose")
        ),
        sa.CheckConstraint(
            f"legal_basis IN ({LEGAL_BASES})", name=op.f("ck_sharing_grant_legal_basis")
        ),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoked_by IS NULL) AND "
            "(revoked_at IS NULL) = (revocation_reason IS NULL)",
            name=op.f("ck_sharing_grant_revocation"),
        ),
        society_fk("sharing_grant"),
        society_fk("sharing_grant", "recipient_society_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_grant")),
    )
    op.create_index(
        op.f("ix_sharing_grant_recipient_society_id_society_id"),
        "sharing_grant",
        ["recipient_society_id", "society_id"],
    )
    isolate("sharing_grant")
    # The recipient reads the grants it received (only the sharing society writes them).
    op.execute(
        "CREATE POLICY grant_recipient ON sharing_grant AS PERMISSIVE FOR SELECT TO PUBLIC "
        "USING (recipient_society_id = kintrace_current_society())"
    )
    grant("sharing_grant", "SELECT, INSERT, UPDATE")


def _ledger() -> None:
    op.create_table(
        "transfer",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("recipient_society_id", sa.UUID(), nullable=False),
        sa.Column("grant_id", sa.UUID(), nullable=False),
        sa.Column("record_id", sa.UUID(), nullable=False),
        sa.Column("fields", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("received_by", sa.Text(), nullable=False),
        created_at("sent_at"),
        sa.CheckConstraint("channel IN ('api', 'pfif_export')", name=op.f("ck_transfer_channel")),
        society_fk("transfer"),
        society_fk("transfer", "recipient_society_id"),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["sharing_grant.id"],
            name=op.f("fk_transfer_grant_id_sharing_grant"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer")),
    )
    op.create_index(op.f("ix_transfer_society_id_sent_at"), "transfer", ["society_id", "sent_at"])
    op.create_index(
        op.f("ix_transfer_recipient_society_id_sent_at"),
        "transfer",
        ["recipient_society_id", "sent_at"],
    )
    op.create_index(op.f("ix_transfer_record_id"), "transfer", ["record_id"])
    op.execute("ALTER TABLE transfer ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE transfer FORCE ROW LEVEL SECURITY")
    # The recipient's session writes the entry as it reads the records; both parties see it.
    op.execute(
        "CREATE POLICY society_isolation ON transfer AS PERMISSIVE FOR ALL TO PUBLIC "
        "USING (society_id = kintrace_current_society() "
        "OR recipient_society_id = kintrace_current_society()) "
        "WITH CHECK (recipient_society_id = kintrace_current_society() "
        "OR society_id = kintrace_current_society())"
    )
    grant("transfer", "SELECT, INSERT")


def _webhooks() -> None:
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column(
            "link_events_after", sa.BigInteger(), server_default=sa.text("0"), nullable=False
        ),
        created_at(),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            f"cardinality(event_types) > 0 AND event_types <@ ARRAY[{EVENT_TYPES}]::text[]",
            name=op.f("ck_webhook_subscription_event_types"),
        ),
        sa.CheckConstraint("url LIKE 'http%'", name=op.f("ck_webhook_subscription_url")),
        society_fk("webhook_subscription"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscription")),
    )
    op.create_index(
        op.f("ix_webhook_subscription_society_id"), "webhook_subscription", ["society_id"]
    )
    isolate("webhook_subscription")
    grant("webhook_subscription", "SELECT, INSERT, UPDATE")

    op.create_table(
        "webhook_message",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("society_id", sa.UUID(), nullable=False),
        sa.Column("subscription_id", sa.UUID(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("subject_id", sa.UUID(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=True,
        ),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        created_at(),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name=op.f("ck_webhook_message_status")
        ),
        society_fk("webhook_message"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
            name=op.f("fk_webhook_message_subscription_id_webhook_subscription"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_message")),
        sa.UniqueConstraint("seq", name=op.f("uq_webhook_message_seq")),
    )
    op.create_index(
        op.f("ix_webhook_message_next_attempt_at"),
        "webhook_message",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        op.f("ix_webhook_message_subscription_id_subject_id_seq"),
        "webhook_message",
        ["subscription_id", "subject_id", "seq"],
    )
    isolate("webhook_message")
    grant("webhook_message", "SELECT, INSERT, UPDATE")
    # The outbox marks a partner notice once it is in every outbox it belongs in.
    grant("partner_notice", "UPDATE (delivered_at)")


def _shared_reading() -> None:
    """Another society's person is visible only inside a transaction that turned shared
    reading on, only while a grant in force covers it, and never when sensitive, out of
    tracing or archived. Names and data keys follow their person."""
    op.execute(
        """
        CREATE FUNCTION kintrace_person_shared(owner uuid, request uuid, person_role text)
        RETURNS boolean LANGUAGE sql STABLE
        AS $$
          SELECT EXISTS (
            SELECT 1 FROM sharing_grant g
            WHERE g.society_id = owner
              AND g.recipient_society_id = kintrace_current_society()
              AND g.revoked_at IS NULL
              AND g.valid_until > now()
              AND ((CASE WHEN person_role = 'registration' THEN 'registration'
                         ELSE 'tracing_request' END) = ANY (g.record_kinds)
                   OR request = ANY (g.tracing_request_ids))
          )
        $$
        """
    )
    op.execute(
        "CREATE POLICY shared_read ON person AS PERMISSIVE FOR SELECT TO PUBLIC "
        f"USING ({SHARED_READ} AND society_id <> kintrace_current_society() "
        "AND NOT sensitive AND tracing_stopped IS NULL AND archived_at IS NULL "
        "AND status = 'active' "
        "AND kintrace_person_shared(society_id, tracing_request_id, role))"
    )
    op.execute(
        "CREATE POLICY shared_read ON person_name AS PERMISSIVE FOR SELECT TO PUBLIC "
        f"USING ({SHARED_READ} AND EXISTS "
        "(SELECT 1 FROM person p WHERE p.id = person_name.person_id))"
    )
    op.execute(
        "CREATE POLICY shared_read ON data_key AS PERMISSIVE FOR SELECT TO PUBLIC "
        f"USING ({SHARED_READ} AND EXISTS (SELECT 1 FROM person p WHERE p.id = data_key.owner_id))"
    )


def upgrade() -> None:
    _grants()
    _ledger()
    _webhooks()
    _shared_reading()


def downgrade() -> None:
    for table in ("data_key", "person_name", "person"):
        op.execute(f"DROP POLICY shared_read ON {table}")
    op.execute("DROP FUNCTION kintrace_person_shared(uuid, uuid, text)")
    op.execute("REVOKE UPDATE (delivered_at) ON partner_notice FROM kintrace_app")
    op.drop_table("webhook_message")
    op.drop_table("webhook_subscription")
    op.drop_table("transfer")
    op.drop_table("sharing_grant")
