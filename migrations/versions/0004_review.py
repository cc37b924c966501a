"""review: reviewers' decisions on candidate links (four-eyes where required)

Decisions are a society's data: FORCE row-level security and the `society_isolation` policy.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 08:48:28.793759
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APP_ROLE = "kintrace_app"


def upgrade() -> None:
    op.create_table('candidate_decision',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('link_id', sa.UUID(), nullable=False),
    sa.Column('decision', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.CheckConstraint("decision = 'confirm' OR reason IS NOT NULL", name=op.f('ck_candidate_decision_reject_reason')),
    sa.CheckConstraint("decision IN ('confirm', 'reject')", name=op.f('ck_candidate_decision_decision')),
    sa.CheckConstraint("reason IS NULL OR reason IN ('different_person', 'insufficient_information', 'duplicate_record', 'other')", name=op.f('ck_candidate_decision_reason')),
    sa.ForeignKeyConstraint(['link_id'], ['candidate_link.id'], name=op.f('fk_candidate_decision_link_id_candidate_link'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_candidate_decision_society_id_society'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidate_decision'))
    )
    op.create_index(op.f('ix_candidate_decision_link_id_decided_at'), 'candidate_decision', ['link_id', 'decided_at'], unique=False)
    op.add_column('candidate_link', sa.Column('reviews_required', sa.SmallInteger(), server_default=sa.text('1'), nullable=False))
    op.add_column('candidate_link', sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("ALTER TABLE candidate_decision ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE candidate_decision FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY society_isolation ON candidate_decision AS PERMISSIVE FOR ALL TO PUBLIC "
        "USING (society_id = kintrace_current_society()) "
        "WITH CHECK (society_id = kintrace_current_society())"
    )
    op.execute(f"GRANT SELECT, INSERT ON candidate_decision TO {APP_ROLE}")


def downgrade() -> None:
    op.drop_column('candidate_link', 'decided_at')
    op.drop_column('candidate_link', 'reviews_required')
    op.drop_index(op.f('ix_candidate_decision_link_id_decided_at'), table_name='candidate_decision')
    op.drop_table('candidate_decision')
