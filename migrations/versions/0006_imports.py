"""imports: resumable bulk imports (a society's data: FORCE RLS and `society_isolation`)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 09:09:49.659566
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APP_ROLE = "kintrace_app"


def upgrade() -> None:
    op.create_table('import_run',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('file_digest', sa.Text(), nullable=False),
    sa.Column('file_name', sa.Text(), nullable=False),
    sa.Column('total_items', sa.Integer(), nullable=False),
    sa.Column('next_item', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('imported', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('failed', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_import_run_society_id_society'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_run')),
    sa.UniqueConstraint('society_id', 'file_digest', name=op.f('uq_import_run_society_id_file_digest'))
    )
    op.execute("ALTER TABLE import_run ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE import_run FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY society_isolation ON import_run AS PERMISSIVE FOR ALL TO PUBLIC "
        "USING (society_id = kintrace_current_society()) "
        "WITH CHECK (society_id = kintrace_current_society())"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON import_run TO {APP_ROLE}")


def downgrade() -> None:
    op.drop_table('import_run')

