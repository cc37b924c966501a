"""events: a per-society feed of candidate links and decisions, written by triggers

The counter row of a society is locked by the transaction that writes an event until it
commits, so event numbers are contiguous and in commit order (a rolled-back transaction gives
its number back). Both tables hold a society's data: FORCE RLS and `society_isolation`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 09:06:16.597119
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APP_ROLE = "kintrace_app"


def upgrade() -> None:
    op.create_table('event_counter',
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_event_counter_society_id_society'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('society_id', name=op.f('pk_event_counter'))
    )
    op.create_table('link_event',
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.Text(), nullable=False),
    sa.Column('link_id', sa.UUID(), nullable=False),
    sa.Column('decision_id', sa.UUID(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.CheckConstraint("type IN ('candidate.proposed', 'candidate.reproposed', 'candidate.confirmed', 'candidate.rejected', 'decision.recorded')", name=op.f('ck_link_event_type')),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_link_event_society_id_society'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('society_id', 'seq', name=op.f('pk_link_event'))
    )
    for table in ("event_counter", "link_event"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY society_isolation ON {table} AS PERMISSIVE FOR ALL TO PUBLIC "
            "USING (society_id = kintrace_current_society()) "
            "WITH CHECK (society_id = kintrace_current_society())"
        )
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON event_counter TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT ON link_event TO {APP_ROLE}")
    op.execute(
        """
        CREATE FUNCTION kintrace_link_event() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          next_seq bigint;
          event_type text;
          event_link uuid;
          event_decision uuid;
        BEGIN
          IF TG_TABLE_NAME = 'candidate_decision' THEN
            event_type := 'decision.recorded';
            event_link := NEW.link_id;
            event_decision := NEW.id;
          ELSIF TG_OP = 'INSERT' THEN
            event_type := 'candidate.proposed';
            event_link := NEW.id;
          ELSE
            event_type := 'candidate.' || CASE NEW.status
              WHEN 'proposed' THEN 'reproposed' ELSE NEW.status END;
            event_link := NEW.id;
          END IF;
          INSERT INTO event_counter AS c (society_id, last_seq) VALUES (NEW.society_id, 1)
            ON CONFLICT (society_id) DO UPDATE SET last_seq = c.last_seq + 1
            RETURNING last_seq INTO next_seq;
          INSERT INTO link_event (society_id, seq, type, link_id, decision_id)
            VALUES (NEW.society_id, next_seq, event_type, event_link, event_decision);
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER candidate_link_proposed AFTER INSERT ON candidate_link "
        "FOR EACH ROW EXECUTE FUNCTION kintrace_link_event()"
    )
    op.execute(
        "CREATE TRIGGER candidate_link_status AFTER UPDATE OF status ON candidate_link "
        "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) "
        "EXECUTE FUNCTION kintrace_link_event()"
    )
    op.execute(
        "CREATE TRIGGER candidate_decision_recorded AFTER INSERT ON candidate_decision "
        "FOR EACH ROW EXECUTE FUNCTION kintrace_link_event()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER candidate_decision_recorded ON candidate_decision")
    op.execute("DROP TRIGGER candidate_link_status ON candidate_link")
    op.execute("DROP TRIGGER candidate_link_proposed ON candidate_link")
    op.execute("DROP FUNCTION kintrace_link_event()")
    op.drop_table('link_event')
    op.drop_table('event_counter')

