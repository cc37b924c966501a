"""security: identity, audit, roles and row-level security

Creates the two restricted roles the service switches to (`SET ROLE`): `kintrace_app` for the
request path (tenant tables only, under row-level security) and `kintrace_auth` for the token
issuer (identity tables only). Neither is a superuser, owns a table, or has BYPASSRLS. Roles
belong to the cluster, so they are created if missing and never dropped by the downgrade.

Every table holding a society's data gets `FORCE ROW LEVEL SECURITY` and one permissive policy,
`society_isolation`, keyed on the society set per transaction (`kintrace.society_id`). A later
sharing grant adds visibility with a further permissive policy; nothing needs BYPASSRLS.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 07:48:36.135744
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APP_ROLE = "kintrace_app"
AUTH_ROLE = "kintrace_auth"

# Tables holding a society's data, isolated by row-level security.
TENANT_TABLES = (
    "tracing_request",
    "person",
    "person_name",
    "person_relationship",
    "idempotency_record",
    "reference_counter",
    "audit_event",
    "audit_seal",
    "audit_unsealed",
)
APPEND_ONLY_TABLES = ("audit_event", "audit_seal")
IDENTITY_TABLES = ("app_user", "api_client", "refresh_token", "signing_key")


def _create_roles() -> None:
    for role in (APP_ROLE, AUTH_ROLE):
        op.execute(
            f"""
            DO $$
            BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
                  NOINHERIT;
              END IF;
            END $$
            """
        )
        # The owner connection must be allowed to switch to the role (a no-op for a superuser).
        op.execute(f"GRANT {role} TO CURRENT_USER")


def _grant_privileges() -> None:
    for role in (APP_ROLE, AUTH_ROLE):
        op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        op.execute(f"GRANT SELECT ON society, alembic_version TO {role}")
    for table in TENANT_TABLES:
        if table in APPEND_ONLY_TABLES:
            op.execute(f"GRANT SELECT, INSERT ON {table} TO {APP_ROLE}")
        else:
            op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")
    op.execute(f"GRANT USAGE ON SEQUENCE audit_event_position_seq TO {APP_ROLE}")
    for table in IDENTITY_TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON {table} TO {AUTH_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, DELETE ON client_assertion_use TO {AUTH_ROLE}")


def _isolate_societies() -> None:
    op.execute(
        """
        CREATE FUNCTION kintrace_current_society() RETURNS uuid
        LANGUAGE sql STABLE PARALLEL SAFE
        AS $$ SELECT NULLIF(current_setting('kintrace.society_id', true), '')::uuid $$
        """
    )
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY society_isolation ON {table} AS PERMISSIVE FOR ALL TO PUBLIC "
            "USING (society_id = kintrace_current_society()) "
            "WITH CHECK (society_id = kintrace_current_society())"
        )


def _make_audit_append_only() -> None:
    op.execute(
        """
        CREATE FUNCTION kintrace_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION kintrace_audit_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO audit_unsealed (event_id, society_id, position)
          VALUES (NEW.id, NEW.society_id, NEW.position);
          RETURN NULL;
        END $$
        """
    )
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION kintrace_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION kintrace_refuse_change()"
        )
    op.execute(
        "CREATE TRIGGER audit_event_enqueue AFTER INSERT ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION kintrace_audit_enqueue()"
    )


def upgrade() -> None:
    _create_roles()
    op.execute("CREATE SEQUENCE audit_event_position_seq")
    op.create_table('client_assertion_use',
    sa.Column('client_id', sa.Text(), nullable=False),
    sa.Column('jti', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('client_id', 'jti', name=op.f('pk_client_assertion_use'))
    )
    op.create_index(op.f('ix_client_assertion_use_expires_at'), 'client_assertion_use', ['expires_at'], unique=False)
    op.create_table('signing_key',
    sa.Column('kid', sa.Text(), nullable=False),
    sa.Column('alg', sa.Text(), nullable=False),
    sa.Column('private_key', sa.Text(), nullable=False),
    sa.Column('public_jwk', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("alg IN ('ES256', 'RS256')", name=op.f('ck_signing_key_alg')),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_signing_key'))
    )
    op.create_table('api_client',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('client_id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('roles', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('jwks', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.CheckConstraint("client_id ~ '^[A-Za-z0-9._-]{8,64}$'", name=op.f('ck_api_client_client_id_format')),
    sa.CheckConstraint("roles <@ ARRAY['caseworker', 'reviewer', 'supervisor', 'auditor', 'data_protection_officer', 'admin', 'partner']::text[]", name=op.f('ck_api_client_roles')),
    sa.CheckConstraint('cardinality(roles) > 0', name=op.f('ck_api_client_has_role')),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_api_client_society_id_society'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_client')),
    sa.UniqueConstraint('client_id', name=op.f('uq_api_client_client_id'))
    )
    op.create_index(op.f('ix_api_client_society_id'), 'api_client', ['society_id'], unique=False)
    op.create_table('app_user',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('username', sa.Text(), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('roles', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('totp_secret', sa.Text(), nullable=True),
    sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
    sa.Column('failed_logins', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.CheckConstraint("roles <@ ARRAY['caseworker', 'reviewer', 'supervisor', 'auditor', 'data_protection_officer', 'admin', 'partner']::text[]", name=op.f('ck_app_user_roles')),
    sa.CheckConstraint("username ~ '^[a-z0-9][a-z0-9._@-]{1,63}$'", name=op.f('ck_app_user_username_format')),
    sa.CheckConstraint('cardinality(roles) > 0', name=op.f('ck_app_user_has_role')),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_app_user_society_id_society'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    op.create_index(op.f('ix_app_user_society_id'), 'app_user', ['society_id'], unique=False)
    op.create_table('audit_event',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('position', sa.BigInteger(), server_default=sa.text("nextval('audit_event_position_seq')"), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('actor_roles', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('record_type', sa.Text(), nullable=False),
    sa.Column('record_ids', postgresql.ARRAY(sa.UUID()), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('request_id', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_audit_event_society_id_society'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    op.create_index(op.f('ix_audit_event_society_id_position'), 'audit_event', ['society_id', 'position'], unique=False)
    op.create_table('audit_seal',
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('chain_index', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('previous_digest', sa.Text(), nullable=False),
    sa.Column('digest', sa.Text(), nullable=False),
    sa.Column('sealed_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_audit_seal_society_id_society'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('society_id', 'chain_index', name=op.f('pk_audit_seal')),
    sa.UniqueConstraint('event_id', name=op.f('uq_audit_seal_event_id'))
    )
    op.create_table('audit_unsealed',
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('society_id', sa.UUID(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['society_id'], ['society.id'], name=op.f('fk_audit_unsealed_society_id_society'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_audit_unsealed'))
    )
    op.create_index(op.f('ix_audit_unsealed_society_id_position'), 'audit_unsealed', ['society_id', 'position'], unique=False)
    op.create_table('refresh_token',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('family_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('token_digest', sa.Text(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_refresh_token_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refresh_token')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_refresh_token_token_digest'))
    )
    op.create_index(op.f('ix_refresh_token_family_id'), 'refresh_token', ['family_id'], unique=False)
    op.create_index(op.f('ix_refresh_token_user_id'), 'refresh_token', ['user_id'], unique=False)
    _make_audit_append_only()
    _isolate_societies()
    _grant_privileges()


def downgrade() -> None:
    for role in (APP_ROLE, AUTH_ROLE):
        op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
        op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}")
        op.execute(f"REVOKE USAGE ON SCHEMA public FROM {role}")
    for table in TENANT_TABLES:
        if table.startswith("audit_"):
            continue
        op.execute(f"DROP POLICY society_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.drop_index(op.f('ix_refresh_token_user_id'), table_name='refresh_token')
    op.drop_index(op.f('ix_refresh_token_family_id'), table_name='refresh_token')
    op.drop_table('refresh_token')
    op.drop_index(op.f('ix_audit_unsealed_society_id_position'), table_name='audit_unsealed')
    op.drop_table('audit_unsealed')
    op.drop_table('audit_seal')
    op.drop_index(op.f('ix_audit_event_society_id_position'), table_name='audit_event')
    op.drop_table('audit_event')
    op.drop_index(op.f('ix_app_user_society_id'), table_name='app_user')
    op.drop_table('app_user')
    op.drop_index(op.f('ix_api_client_society_id'), table_name='api_client')
    op.drop_table('api_client')
    op.drop_table('signing_key')
    op.drop_index(op.f('ix_client_assertion_use_expires_at'), table_name='client_assertion_use')
    op.drop_table('client_assertion_use')
    op.execute("DROP SEQUENCE audit_event_position_seq")
    op.execute("DROP FUNCTION kintrace_audit_enqueue()")
    op.execute("DROP FUNCTION kintrace_refuse_change()")
    op.execute("DROP FUNCTION kintrace_current_society()")
