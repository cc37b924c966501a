"""registry: societies, tracing requests, persons, names, relationships, idempotency

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 05:58:36.181433
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('society',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.CheckConstraint("code ~ '^[a-z0-9][a-z0-9-]{0,31}$'", name=op.f('ck_society_code_format')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_society')),
    sa.UniqueConstraint('code', name=op.f('uq_society_code'))
    )
    op.create_table('idempotency_record',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('principal', sa.Text(), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('request_fingerprint', sa.Text(), nullable=False),
    sa.Column('response_status', sa.SmallInteger(), nullable=False),
    sa.Column('response_body', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('response_headers', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_idempotency_record_society_id_society'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_record')),
    sa.UniqueConstraint('society_id', 'principal', 'key', name=op.f('uq_idempotency_record_society_id_principal_key'))
    )
    op.create_index(op.f('ix_idempotency_record_expires_at'), 'idempotency_record', ['expires_at'], unique=False)
    op.create_table('reference_counter',
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_reference_counter_society_id_society'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('society_id', 'year', name=op.f('pk_reference_counter'))
    )
    op.create_table('tracing_request',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('reference_number', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('circumstances', sa.Text(), nullable=True),
    sa.Column('separation_place', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('separation_date', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(status = 'closed') = (closed_on IS NOT NULL)", name=op.f('ck_tracing_request_closed_on')),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('located_contact_restored', 'located_declines_contact', 'not_found', 'deceased', 'withdrawn_by_enquirer')", name=op.f('ck_tracing_request_outcome')),
    sa.CheckConstraint("status <> 'closed' OR outcome IS NOT NULL", name=op.f('ck_tracing_request_closed_outcome')),
    sa.CheckConstraint("status IN ('open', 'searching', 'candidate_under_review', 'located', 'closed')", name=op.f('ck_tracing_request_status')),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_tracing_request_society_id_society'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracing_request')),
    sa.UniqueConstraint('society_id', 'reference_number', name=op.f('uq_tracing_request_society_id_reference_number'))
    )
    op.create_index(op.f('ix_tracing_request_society_id_created_at_id'), 'tracing_request', ['society_id', 'created_at', 'id'], unique=False)
    op.create_index(op.f('ix_tracing_request_society_id_status_created_at_id'), 'tracing_request', ['society_id', 'status', 'created_at', 'id'], unique=False)
    op.create_table('person',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('tracing_request_id', sa.UUID(), nullable=True),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default='active', nullable=False),
    sa.Column('registration_kind', sa.Text(), nullable=True),
    sa.Column('registration_source', sa.Text(), nullable=True),
    sa.Column('registration_date', sa.Date(), nullable=True),
    sa.Column('sex', sa.Text(), server_default='unknown', nullable=False),
    sa.Column('birth_date', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('birth_place', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('nationalities', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('languages', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('father_name', sa.Text(), nullable=True),
    sa.Column('mother_name', sa.Text(), nullable=True),
    sa.Column('tribe_clan', sa.Text(), nullable=True),
    sa.Column('last_known_place', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('last_known_date', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('close_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(role = 'registration') = (registration_kind IS NOT NULL)", name=op.f('ck_person_registration_kind')),
    sa.CheckConstraint("(role = 'registration') = (tracing_request_id IS NULL)", name=op.f('ck_person_request_membership')),
    sa.CheckConstraint("registration_kind IS NULL OR registration_kind IN ('safe_and_well', 'found', 'detained', 'hospitalised', 'deceased')", name=op.f('ck_person_registration_kind_value')),
    sa.CheckConstraint("role IN ('enquirer', 'sought_person', 'registration')", name=op.f('ck_person_role')),
    sa.CheckConstraint("sex IN ('female', 'male', 'other', 'unknown')", name=op.f('ck_person_sex')),
    sa.CheckConstraint("status IN ('active', 'closed')", name=op.f('ck_person_status')),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_person_society_id_society'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tracing_request_id'], ['tracing_request.id'], name=op.f('fk_person_tracing_request_id_tracing_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person'))
    )
    op.create_index(op.f('ix_person_society_id_role_created_at_id'), 'person', ['society_id', 'role', 'created_at', 'id'], unique=False)
    op.create_index(op.f('ix_person_tracing_request_id'), 'person', ['tracing_request_id'], unique=False)
    op.create_index('uq_person_one_enquirer', 'person', ['tracing_request_id'], unique=True, postgresql_where=sa.text("role = 'enquirer'"))
    op.create_table('person_name',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('script', sa.Text(), nullable=True),
    sa.Column('full_name', sa.Text(), nullable=True),
    sa.Column('given_name', sa.Text(), nullable=True),
    sa.Column('family_name', sa.Text(), nullable=True),
    sa.Column('father_name', sa.Text(), nullable=True),
    sa.Column('grandfather_name', sa.Text(), nullable=True),
    sa.Column('other_name', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.CheckConstraint("kind IN ('primary', 'alias', 'nickname', 'maiden', 'former')", name=op.f('ck_person_name_kind')),
    sa.CheckConstraint('coalesce(full_name, given_name, family_name, father_name, grandfather_name, other_name) IS NOT NULL', name=op.f('ck_person_name_not_empty')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_name_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_person_name_society_id_society'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_name'))
    )
    op.create_index(op.f('ix_person_name_person_id_position'), 'person_name', ['person_id', 'position'], unique=False)
    op.create_table('person_relationship',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('tracing_request_id', sa.UUID(), nullable=False),
    sa.Column('enquirer_id', sa.UUID(), nullable=False),
    sa.Column('sought_person_id', sa.UUID(), nullable=False),
    sa.Column('relationship', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.CheckConstraint("relationship IN ('mother', 'father', 'son', 'daughter', 'brother', 'sister', 'half_brother', 'half_sister', 'spouse', 'grandmother', 'grandfather', 'grandson', 'granddaughter', 'aunt', 'uncle', 'niece', 'nephew', 'cousin', 'stepmother', 'stepfather', 'stepson', 'stepdaughter', 'guardian', 'ward', 'fiance', 'other_relative', 'other')", name=op.f('ck_person_relationship_relationship')),
    sa.CheckConstraint('enquirer_id <> sought_person_id', name=op.f('ck_person_relationship_distinct_persons')),
    sa.ForeignKeyConstraint(['enquirer_id'], ['person.id'], name=op.f('fk_person_relationship_enquirer_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_person_relationship_society_id_society'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['sought_person_id'], ['person.id'], name=op.f('fk_person_relationship_sought_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tracing_request_id'], ['tracing_request.id'], name=op.f('fk_person_relationship_tracing_request_id_tracing_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_relationship')),
    sa.UniqueConstraint('enquirer_id', 'sought_person_id', name=op.f('uq_person_relationship_enquirer_id_sought_person_id'))
    )
    op.create_index(op.f('ix_person_relationship_sought_person_id'), 'person_relationship', ['sought_person_id'], unique=False)
    op.create_index(op.f('ix_person_relationship_tracing_request_id'), 'person_relationship', ['tracing_request_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_person_relationship_tracing_request_id'), table_name='person_relationship')
    op.drop_index(op.f('ix_person_relationship_sought_person_id'), table_name='person_relationship')
    op.drop_table('person_relationship')
    op.drop_index(op.f('ix_person_name_person_id_position'), table_name='person_name')
    op.drop_table('person_name')
    op.drop_index('uq_person_one_enquirer', table_name='person', postgresql_where=sa.text("role = 'enquirer'"))
    op.drop_index(op.f('ix_person_tracing_request_id'), table_name='person')
    op.drop_index(op.f('ix_person_society_id_role_created_at_id'), table_name='person')
    op.drop_table('person')
    op.drop_index(op.f('ix_tracing_request_society_id_status_created_at_id'), table_name='tracing_request')
    op.drop_index(op.f('ix_tracing_request_society_id_created_at_id'), table_name='tracing_request')
    op.drop_table('tracing_request')
    op.drop_table('reference_counter')
    op.drop_index(op.f('ix_idempotency_record_expires_at'), table_name='idempotency_record')
    op.drop_table('idempotency_record')
    op.drop_table('society')
