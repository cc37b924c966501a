"""candidates: blocking keys, the match job queue, candidate links

Each table holds a society's data: FORCE row-level security with the `society_isolation`
policy of migration 0002, and DML for the request role (workers run as it too).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 08:30:29.898575
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APP_ROLE = "kintrace_app"
TABLES = ("person_key", "match_job", "candidate_link")


def _isolate(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY society_isolation ON {table} AS PERMISSIVE FOR ALL TO PUBLIC "
        "USING (society_id = kintrace_current_society()) "
        "WITH CHECK (society_id = kintrace_current_society())"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")


def upgrade() -> None:
    op.create_table('candidate_link',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('left_person_id', sa.UUID(), nullable=False),
    sa.Column('right_person_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default=sa.text("'proposed'"), nullable=False),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.Column('match_weight', sa.Float(), nullable=False),
    sa.Column('explanation', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('model_version', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('sought_registration', 'sought_enquirer', 'reciprocal', 'same_sought_person', 'duplicate_registration')", name=op.f('ck_candidate_link_kind')),
    sa.CheckConstraint("status IN ('proposed', 'confirmed', 'rejected')", name=op.f('ck_candidate_link_status')),
    sa.CheckConstraint('left_person_id < right_person_id', name=op.f('ck_candidate_link_ordered_pair')),
    sa.CheckConstraint('probability >= 0 AND probability <= 1', name=op.f('ck_candidate_link_probability')),
    sa.ForeignKeyConstraint(['left_person_id'], ['person.id'], name=op.f('fk_candidate_link_left_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['right_person_id'], ['person.id'], name=op.f('fk_candidate_link_right_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_candidate_link_society_id_society'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidate_link')),
    sa.UniqueConstraint('society_id', 'left_person_id', 'right_person_id', name=op.f('uq_candidate_link_society_id_left_person_id_right_person_id'))
    )
    op.create_index(op.f('ix_candidate_link_right_person_id'), 'candidate_link', ['right_person_id'], unique=False)
    op.create_index(op.f('ix_candidate_link_society_id_status_probability'), 'candidate_link', ['society_id', 'status', 'probability'], unique=False)
    op.create_table('match_job',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.Column('enqueued_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('leased_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_match_job_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_match_job_society_id_society'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_job'))
    )
    op.create_index(op.f('ix_match_job_society_id_available_at'), 'match_job', ['society_id', 'available_at'], unique=False, postgresql_where=sa.text('finished_at IS NULL'))
    op.create_index('uq_match_job_pending_person', 'match_job', ['person_id'], unique=True, postgresql_where=sa.text('finished_at IS NULL'))
    op.create_table('person_key',
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('key_digest', sa.LargeBinary(), nullable=False),
    sa.Column('person_role', sa.Text(), nullable=False),
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.CheckConstraint("kind IN ('n', 'f', 'y')", name=op.f('ck_person_key_kind')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_key_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_person_key_society_id_society'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('society_id', 'key_digest', 'person_role', 'person_id', name=op.f('pk_person_key'))
    )
    op.create_index(op.f('ix_person_key_person_id'), 'person_key', ['person_id'], unique=False)
    for table in TABLES:
        _isolate(table)


def downgrade() -> None:
    op.drop_index(op.f('ix_person_key_person_id'), table_name='person_key')
    op.drop_table('person_key')
    op.drop_index('uq_match_job_pending_person', table_name='match_job', postgresql_where=sa.text('finished_at IS NULL'))
    op.drop_index(op.f('ix_match_job_society_id_available_at'), table_name='match_job', postgresql_where=sa.text('finished_at IS NULL'))
    op.drop_table('match_job')
    op.drop_index(op.f('ix_candidate_link_society_id_status_probability'), table_name='candidate_link')
    op.drop_index(op.f('ix_candidate_link_right_person_id'), table_name='candidate_link')
    op.drop_table('candidate_link')
