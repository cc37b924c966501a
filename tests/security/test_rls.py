"""Row-level security confines the request path to one society, proven against PostgreSQL.

The request role `kintrace_app` is no superuser, cannot log in, owns nothing and lacks
BYPASSRLS; the issuer's role `kintrace_auth` never touches tenant data and `kintrace_app` never
touches identity data. Every table holding a society's data (derived from the catalog: every
table with a `society_id` column except the identity tables) forces row-level security with the
`society_isolation` policy, so that a transaction without a society sees no tenant row at all,
one with society A sees nothing of B and cannot write rows for B, and the request role cannot
switch any of that off. The request path really runs as that role, and under load, over a real
pool, no response of one society ever carries a row of the other.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from matching import Matcher
from service.audit.service import seal_all
from service.candidates import repository as candidates_repository
from service.candidates import worker
from service.db.engine import APP_ROLE, AUTH_ROLE, scoped_session, tenant_session
from service.db.models import ModelCalibration, SearchFlag
from service.disclosure import repository as disclosures
from service.exchange import repository as exchange_repository
from service.exchange import service as exchange
from service.ingest.run import import_file
from service.rights import retention_repository as retention_policies
from service.rights.retention_repository import Policy
from service.runtime import Runtime, StartupError, check_request_role
from service.search import repository as search_repository
from service.sharing import repository as sharing_repository
from service.webhooks import outbox
from tests.conftest import Staff, http_client
from tests.service.payloads import (
    REGISTERED_MOTHER,
    SOUGHT_MOTHER,
    enquirer,
    registration,
    sought_person,
    tracing_request,
)

IDENTITY_TABLES = ("app_user", "api_client", "refresh_token", "signing_key", "client_assertion_use")
# Identity tables that carry a `society_id` but are the issuer's, not tenant data.
SOCIETY_SCOPED_IDENTITY = frozenset({"app_user", "api_client"})
AUDIT_TABLES = frozenset({"audit_event", "audit_seal", "audit_unsealed"})
# Tables the migrations are known to isolate: the catalog-derived set must contain them all.
KNOWN_TENANT_TABLES = frozenset(
    {
        "tracing_request",
        "person",
        "person_name",
        "person_relationship",
        "idempotency_record",
        "reference_counter",
        *AUDIT_TABLES,
    }
)
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
COLUMN_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "REFERENCES")

TABLES_WITH_SOCIETY = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
  AND EXISTS (
    SELECT 1 FROM pg_attribute a
    WHERE a.attrelid = c.oid AND a.attname = 'society_id' AND NOT a.attisdropped
  )
ORDER BY c.relname
"""


# --- helpers -------------------------------------------------------------------------------------


async def as_owner(connection: AsyncConnection) -> AsyncConnection:
    """The test's connection back in the owner role (app sessions leave `kintrace_app` set)."""
    await connection.execute(text("RESET ROLE"))
    return connection


async def tenant_tables(connection: AsyncConnection) -> list[str]:
    """Every table holding a society's data, read from the catalog (plus the audit tables)."""
    owner = await as_owner(connection)
    with_society = set((await owner.execute(text(TABLES_WITH_SOCIETY))).scalars())
    return sorted((with_society - SOCIETY_SCOPED_IDENTITY - {"society"}) | AUDIT_TABLES)


async def scalar(connection: AsyncConnection, sql: str, **params: object) -> object:
    """One value of an owner-level query."""
    owner = await as_owner(connection)
    return (await owner.execute(text(sql), params)).scalar()


async def count_as(
    runtime: Runtime, table: str, society_id: uuid.UUID | None, where: str = ""
) -> int:
    """Rows of `table` visible to `kintrace_app` with `society_id` set (None: no society)."""
    async with scoped_session(runtime.sessions, role=APP_ROLE, society_id=society_id) as session:
        result = await session.exec(text(f'SELECT count(*) FROM "{table}" {where}'))  # type: ignore[call-overload]
        return int(result.one()[0])


class _Succeeded(Exception):
    """Raised inside a savepoint to roll back statements that were not refused."""


async def refusal(connection: AsyncConnection, *statements: str) -> str | None:
    """The database's error for `statements` run in a savepoint (None if all succeeded).

    The savepoint is always rolled back, so nothing that slipped through survives.
    """
    await as_owner(connection)
    try:
        async with connection.begin_nested():
            for statement in statements:
                await connection.execute(text(statement))
            raise _Succeeded
    except _Succeeded:
        return None
    except DBAPIError as err:
        return str(err.orig)


@dataclass
class Tenant:
    """A society's caller and the ids of the records it created through the API."""

    staff: Staff
    request_ids: list[str] = field(default_factory=list)
    person_ids: list[str] = field(default_factory=list)
    other_ids: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)

    def markers(self) -> re.Pattern[str]:
        """Strings that betray this society's rows in another society's response."""
        found = [
            *self.request_ids,
            *self.person_ids,
            *self.other_ids,
            *self.references,
            f'"{self.staff.society_code}"',
            self.staff.society_code.upper() + "-",
        ]
        return re.compile("|".join(re.escape(marker) for marker in found))


async def populate(client: httpx.AsyncClient, caller: Staff, requests: int = 1) -> Tenant:
    """Tracing requests (with persons, names, a relationship) and a registration (with an
    Idempotency-Key) recorded through the API by `caller`."""
    tenant = Tenant(caller)
    for _ in range(requests):
        body = tracing_request(persons=[enquirer(), sought_person(**SOUGHT_MOTHER)])
        created = await client.post("/v1/tracing-requests", json=body, headers=caller.headers())
        assert created.status_code == 201, created.text
        body = created.json()
        tenant.request_ids.append(body["id"])
        tenant.references.append(body["reference_number"])
        for person in body["persons"]:
            tenant.person_ids.append(person["id"])
            tenant.other_ids.extend(name["id"] for name in person["names"])
        tenant.other_ids.extend(r["id"] for r in body["relationships"])
        headers = {**caller.headers(), "Idempotency-Key": f"rls-{uuid.uuid4()}"}
        registered = await client.post(
            "/v1/registrations", json=registration(**REGISTERED_MOTHER), headers=headers
        )
        assert registered.status_code == 201, registered.text
        tenant.person_ids.append(registered.json()["id"])
        tenant.other_ids.extend(name["id"] for name in registered.json()["names"])
    return tenant


def foreign_rows(response: httpx.Response, other: Tenant, asked: str = "") -> int:
    """How many times the other society's ids, references or code occur in a response.

    `asked` is the id the caller put in the URL itself: a 404 problem echoes it back (in
    `instance` and `detail`), which discloses nothing the caller did not send.
    """
    body = response.text.replace(asked, "") if asked else response.text
    return len(other.markers().findall(body))


# --- catalog -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [APP_ROLE, AUTH_ROLE])
async def test_restricted_role_cannot_log_in_or_bypass_anything(connection, role):
    owner = await as_owner(connection)
    row = (
        await owner.execute(
            text(
                "SELECT rolsuper, rolbypassrls, rolcanlogin, rolcreaterole, rolcreatedb "
                "FROM pg_roles WHERE rolname = :role"
            ),
            {"role": role},
        )
    ).one_or_none()
    assert row is not None, f"role {role} does not exist"
    assert row._asdict() == {
        "rolsuper": False,
        "rolbypassrls": False,
        "rolcanlogin": False,
        "rolcreaterole": False,
        "rolcreatedb": False,
    }


@pytest.mark.parametrize("role", [APP_ROLE, AUTH_ROLE])
async def test_restricted_role_owns_nothing(connection, role):
    owner = await as_owner(connection)
    owned = (
        await owner.execute(
            text(
                "SELECT 'relation ' || relname FROM pg_class "
                "WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = :role) "
                "UNION ALL SELECT 'function ' || proname FROM pg_proc "
                "WHERE proowner = (SELECT oid FROM pg_roles WHERE rolname = :role) "
                "UNION ALL SELECT 'schema ' || nspname FROM pg_namespace "
                "WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = :role)"
            ),
            {"role": role},
        )
    ).scalars()
    assert list(owned) == []


@pytest.mark.parametrize("role", [APP_ROLE, AUTH_ROLE])
async def test_restricted_role_is_member_of_no_role(connection, role):
    """Membership would let the role act with another role's privileges (`SET ROLE`)."""
    owner = await as_owner(connection)
    granted = (
        await owner.execute(
            text(
                "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                "WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = :role)"
            ),
            {"role": role},
        )
    ).scalars()
    assert list(granted) == []


async def privileges_of(
    connection: AsyncConnection, role: str, tables: Iterable[str]
) -> dict[str, list[str]]:
    """Every table privilege (or column privilege on any column) `role` holds on `tables`."""
    owner = await as_owner(connection)
    held: dict[str, list[str]] = {}
    checks = [("has_table_privilege", p, p) for p in TABLE_PRIVILEGES]
    checks += [("has_any_column_privilege", p, f"column {p}") for p in COLUMN_PRIVILEGES]
    for table in tables:
        for function, privilege, label in checks:
            query = text(f"SELECT {function}(:role, :table, :privilege)")
            params = {"role": role, "table": f"public.{table}", "privilege": privilege}
            if (await owner.execute(query, params)).scalar():
                held.setdefault(table, []).append(label)
    return held


async def test_issuer_role_has_no_privilege_on_tenant_tables(connection):
    tables = await tenant_tables(connection)
    assert await privileges_of(connection, AUTH_ROLE, tables) == {}


async def test_request_role_has_no_privilege_on_identity_tables(connection):
    assert await privileges_of(connection, APP_ROLE, IDENTITY_TABLES) == {}


async def test_tenant_tables_are_derived_from_the_catalog(connection):
    """The derivation finds every table the migrations isolate (it is not vacuous)."""
    assert KNOWN_TENANT_TABLES <= set(await tenant_tables(connection))


async def test_every_tenant_table_forces_row_level_security(connection):
    tables = await tenant_tables(connection)
    owner = await as_owner(connection)
    rows = await owner.execute(
        text(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relname = ANY(:tables)"
        ),
        {"tables": tables},
    )
    flags = {name: (enabled, forced) for name, enabled, forced in rows}
    assert {table: flags.get(table) for table in tables} == dict.fromkeys(tables, (True, True))


async def test_every_tenant_table_has_the_society_isolation_policy(connection):
    tables = await tenant_tables(connection)
    owner = await as_owner(connection)
    rows = await owner.execute(
        text(
            "SELECT tablename, permissive, roles, cmd, qual, with_check FROM pg_policies "
            "WHERE schemaname = 'public' AND policyname = 'society_isolation'"
        )
    )
    policies = {row.tablename: row for row in rows}
    assert sorted(set(tables) - set(policies)) == []
    for table in tables:
        policy = policies[table]
        assert (policy.permissive, policy.cmd, list(policy.roles)) == (
            "PERMISSIVE",
            "ALL",
            ["public"],
        ), table
        for expression in (policy.qual, policy.with_check):
            assert "society_id = ( SELECT kintrace_current_society()" in expression, (
                table,
                expression,
            )


# --- behaviour as kintrace_app --------------------------------------------------------------------


@pytest.fixture
async def two_societies(bare_client, staff, runtime, tmp_path) -> tuple[Tenant, Tenant]:
    """Data of two societies in every tenant table (sealed audit events and queued ones too)."""
    north = await populate(bare_client, await staff(society="rls-north"))
    south = await populate(bare_client, await staff(society="rls-south"))
    for tenant in (north, south):
        imported = tmp_path / f"{tenant.staff.society_code}.jsonl"
        line = {
            "type": "registration",
            "registration_kind": "found",
            "names": [{"full_name": "Ayan Warsame"}],
        }
        imported.write_text(json.dumps(line) + "\n", encoding="utf-8")
        staff_of = tenant.staff
        report = await import_file(runtime, imported, staff_of.society_id, staff_of.society_code)
        assert report.imported == 1
        consent_path = f"/v1/persons/{tenant.person_ids[-1]}/consents"
        consent = await bare_client.post(
            consent_path,
            json={"scope": "publication", "obtained_how": "written", "obtained_on": "2026-01-10"},
            headers=staff_of.headers(),
        )
        assert consent.status_code == 201, consent.text
        withdrawn = await bare_client.post(
            f"{consent_path}/{consent.json()['id']}/withdrawal", json={}, headers=staff_of.headers()
        )
        assert withdrawn.status_code == 200, "a consent withdrawn leaves a partner notice"
        async with runtime.tenant_session(staff_of.society_id) as session:
            flag = SearchFlag(
                society_id=staff_of.society_id,
                principal=f"user:{staff_of.user_id}",
                searches_last_hour=99,
                rule="test",
            )
            await search_repository.add_flag(session, flag)
            calibration = ModelCalibration(
                society_id=staff_of.society_id,
                label="cal1",
                base_version="test",
                slope=0.7,
                intercept=-9.0,
                confirmed=1,
                rejected=1,
            )
            await candidates_repository.add_calibration(session, calibration)
            await session.commit()
    matched = await worker.drain(runtime.sessions, runtime.tenant_session, Matcher(), 0.5)
    assert matched.links >= 2, "each society's mother and her registration are proposed"
    for code in ("rls-north", "rls-south"):
        await reject_first_candidate(bare_client, await staff(("reviewer",), society=code))
    for tenant in (north, south):
        await open_disclosure(runtime, tenant)
        await protection_and_retention(bare_client, staff, runtime, tenant)
        await partner_exchange(bare_client, staff, runtime, tenant)
    assert await seal_all(runtime.sessions) > 0
    for tenant in (north, south):
        read = await bare_client.get(
            f"/v1/tracing-requests/{tenant.request_ids[0]}", headers=tenant.staff.headers()
        )
        assert read.status_code == 200, read.text
    return north, south


async def open_disclosure(runtime: Runtime, tenant: Tenant) -> None:
    """A disclosure on the tenant's mother-and-registration pair, with one release logged
    (written straight to the tables; the flows are tested in tests/service/disclosure)."""
    enquirer_id, sought_id, found_id = (uuid.UUID(i) for i in tenant.person_ids[:3])
    society = tenant.staff.society_id
    async with runtime.tenant_session(society) as session:
        link = await candidates_repository.link_for_pair(session, *sorted((sought_id, found_id)))
        assert link is not None
        disclosure_id = uuid.uuid4()
        await disclosures.open_disclosure(
            session,
            {
                "id": disclosure_id,
                "society_id": society,
                "link_id": link.id,
                "tracing_request_id": uuid.UUID(tenant.request_ids[0]),
                "enquirer_id": enquirer_id,
                "sought_person_id": sought_id,
                "found_person_id": found_id,
                "status": "pending",
                "minor": False,
            },
        )
        disclosure = await disclosures.get(session, disclosure_id)
        assert disclosure is not None
        await disclosures.log_release(session, disclosure, ["phone"], "test")
        await session.commit()


async def protection_and_retention(
    client: httpx.AsyncClient, staff: Any, runtime: Runtime, tenant: Tenant
) -> None:
    """A supervisor's approval to lift a sensitive flag, an erased registration's tombstone,
    and a retention policy."""
    code = tenant.staff.society_code
    headers = tenant.staff.headers()
    at_risk = await client.post(
        "/v1/registrations", json=registration(sensitive=True), headers=headers
    )
    supervisor = await staff(("supervisor",), society=code)
    approved = await client.post(
        f"/v1/persons/{at_risk.json()['id']}/sensitivity-lift", headers=supervisor.headers()
    )
    assert approved.status_code == 200, approved.text
    erased = await client.post("/v1/registrations", json=registration(), headers=headers)
    officer = await staff(("data_protection_officer",), society=code)
    gone = await client.post(
        f"/v1/persons/{erased.json()['id']}/erasure",
        json={"reason": "test"},
        headers=officer.headers("data-protection"),
    )
    assert gone.status_code == 200, gone.text
    async with runtime.tenant_session(tenant.staff.society_id) as session:
        await retention_policies.save_policy(session, tenant.staff.society_id, Policy())
        await session.commit()


async def partner_exchange(
    client: httpx.AsyncClient, staff: Any, runtime: Runtime, tenant: Tenant
) -> None:
    """A grant to a third society with one transfer logged under it, and a webhook
    subscription with a message in its outbox (the consent withdrawn above)."""
    code = tenant.staff.society_code
    supervisor = await staff(("supervisor",), society=code)
    third = await staff(society="rls-third")
    granted = await client.post(
        "/v1/sharing-grants",
        json={
            "recipient_society": third.society_code,
            "record_kinds": ["registration"],
            "fields": ["names"],
            "legal_basis": "vital_interest",
            "valid_until": "2031-01-01T00:00:00Z",
        },
        headers=supervisor.headers(),
    )
    assert granted.status_code == 201, granted.text
    subscribed = await client.post(
        "/v1/webhook-subscriptions",
        json={"url": "http://127.0.0.1:8080/hooks", "event_types": ["person.consent_withdrawn"]},
        headers=supervisor.headers(),
    )
    assert subscribed.status_code == 201, subscribed.text
    async with runtime.tenant_session(tenant.staff.society_id) as session:
        await sharing_repository.log_transfers(
            session,
            [
                {
                    "society_id": tenant.staff.society_id,
                    "recipient_society_id": third.society_id,
                    "grant_id": uuid.UUID(granted.json()["id"]),
                    "record_id": uuid.UUID(tenant.person_ids[-1]),
                    "fields": ["names"],
                    "purpose": "restoring_family_links",
                    "legal_basis": "vital_interest",
                    "channel": "api",
                    "received_by": "test",
                }
            ],
        )
        await session.commit()
    assert await outbox.fill_society(runtime.tenant_session, tenant.staff.society_id, code) >= 1
    await imported_and_erased(client, staff, runtime, tenant)


async def imported_and_erased(
    client: httpx.AsyncClient, staff: Any, runtime: Runtime, tenant: Tenant
) -> None:
    """An import job (one record stored, one refused), the sender's id of the stored record,
    and the tombstone of an id whose record was erased."""
    headers = tenant.staff.headers()
    lines = [
        {"type": "registration", "external_id": f"{key}-1", **registration()}
        for key in ("kept", "erased")
    ] + [{"type": "registration", "external_id": "bad", "sex": "sometimes"}]
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    queued = await client.post("/v1/imports?format=jsonl", content=body, headers=headers)
    assert queued.status_code == 202, queued.text
    code = tenant.staff.society_code
    principal_of = functools.partial(exchange.importer, society_code=code)
    while await exchange.run_batch(runtime.tenant_session, tenant.staff.society_id, principal_of):
        pass
    async with runtime.tenant_session(tenant.staff.society_id) as session:
        erased = await exchange_repository.external_record(
            session, queued.json()["source"], "erased-1"
        )
    assert erased is not None
    officer = await staff(("data_protection_officer",), society=code)
    gone = await client.post(
        f"/v1/persons/{erased.record_id}/erasure",
        json={"reason": "test"},
        headers=officer.headers("data-protection"),
    )
    assert gone.status_code == 200, gone.text


async def reject_first_candidate(client: httpx.AsyncClient, reviewer: Staff) -> None:
    """A reviewer's decision on the first proposed pair of their society."""
    headers = reviewer.headers("review")
    queue = await client.get("/v1/candidate-links", headers=headers)
    link = queue.json()["items"][0]
    decided = await client.post(
        f"/v1/candidate-links/{link['id']}/decisions",
        json={"decision": "reject", "reason": "insufficient_information"},
        headers={**headers, "If-Match": f'"v{link["version"]}"'},
    )
    assert decided.status_code == 200, decided.text


async def owner_counts(connection: AsyncConnection, tables: list[str], society_id: uuid.UUID):
    """Rows of each table belonging to `society_id`, counted by the owner."""
    return {
        table: await scalar(
            connection, f'SELECT count(*) FROM "{table}" WHERE society_id = :s', s=society_id
        )
        for table in tables
    }


async def test_no_society_set_shows_no_tenant_row(connection, runtime, two_societies):
    tables = await tenant_tables(connection)
    north, south = two_societies
    for tenant in (north, south):
        present = await owner_counts(connection, tables, tenant.staff.society_id)
        assert [table for table, count in present.items() if not count] == []
    visible = {table: await count_as(runtime, table, None) for table in tables}
    assert visible == dict.fromkeys(tables, 0)


@pytest.mark.parametrize("which", [0, 1], ids=["north-set", "south-set"])
async def test_one_society_set_shows_only_its_rows(connection, runtime, two_societies, which):
    tables = await tenant_tables(connection)
    own, other = two_societies[which], two_societies[1 - which]
    expected = await owner_counts(connection, tables, own.staff.society_id)
    assert [table for table, count in expected.items() if not count] == []
    society = own.staff.society_id
    foreign = {
        table: await count_as(
            runtime, table, society, f"WHERE society_id = '{other.staff.society_id}'"
        )
        for table in tables
    }
    assert foreign == dict.fromkeys(tables, 0)
    visible = {table: await count_as(runtime, table, society) for table in tables}
    assert visible == expected


async def test_rows_for_another_society_cannot_be_written(connection, runtime, two_societies):
    """Copying one of A's rows with B's `society_id` fails the policy's WITH CHECK."""
    tables = await tenant_tables(connection)
    north, south = two_societies
    outcomes = {}
    for table in tables:
        statement = (
            f'INSERT INTO "{table}" OVERRIDING SYSTEM VALUE '
            f'SELECT (jsonb_populate_record(NULL::"{table}", '
            f"to_jsonb(r) || jsonb_build_object('society_id', '{south.staff.society_id}'))).* "
            f'FROM "{table}" r LIMIT 1'
        )
        try:
            async with tenant_session(runtime.sessions, north.staff.society_id) as session:
                result = await session.exec(text(statement))  # type: ignore[call-overload]
                outcomes[table] = f"inserted {result.rowcount} row(s)"
                await session.rollback()
        except DBAPIError as err:
            outcomes[table] = str(err.orig)
    refused = "new row violates row-level security policy"
    assert {t: o for t, o in outcomes.items() if refused not in o} == {}


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY society_isolation ON {table}",
        "CREATE POLICY everything ON {table} USING (true)",
    ],
    ids=["disable-rls", "no-force-rls", "drop-policy", "add-policy"],
)
async def test_request_role_cannot_switch_isolation_off(connection, statement):
    tables = await tenant_tables(connection)
    outcomes = {
        table: await refusal(
            connection, f"SET LOCAL ROLE {APP_ROLE}", statement.format(table=table)
        )
        for table in tables
    }
    assert {t: o for t, o in outcomes.items() if not o or "must be owner" not in o} == {}


async def test_request_role_cannot_turn_row_security_off(connection, two_societies):
    refused = await refusal(
        connection,
        f"SET LOCAL ROLE {APP_ROLE}",
        "SET LOCAL row_security = off",
        "SELECT count(*) FROM person",
    )
    assert refused is not None
    assert "would be affected by row-level security policy" in refused


@pytest.mark.parametrize("table", ["audit_event", "audit_seal"])
@pytest.mark.parametrize(
    "statement",
    ["UPDATE {table} SET society_id = society_id", "DELETE FROM {table}", "TRUNCATE {table}"],
    ids=["update", "delete", "truncate"],
)
async def test_request_role_cannot_change_the_audit_trail(
    connection, two_societies, table, statement
):
    north, _ = two_societies
    refused = await refusal(
        connection,
        f"SET LOCAL ROLE {APP_ROLE}",
        f"SELECT set_config('kintrace.society_id', '{north.staff.society_id}', true)",
        statement.format(table=table),
    )
    assert refused is not None
    assert f"permission denied for table {table}" in refused


# --- the request path ----------------------------------------------------------------------------


async def test_tenant_session_runs_as_the_request_role(runtime, caseworker):
    async with tenant_session(runtime.sessions, caseworker.society_id) as session:
        result = await session.exec(  # type: ignore[call-overload]
            text("SELECT current_user, current_setting('kintrace.society_id')")
        )
        assert tuple(result.one()) == (APP_ROLE, str(caseworker.society_id))


SEEN_ROLE_TRIGGER = (
    """
    CREATE FUNCTION kintrace_test_seen_role() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM set_config('kintrace_test.role', current_user, false);
      PERFORM set_config('kintrace_test.society', current_setting('kintrace.society_id'), false);
      RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER kintrace_test_seen_role BEFORE INSERT ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION kintrace_test_seen_role()",
)


async def test_requests_run_as_the_request_role(connection, client, caseworker):
    """A trigger installed for this test (rolled back with it) records who writes the audit
    row of a real request: the request role, confined to the caller's society."""
    for statement in SEEN_ROLE_TRIGGER:
        await (await as_owner(connection)).execute(text(statement))
    response = await client.get("/v1/tracing-requests")
    assert response.status_code == 200, response.text
    seen = await (await as_owner(connection)).execute(
        text(
            "SELECT current_setting('kintrace_test.role', true), "
            "current_setting('kintrace_test.society', true)"
        )
    )
    assert tuple(seen.one()) == (APP_ROLE, str(caseworker.society_id))


@pytest.mark.parametrize("attribute", ["SUPERUSER", "BYPASSRLS"])
async def test_start_up_refuses_a_request_role_that_bypasses_security(
    connection, runtime, attribute
):
    """The role is altered inside the test's transaction only (rolled back with it), so every
    session of `runtime.sessions` would run as a role that escapes row-level security."""
    await check_request_role(runtime.sessions)
    await (await as_owner(connection)).execute(text(f"ALTER ROLE {APP_ROLE} {attribute}"))
    with pytest.raises(StartupError, match="must be NOSUPERUSER NOBYPASSRLS"):
        await check_request_role(runtime.sessions)


# --- isolation under load over a real pool ------------------------------------------------------

# Each of the pool's ten connections serves some 300 requests of alternating societies, so a
# connection that kept one society's setting for the next request would show at once. (It was
# 10,000 until that took about three minutes a server here, a quarter of the suite.)
LOAD_REQUESTS = 3_000
# As many requests in flight as the pool has connections (10 in the test settings): beyond that
# every surplus request opens and closes an overflow connection, which halves the throughput.
IN_FLIGHT = 10


@dataclass(frozen=True)
class Probe:
    """One request of the load test, the status it must get, and whose data it must not show."""

    url: str
    status: int
    caller: Tenant
    other: Tenant

    @property
    def asked(self) -> str:
        """The record id in the URL, if any."""
        last = self.url.rsplit("/", 1)[-1]
        return last if last not in ("tracing-requests", "registrations") else ""


def probes(north: Tenant, south: Tenant, total: int) -> list[Probe]:
    """`total` requests alternating between the societies, cycling through six kinds."""
    made = []
    for index in range(total):
        own, other = (north, south) if index % 2 == 0 else (south, north)
        turn = index // 2
        pick = turn // 6
        kind = turn % 6
        urls = [
            ("/v1/tracing-requests", 200),
            ("/v1/registrations", 200),
            (f"/v1/tracing-requests/{own.request_ids[pick % len(own.request_ids)]}", 200),
            (f"/v1/persons/{own.person_ids[pick % len(own.person_ids)]}", 200),
            (f"/v1/tracing-requests/{other.request_ids[pick % len(other.request_ids)]}", 404),
            (f"/v1/persons/{other.person_ids[pick % len(other.person_ids)]}", 404),
        ]
        url, status = urls[kind]
        made.append(Probe(url, status, own, other))
    return made


async def test_no_foreign_row_in_thousands_of_pooled_requests(committing_app, committing_staff):
    async with http_client(committing_app) as client:
        north = await populate(client, await committing_staff(society="rls-north"), requests=3)
        south = await populate(client, await committing_staff(society="rls-south"), requests=3)

        async def run(probe: Probe) -> tuple[Probe, httpx.Response]:
            return probe, await client.get(probe.url, headers=probe.caller.staff.headers())

        started = time.perf_counter()
        leaks, own_seen, wrong_status, empty_lists, done = 0, 0, [], 0, 0
        planned = probes(north, south, LOAD_REQUESTS)
        for first in range(0, len(planned), IN_FLIGHT):
            batch = planned[first : first + IN_FLIGHT]
            for probe, response in await asyncio.gather(*(run(p) for p in batch)):
                done += 1
                leaks += foreign_rows(response, probe.other, probe.asked)
                own_seen += foreign_rows(response, probe.caller, probe.asked)
                if response.status_code != probe.status:
                    wrong_status.append((probe.url, response.status_code, response.text[:200]))
                if probe.url in ("/v1/tracing-requests", "/v1/registrations"):
                    empty_lists += not response.json()["items"]
        elapsed = time.perf_counter() - started
    print(f"{done} pooled requests in {elapsed:.1f} s")
    assert done == LOAD_REQUESTS
    assert wrong_status[:5] == []
    assert empty_lists == 0
    assert own_seen > LOAD_REQUESTS  # the markers do find rows: their absence means something
    assert leaks == 0
