"""search: flags for unusual search volume (RLS), and an index to count a caller's searches

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 09:30:34.452165
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APP_ROLE = "kintrace_app"


def upgrade() -> None:
    op.create_table('search_flag',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('principal', sa.Text(), nullable=False),
    sa.Column('searches_last_hour', sa.Integer(), nullable=False),
    sa.Column('rule', sa.Text(), nullable=False),
    sa.Column('flagged_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_search_flag_society_id_society'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_flag'))
    )
    op.create_index(op.f('ix_search_flag_principal'), 'search_flag', ['principal'], unique=False)
    op.create_index(op.f('ix_search_flag_society_id_flagged_at'), 'search_flag', ['society_id', 'flagged_at'], unique=False)
    op.create_index(op.f('ix_audit_event_actor_action_occurred_at'), 'audit_event', ['actor', 'action', 'occurred_at'], unique=False)
    op.execute("ALTER TABLE search_flag ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE search_flag FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY society_isolation ON search_flag AS PERMISSIVE FOR ALL TO PUBLIC "
        "USING (society_id = kintrace_current_society()) "
        "WITH CHECK (society_id = kintrace_current_society())"
    )
    op.execute(f"GRANT SELECT, INSERT ON search_flag TO {APP_ROLE}")


def downgrade() -> None:
    op.drop_index(op.f('ix_audit_event_actor_action_occurred_at'), table_name='audit_event')
    op.drop_index(op.f('ix_search_flag_society_id_flagged_at'), table_name='search_flag')
    op.drop_index(op.f('ix_search_flag_principal'), table_name='search_flag')
    op.drop_table('search_flag')

