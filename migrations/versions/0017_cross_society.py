"""matching across societies under sharing grants: cross-society candidate links, the grant-aware
reading of blocking keys, and match jobs a sharing society queues for its recipients (RLS)

A recipient matches records shared with it in its own worker sessions (shared reading on):

- its persons probe the sharing society's keys (`person_key.shared_read`: only persons a grant
  in force covers, never sensitive, stopped, archived or closed ones);
- a shared person, when created or changed, is queued in the recipient's match queue
  (`match_job.shared_match`: only a person of the queuing society that one of its grants to the
  recipient covers) and probes the recipient's own keys.

The link is stored in the recipient's society with the sharing society as `partner_society_id`;
the partner reads it and records its reviewers' decisions on it (`partner_read`,
`partner_review`), and each side's reviewers confirm it for their side (`confirmed_by`); once
both have, each side's worker marks its own sought persons' requests located (`located_for`). A
recipient may share-lock a shared person (`person.shared_lock`) so that a withdrawal committing
meanwhile waits for the link to be stored, and then withdraws it; it can never update one.
Feed events of a cross-society link go to both societies' feeds (`cross_feed`). The shared-read
policies of names and data keys (0015) are recreated to test the society first, as the keys'
policy does, so that a society's own rows skip the per-row person lookup.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-21 20:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.helpers import society_fk

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURRENT = "kintrace_current_society()"
SHARED_PERSON = (
    "current_setting('kintrace.shared_read', true) = 'on' "
    f"AND society_id <> {CURRENT} "
    "AND NOT sensitive AND tracing_stopped IS NULL AND archived_at IS NULL "
    "AND status = 'active' "
    "AND kintrace_person_shared(society_id, tracing_request_id, role)"
)
# A link between the two societies, seen from either (`other` is the table's society column).
LINKED = (
    "EXISTS (SELECT 1 FROM candidate_link l WHERE "
    f"(l.society_id = {CURRENT} AND l.partner_society_id = {{other}}) OR "
    f"(l.partner_society_id = {CURRENT} AND l.society_id = {{other}}))"
)


def _shared_follower(table: str, column: str) -> str:
    """A row of another society that follows its person into a shared-reading transaction."""
    return (
        "current_setting('kintrace.shared_read', true) = 'on' "
        f"AND society_id <> {CURRENT} "
        f"AND EXISTS (SELECT 1 FROM person p WHERE p.id = {table}.{column})"
    )


def _links() -> None:
    op.add_column("candidate_link", sa.Column("partner_society_id", sa.UUID(), nullable=True))
    op.add_column(
        "candidate_link",
        sa.Column(
            "confirmed_by",
            postgresql.ARRAY(sa.UUID()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    op.add_column(
        "candidate_link",
        sa.Column(
            "located_for",
            postgresql.ARRAY(sa.UUID()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    fk = society_fk("candidate_link", "partner_society_id")
    op.create_foreign_key(
        fk.name, "candidate_link", "society", ["partner_society_id"], ["id"], ondelete="RESTRICT"
    )
    op.create_check_constraint(
        op.f("ck_candidate_link_another_society"),
        "candidate_link",
        "partner_society_id IS NULL OR partner_society_id <> society_id",
    )
    op.create_index(
        op.f("ix_candidate_link_partner_society_id_status_probability"),
        "candidate_link",
        ["partner_society_id", "status", "probability"],
        postgresql_where=sa.text("partner_society_id IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_candidate_link_society_id_partner_society_id"),
        "candidate_link",
        ["society_id", "partner_society_id"],
        postgresql_where=sa.text("partner_society_id IS NOT NULL"),
    )
    op.execute(
        "CREATE POLICY partner_read ON candidate_link AS PERMISSIVE FOR SELECT TO PUBLIC "
        f"USING (partner_society_id = {CURRENT})"
    )
    op.execute(
        "CREATE POLICY partner_review ON candidate_link AS PERMISSIVE FOR UPDATE TO PUBLIC "
        f"USING (partner_society_id = {CURRENT}) WITH CHECK (partner_society_id = {CURRENT})"
    )


def _keys_and_jobs() -> None:
    # Whether a grant's categories or requests cover a person (as `kintrace_person_shared`
    # of 0015 decides it); the match-job policy and the service's grant queries use it.
    op.execute(
        """
        CREATE FUNCTION kintrace_grant_covers(
          record_kinds text[], request_ids uuid[], person_role text, request uuid
        ) RETURNS boolean LANGUAGE sql IMMUTABLE
        AS $$
          SELECT (CASE WHEN person_role = 'registration' THEN 'registration'
                       ELSE 'tracing_request' END) = ANY (record_kinds)
                 OR request = ANY (request_ids)
        $$
        """
    )
    op.execute(
        "CREATE POLICY shared_read ON person_key AS PERMISSIVE FOR SELECT TO PUBLIC "
        f"USING ({_shared_follower('person_key', 'person_id')})"
    )
    # The names and data keys of 0015 follow their person the same way; the society test first
    # spares the society's own rows the per-row person lookup in a shared-reading transaction.
    for table, column in (("person_name", "person_id"), ("data_key", "owner_id")):
        op.execute(f"DROP POLICY shared_read ON {table}")
        op.execute(
            f"CREATE POLICY shared_read ON {table} AS PERMISSIVE FOR SELECT TO PUBLIC "
            f"USING ({_shared_follower(table, column)})"
        )
    op.execute(
        "CREATE POLICY shared_lock ON person AS PERMISSIVE FOR UPDATE TO PUBLIC "
        f"USING ({SHARED_PERSON}) WITH CHECK (false)"
    )
    op.drop_index("uq_match_job_pending_person", table_name="match_job")
    op.create_index(
        "uq_match_job_pending_person",
        "match_job",
        ["society_id", "person_id"],
        unique=True,
        postgresql_where=sa.text("finished_at IS NULL"),
    )
    op.create_index(op.f("ix_match_job_person_id"), "match_job", ["person_id"])
    op.execute(
        "CREATE POLICY shared_match ON match_job AS PERMISSIVE FOR INSERT TO PUBLIC "
        "WITH CHECK (EXISTS ("
        "SELECT 1 FROM person p JOIN sharing_grant g ON g.society_id = p.society_id "
        f"WHERE p.id = match_job.person_id AND p.society_id = {CURRENT} "
        "AND g.recipient_society_id = match_job.society_id "
        "AND g.revoked_at IS NULL AND g.valid_until > now() "
        "AND kintrace_grant_covers(g.record_kinds, g.tracing_request_ids, "
        "p.role, p.tracing_request_id)))"
    )


def _feeds() -> None:
    op.execute(
        "CREATE POLICY cross_feed ON link_event AS PERMISSIVE FOR INSERT TO PUBLIC "
        "WITH CHECK (EXISTS (SELECT 1 FROM candidate_link l WHERE l.id = link_event.link_id "
        f"AND ((l.society_id = {CURRENT} AND l.partner_society_id = link_event.society_id) "
        f"OR (l.partner_society_id = {CURRENT} AND l.society_id = link_event.society_id))))"
    )
    linked = LINKED.format(other="event_counter.society_id")
    op.execute(
        "CREATE POLICY cross_feed ON event_counter AS PERMISSIVE FOR ALL TO PUBLIC "
        f"USING ({linked}) WITH CHECK ({linked})"
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION kintrace_link_event() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          next_seq bigint;
          event_type text;
          event_link uuid;
          event_decision uuid;
          feed uuid;
          feeds uuid[];
        BEGIN
          IF TG_TABLE_NAME = 'candidate_decision' THEN
            event_type := 'decision.recorded';
            event_link := NEW.link_id;
            event_decision := NEW.id;
            feeds := ARRAY[NEW.society_id];
          ELSE
            IF TG_OP = 'INSERT' THEN
              event_type := 'candidate.proposed';
            ELSE
              event_type := 'candidate.' || CASE NEW.status
                WHEN 'proposed' THEN 'reproposed' ELSE NEW.status END;
            END IF;
            event_link := NEW.id;
            feeds := ARRAY[NEW.society_id];
            IF NEW.partner_society_id IS NOT NULL THEN
              feeds := feeds || NEW.partner_society_id;
            END IF;
          END IF;
          FOREACH feed IN ARRAY feeds LOOP
            INSERT INTO event_counter AS c (society_id, last_seq) VALUES (feed, 1)
              ON CONFLICT (society_id) DO UPDATE SET last_seq = c.last_seq + 1
              RETURNING last_seq INTO next_seq;
            INSERT INTO link_event (society_id, seq, type, link_id, decision_id)
              VALUES (feed, next_seq, event_type, event_link, event_decision);
          END LOOP;
          RETURN NULL;
        END $$
        """
    )


def upgrade() -> None:
    _links()
    _keys_and_jobs()
    _feeds()


def downgrade() -> None:
    op.execute("DROP POLICY cross_feed ON event_counter")
    op.execute("DROP POLICY cross_feed ON link_event")
    op.execute("DROP POLICY shared_match ON match_job")
    op.execute("DROP FUNCTION kintrace_grant_covers(text[], uuid[], text, uuid)")
    op.drop_index(op.f("ix_match_job_person_id"), table_name="match_job")
    op.drop_index("uq_match_job_pending_person", table_name="match_job")
    op.create_index(
        "uq_match_job_pending_person",
        "match_job",
        ["person_id"],
        unique=True,
        postgresql_where=sa.text("finished_at IS NULL"),
    )
    op.execute("DROP POLICY shared_lock ON person")
    op.execute("DROP POLICY shared_read ON person_key")
    for table, column in (("person_name", "person_id"), ("data_key", "owner_id")):
        op.execute(f"DROP POLICY shared_read ON {table}")
        op.execute(
            f"CREATE POLICY shared_read ON {table} AS PERMISSIVE FOR SELECT TO PUBLIC "
            "USING (current_setting('kintrace.shared_read', true) = 'on' AND EXISTS "
            f"(SELECT 1 FROM person p WHERE p.id = {table}.{column}))"
        )
    op.execute("DROP POLICY partner_review ON candidate_link")
    op.execute("DROP POLICY partner_read ON candidate_link")
    op.drop_index(
        op.f("ix_candidate_link_society_id_partner_society_id"), table_name="candidate_link"
    )
    op.drop_index(
        op.f("ix_candidate_link_partner_society_id_status_probability"),
        table_name="candidate_link",
    )
    op.drop_constraint(op.f("ck_candidate_link_another_society"), "candidate_link")
    op.drop_constraint(
        op.f("fk_candidate_link_partner_society_id_society"), "candidate_link", type_="foreignkey"
    )
    op.drop_column("candidate_link", "located_for")
    op.drop_column("candidate_link", "confirmed_by")
    op.drop_column("candidate_link", "partner_society_id")
    # The feed trigger of 0005 (one feed per event) is restored by re-running 0005's body.
    op.execute(
        """
        CREATE OR REPLACE FUNCTION kintrace_link_event() RETURNS trigger LANGUAGE plpgsql AS $$
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
