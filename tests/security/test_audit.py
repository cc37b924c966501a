"""The audit trail records every disclosure of personal data, and nothing can rewrite it unseen.

Every 2xx response that reads or writes personal data writes exactly one `audit_event` row in
the request's own transaction (who, roles, action, record ids, purpose, request id; never the
personal data itself); a refused request writes none, and a request whose audit row cannot be
written fails without disclosing or storing anything. Under a concurrent burst the rows match
the 2xx responses per society and per caller. The sealed hash chain verifies intact, and any
edit or removal of an event, a seal or a queued event is reported by `verify_all` and by
`kintrace audit verify`, naming the row. Events and seals are append-only for the request role
(privileges) and for the owner (triggers). `GET /v1/audit-events` shows auditors and data
protection officers their own society's trail, paged and filterable, and nobody else.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.audit.service import seal_all, verify_all
from service.db.engine import APP_ROLE, tenant_session
from tests.conftest import Staff, StaffFactory, http_client
from tests.service.payloads import registration, sought_person, tracing_request

# Keys whose string values are personal data (names, free text, places) in request bodies.
PERSONAL_KEYS = frozenset(
    {
        "full_name",
        "given",
        "family",
        "father",
        "grandfather",
        "other",
        "father_name",
        "mother_name",
        "tribe_clan",
        "notes",
        "circumstances",
        "registration_source",
        "text",
        "reason",
        "close_reason",
    }
)
# Responses of these paths disclose no personal data and are not audited.
NOT_AUDITED = ("/v1/auth/me", "/v1/audit-events")


# --- helpers -------------------------------------------------------------------------------------


async def as_owner(connection: AsyncConnection) -> AsyncConnection:
    """The test's connection back in the owner role (app sessions leave `kintrace_app` set)."""
    await connection.execute(text("RESET ROLE"))
    return connection


RANDOM_HEX = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}"
)


def personal_strings(document: Any) -> set[str]:
    """Every personal string value in a JSON document (names, notes, places...)."""
    found: set[str] = set()

    def walk(node: Any, key: str | None) -> None:
        if isinstance(node, dict):
            for child_key, child in node.items():
                walk(child, child_key)
        elif isinstance(node, list):
            for child in node:
                walk(child, key)
        elif isinstance(node, str) and key in PERSONAL_KEYS and len(node) >= 3:
            found.add(node)

    walk(document, None)
    return found


def json_of(response: httpx.Response) -> Any:
    """The response's JSON body, or None when it has none."""
    return response.json() if response.content else None


async def last_position(connection: AsyncConnection) -> int:
    """The newest audit event's position (0 when there is none)."""
    owner = await as_owner(connection)
    found = (await owner.execute(text("SELECT max(position) FROM audit_event"))).scalar()
    return int(found or 0)


async def events_after(connection: AsyncConnection, position: int) -> list[dict[str, Any]]:
    """Audit events recorded after `position`, each with its whole row as JSON text."""
    owner = await as_owner(connection)
    rows = await owner.execute(
        text(
            "SELECT e.*, row_to_json(e)::text AS whole FROM audit_event e "
            "WHERE position > :position ORDER BY position"
        ),
        {"position": position},
    )
    return [dict(row._mapping) for row in rows]


@dataclass
class Ctx:
    """What a scenario works with: the app's client and the callers."""

    client: httpx.AsyncClient
    caseworker: Staff
    staff: StaffFactory

    async def call(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        who: Staff | None = None,
        purpose: str = "tracing",
    ) -> httpx.Response:
        """A request by `who` (the caseworker by default) stating `purpose`."""
        sent = {**(who or self.caseworker).headers(purpose), **(headers or {})}
        return await self.client.request(method, url, json=json, headers=sent)

    async def created(self, url: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """POST that must succeed with 201; its body."""
        response = await self.call("POST", url, json=body, **kwargs)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result


# --- every personal-data response writes one row ------------------------------------------------


@dataclass(frozen=True)
class Call:
    """The audited request of a scenario and what its audit row must say."""

    method: str
    url: str
    action: str
    record_type: str
    record_ids: Callable[[Any], list[str]]  # from the response's JSON body
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    personal: frozenset[str] = frozenset()  # from the setup: must not be in the row either


def request_ids(body: dict[str, Any]) -> list[str]:
    """What a full tracing request discloses: itself and each of its persons."""
    return [body["id"], *(person["id"] for person in body["persons"])]


def item_ids(body: dict[str, Any]) -> list[str]:
    """The ids of a page's items."""
    return [item["id"] for item in body["items"]]


def fixed(*ids: str) -> Callable[[Any], list[str]]:
    """Expected record ids known before the call."""
    return lambda _body: list(ids)


async def create_request(ctx: Ctx) -> Call:
    """Open a tracing request (enquirer and sought person)."""
    return Call(
        "POST",
        "/v1/tracing-requests",
        "tracing_request.create",
        "tracing_request",
        request_ids,
        json=tracing_request(),
        status=201,
    )


async def read_request(ctx: Ctx) -> Call:
    """Read a tracing request with its persons."""
    made = await ctx.created("/v1/tracing-requests", tracing_request())
    url = f"/v1/tracing-requests/{made['id']}"
    return Call("GET", url, "tracing_request.read", "tracing_request", request_ids)


async def list_requests(ctx: Ctx) -> Call:
    """List the society's tracing requests."""
    for _ in range(2):
        await ctx.created("/v1/tracing-requests", tracing_request())
    return Call("GET", "/v1/tracing-requests", "tracing_request.list", "tracing_request", item_ids)


async def update_request(ctx: Ctx) -> Call:
    """Change a tracing request's circumstances (If-Match)."""
    made = await ctx.created("/v1/tracing-requests", tracing_request())
    return Call(
        "PATCH",
        f"/v1/tracing-requests/{made['id']}",
        "tracing_request.update",
        "tracing_request",
        request_ids,
        json={"circumstances": "Lost contact near the harbour of Misrata."},
        headers={"If-Match": f'"v{made["version"]}"'},
    )


async def close_request(ctx: Ctx) -> Call:
    """Close a tracing request with its outcome (If-Match)."""
    made = await ctx.created("/v1/tracing-requests", tracing_request())
    return Call(
        "POST",
        f"/v1/tracing-requests/{made['id']}/close",
        "tracing_request.close",
        "tracing_request",
        request_ids,
        json={"outcome": "not_found"},
        headers={"If-Match": f'"v{made["version"]}"'},
        personal=frozenset(personal_strings(made)),
    )


async def replay_request(ctx: Ctx) -> Call:
    """The replay returns the stored request with its persons: it discloses all of them."""
    key = {"Idempotency-Key": f"audit-{uuid.uuid4()}"}
    body = tracing_request()
    await ctx.created("/v1/tracing-requests", body, headers=key)
    return Call(
        "POST",
        "/v1/tracing-requests",
        "tracing_request.replay",
        "tracing_request",
        request_ids,
        json=body,
        headers=key,
        status=201,
    )


async def add_person(ctx: Ctx) -> Call:
    """Add a sought person to a tracing request."""
    made = await ctx.created("/v1/tracing-requests", tracing_request())
    return Call(
        "POST",
        f"/v1/tracing-requests/{made['id']}/persons",
        "person.create",
        "person",
        lambda body: [body["id"], made["id"]],
        json=sought_person(names=[{"full_name": "Yusuf Ibrahim Khalil"}]),
        status=201,
    )


async def list_request_persons(ctx: Ctx) -> Call:
    """List the persons of a tracing request."""
    made = await ctx.created("/v1/tracing-requests", tracing_request())
    return Call(
        "GET",
        f"/v1/tracing-requests/{made['id']}/persons",
        "person.list",
        "person",
        lambda body: [person["id"] for person in body],
    )


async def read_person(ctx: Ctx) -> Call:
    """Read a registered person."""
    made = await ctx.created("/v1/registrations", registration())
    return Call("GET", f"/v1/persons/{made['id']}", "person.read", "person", fixed(made["id"]))


async def update_person(ctx: Ctx) -> Call:
    """Change a person's personal fields (If-Match)."""
    made = await ctx.created("/v1/registrations", registration())
    return Call(
        "PATCH",
        f"/v1/persons/{made['id']}",
        "person.update",
        "person",
        fixed(made["id"]),
        json={"notes": "Limps on the right leg.", "mother_name": "Halima Warsame"},
        headers={"If-Match": '"v1"'},
    )


async def add_name(ctx: Ctx) -> Call:
    """Add a name to a person."""
    made = await ctx.created("/v1/registrations", registration())
    return Call(
        "POST",
        f"/v1/persons/{made['id']}/names",
        "person.name_add",
        "person",
        fixed(made["id"]),
        json={"kind": "alias", "full_name": "Фатима Хасанова", "parts": {"given": "Фатима"}},
        status=201,
    )


async def remove_name(ctx: Ctx) -> Call:
    """Remove one of a person's names."""
    made = await ctx.created("/v1/registrations", registration())
    name = made["names"][0]
    return Call(
        "DELETE",
        f"/v1/persons/{made['id']}/names/{name['id']}",
        "person.name_remove",
        "person",
        fixed(made["id"]),
        personal=frozenset(personal_strings(made)),
    )


async def close_person(ctx: Ctx) -> Call:
    """Close a person record (If-Match)."""
    made = await ctx.created("/v1/registrations", registration())
    return Call(
        "POST",
        f"/v1/persons/{made['id']}/close",
        "person.close",
        "person",
        fixed(made["id"]),
        json={"reason": "registered twice by the Gaziantep office"},
        headers={"If-Match": '"v1"'},
    )


async def list_registrations(ctx: Ctx) -> Call:
    """List the society's registrations."""
    for kind in ("found", "detained"):
        await ctx.created("/v1/registrations", registration(registration_kind=kind))
    return Call("GET", "/v1/registrations", "person.list", "person", item_ids)


async def create_registration(ctx: Ctx) -> Call:
    """Register a person."""
    return Call(
        "POST",
        "/v1/registrations",
        "person.create",
        "person",
        lambda body: [body["id"]],
        json=registration(),
        status=201,
    )


async def replay_registration(ctx: Ctx) -> Call:
    """Repeat a registration with the same Idempotency-Key (a replay)."""
    key = {"Idempotency-Key": f"audit-{uuid.uuid4()}"}
    made = await ctx.created("/v1/registrations", registration(), headers=key)
    return Call(
        "POST",
        "/v1/registrations",
        "person.replay",
        "person",
        fixed(made["id"]),
        json=registration(),
        headers=key,
        status=201,
    )


async def add_relationship(ctx: Ctx) -> Call:
    """Record what a sought person is to the enquirer."""
    body = tracing_request(
        persons=[
            tracing_request()["persons"][0],
            sought_person(relationship_to_enquirer=None),
        ]
    )
    made = await ctx.created("/v1/tracing-requests", body)
    enquirer, sought = (person["id"] for person in made["persons"])
    return Call(
        "POST",
        f"/v1/tracing-requests/{made['id']}/relationships",
        "relationship.create",
        "tracing_request",
        fixed(made["id"], enquirer, sought),
        json={"enquirer_id": enquirer, "sought_person_id": sought, "relationship": "father"},
        status=201,
        personal=frozenset(personal_strings(made)),
    )


async def remove_relationship(ctx: Ctx) -> Call:
    """Remove a recorded relationship."""
    made = await ctx.created("/v1/tracing-requests", tracing_request())
    (relationship,) = made["relationships"]
    return Call(
        "DELETE",
        f"/v1/tracing-requests/{made['id']}/relationships/{relationship['id']}",
        "relationship.delete",
        "tracing_request",
        fixed(made["id"]),
        status=204,
        personal=frozenset(personal_strings(made)),
    )


AUDITED: dict[str, Callable[[Ctx], Awaitable[Call]]] = {
    "create-request": create_request,
    "read-request": read_request,
    "list-requests": list_requests,
    "update-request": update_request,
    "close-request": close_request,
    "replay-request-create": replay_request,
    "add-person": add_person,
    "list-request-persons": list_request_persons,
    "read-person": read_person,
    "patch-person": update_person,
    "add-name": add_name,
    "remove-name": remove_name,
    "close-person": close_person,
    "list-registrations": list_registrations,
    "create-registration": create_registration,
    "replay-registration-create": replay_registration,
    "add-relationship": add_relationship,
    "remove-relationship": remove_relationship,
}


@pytest.fixture
def ctx(bare_client, caseworker, staff) -> Ctx:
    """The scenario context: the caseworker of `local` calling through the test app."""
    return Ctx(bare_client, caseworker, staff)


@pytest.mark.parametrize("scenario", AUDITED.values(), ids=AUDITED.keys())
async def test_personal_data_response_writes_one_audit_row(ctx, connection, scenario):
    call = await scenario(ctx)
    before = await last_position(connection)
    response = await ctx.call(
        call.method, call.url, json=call.json, headers=call.headers, purpose="subject-access"
    )
    assert response.status_code == call.status, response.text
    (event,) = await events_after(connection, before)
    body = json_of(response)
    assert {
        "society_id": event["society_id"],
        "actor": event["actor"],
        "actor_roles": event["actor_roles"],
        "action": event["action"],
        "record_type": event["record_type"],
        "record_ids": [str(record) for record in event["record_ids"]],
        "purpose": event["purpose"],
        "request_id": event["request_id"],
    } == {
        "society_id": ctx.caseworker.society_id,
        "actor": f"user:{ctx.caseworker.user_id}",
        "actor_roles": ["caseworker"],
        "action": call.action,
        "record_type": call.record_type,
        "record_ids": call.record_ids(body),
        "purpose": "subject-access",
        "request_id": response.headers["x-request-id"],
    }
    disclosed = personal_strings(call.json) | personal_strings(body) | call.personal
    assert disclosed, "the scenario must handle some personal data"
    # Ids and the request id are random hex: a short personal value ("1960") can occur inside
    # one by chance, so they are blanked before looking for personal data in the row.
    row_text = RANDOM_HEX.sub("<id>", event["whole"])
    assert sorted(value for value in disclosed if value in row_text) == []


async def test_client_request_id_is_the_audited_request_id(ctx, connection):
    before = await last_position(connection)
    response = await ctx.call("GET", "/v1/registrations", headers={"X-Request-ID": "case-4711"})
    assert response.headers["x-request-id"] == "case-4711"
    (event,) = await events_after(connection, before)
    assert event["request_id"] == "case-4711"


# --- refused requests write nothing --------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """A request that must be refused with `status`."""

    method: str
    url: str
    status: int
    json: Any = None
    headers: dict[str, str] | None = None
    who: Staff | None = None
    purpose: str = "tracing"
    anonymous: bool = False


async def unknown_request(ctx: Ctx) -> Refused:
    """Read a tracing request that does not exist."""
    return Refused("GET", f"/v1/tracing-requests/{uuid.uuid4()}", 404)


async def foreign_person(ctx: Ctx) -> Refused:
    """Read another society's person."""
    other = await ctx.staff(society="audit-other")
    made = await ctx.created("/v1/registrations", registration(), who=other)
    return Refused("GET", f"/v1/persons/{made['id']}", 404)


async def patch_foreign_person(ctx: Ctx) -> Refused:
    """Change another society's person."""
    other = await ctx.staff(society="audit-other")
    made = await ctx.created("/v1/registrations", registration(), who=other)
    url = f"/v1/persons/{made['id']}"
    return Refused("PATCH", url, 404, json={"notes": "x"}, headers={"If-Match": "*"})


async def reviewer_writes(ctx: Ctx) -> Refused:
    """A reviewer tries to register a person."""
    reviewer = await ctx.staff(("reviewer",))
    return Refused("POST", "/v1/registrations", 403, json=registration(), who=reviewer)


async def auditor_reads_requests(ctx: Ctx) -> Refused:
    """An auditor tries to read tracing requests."""
    auditor = await ctx.staff(("auditor",))
    return Refused("GET", "/v1/tracing-requests", 403, who=auditor, purpose="audit")


async def no_token(ctx: Ctx) -> Refused:
    """No bearer token at all."""
    await ctx.created("/v1/registrations", registration())
    return Refused("GET", "/v1/registrations", 401, anonymous=True)


async def bad_token(ctx: Ctx) -> Refused:
    """A token whose signature was tampered with."""
    token = ctx.caseworker.token
    forged = token[:-10] + ("A" if token[-10] != "A" else "B") + token[-9:]
    headers = {"Authorization": f"Bearer {forged}", "Kintrace-Purpose": "tracing"}
    return Refused("GET", "/v1/registrations", 401, headers=headers, anonymous=True)


async def invalid_body(ctx: Ctx) -> Refused:
    """A registration without its kind."""
    return Refused("POST", "/v1/registrations", 422, json=registration(registration_kind=None))


async def invalid_relationship(ctx: Ctx) -> Refused:
    """Refused by the service after it has read the request and its persons."""
    made = await ctx.created("/v1/tracing-requests", tracing_request())
    enquirer = made["persons"][0]["id"]
    url = f"/v1/tracing-requests/{made['id']}/relationships"
    body = {"enquirer_id": enquirer, "sought_person_id": enquirer, "relationship": "mother"}
    return Refused("POST", url, 422, json=body)


async def reused_idempotency_key(ctx: Ctx) -> Refused:
    """An Idempotency-Key reused with another body."""
    key = {"Idempotency-Key": f"audit-{uuid.uuid4()}"}
    await ctx.created("/v1/registrations", registration(), headers=key)
    body = registration(registration_kind="found")
    return Refused("POST", "/v1/registrations", 422, json=body, headers=key)


async def no_purpose(ctx: Ctx) -> Refused:
    """No `Kintrace-Purpose` stated."""
    made = await ctx.created("/v1/registrations", registration())
    return Refused("GET", f"/v1/persons/{made['id']}", 400, purpose="")


async def stale_if_match(ctx: Ctx) -> Refused:
    """An update with the ETag of an older version."""
    made = await ctx.created("/v1/registrations", registration())
    url = f"/v1/persons/{made['id']}"
    await ctx.call("PATCH", url, json={"notes": "first"}, headers={"If-Match": '"v1"'})
    return Refused("PATCH", url, 412, json={"notes": "second"}, headers={"If-Match": '"v1"'})


async def missing_if_match(ctx: Ctx) -> Refused:
    """An update without If-Match."""
    made = await ctx.created("/v1/registrations", registration())
    return Refused("PATCH", f"/v1/persons/{made['id']}", 428, json={"notes": "x"})


async def close_twice(ctx: Ctx) -> Refused:
    """Closing a closed person."""
    made = await ctx.created("/v1/registrations", registration())
    url = f"/v1/persons/{made['id']}/close"
    await ctx.call("POST", url, json={}, headers={"If-Match": '"v1"'})
    return Refused("POST", url, 409, json={}, headers={"If-Match": "*"})


REFUSED: dict[str, Callable[[Ctx], Awaitable[Refused]]] = {
    "404-unknown-request": unknown_request,
    "404-foreign-person": foreign_person,
    "404-patch-foreign-person": patch_foreign_person,
    "403-reviewer-writes": reviewer_writes,
    "403-auditor-reads-requests": auditor_reads_requests,
    "401-no-token": no_token,
    "401-bad-token": bad_token,
    "422-invalid-body": invalid_body,
    "422-invalid-relationship": invalid_relationship,
    "422-idempotency-key-reused": reused_idempotency_key,
    "400-no-purpose": no_purpose,
    "412-stale-if-match": stale_if_match,
    "428-missing-if-match": missing_if_match,
    "409-close-twice": close_twice,
}


@pytest.mark.parametrize("scenario", REFUSED.values(), ids=REFUSED.keys())
async def test_refused_request_writes_no_audit_row(ctx, connection, scenario):
    refused = await scenario(ctx)
    before = await last_position(connection)
    if refused.anonymous:
        response = await ctx.client.request(
            refused.method, refused.url, json=refused.json, headers=refused.headers
        )
    else:
        response = await ctx.call(
            refused.method,
            refused.url,
            json=refused.json,
            headers=refused.headers,
            who=refused.who,
            purpose=refused.purpose,
        )
    assert response.status_code == refused.status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await events_after(connection, before) == []


# --- an audit row that cannot be written fails the request --------------------------------------


@dataclass
class CrashLog:
    """Stands in for the crash guard's logger: keeps the exceptions it was asked to log.

    (Also keeps the test fast: the default console renderer draws every frame's locals.)
    """

    errors: list[BaseException] = field(default_factory=list)

    def exception(self, _event: str, **_fields: Any) -> None:
        """Record the exception being handled."""
        error = sys.exc_info()[1]
        assert error is not None
        self.errors.append(error)


@pytest.fixture
def crashes(monkeypatch) -> CrashLog:
    """The exceptions turned into 500 responses by `ProblemOnCrash` during the test."""
    recorded = CrashLog()
    monkeypatch.setattr("service.middleware.log", recorded)
    return recorded


async def revoke_audit_insert(connection: AsyncConnection) -> None:
    """Take INSERT on `audit_event` from the request role (inside the test's transaction)."""
    await (await as_owner(connection)).execute(
        text(f"REVOKE INSERT ON audit_event FROM {APP_ROLE}")
    )


def assert_internal_error(response: httpx.Response, secrets: set[str], crashes: CrashLog) -> None:
    """A 500 problem document that discloses none of `secrets`, caused by the audit insert."""
    assert response.status_code == 500, response.text
    cause = str(crashes.errors.pop())
    assert "permission denied for table audit_event" in cause
    assert "INSERT INTO audit_event" in cause
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:kintrace:problem:internal"
    assert sorted(secret for secret in secrets if secret in response.text) == []
    assert "audit_event" not in response.text
    assert "permission denied" not in response.text


async def test_read_without_audit_row_fails_and_discloses_nothing(ctx, connection, crashes):
    made = await ctx.created("/v1/tracing-requests", tracing_request())
    await revoke_audit_insert(connection)
    response = await ctx.call("GET", f"/v1/tracing-requests/{made['id']}")
    secrets = personal_strings(made) | {made["reference_number"]}
    secrets |= {person["id"] for person in made["persons"]}
    assert_internal_error(response, secrets, crashes)
    listed = await ctx.call("GET", "/v1/tracing-requests")
    assert_internal_error(listed, secrets | {made["id"]}, crashes)


@pytest.mark.parametrize("idempotency_key", [None, "audit-revoked"], ids=["plain", "idempotent"])
@pytest.mark.parametrize(
    ("url", "body", "table"),
    [
        ("/v1/registrations", registration(notes="must not be stored"), "person"),
        (
            "/v1/tracing-requests",
            tracing_request(circumstances="must not be stored"),
            "tracing_request",
        ),
    ],
    ids=["registration", "tracing-request"],
)
async def test_write_without_audit_row_fails_and_stores_nothing(
    ctx, connection, crashes, url, body, table, idempotency_key
):
    await revoke_audit_insert(connection)
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    response = await ctx.call("POST", url, json=body, headers=headers)
    assert_internal_error(response, personal_strings(body), crashes)
    owner = await as_owner(connection)
    stored = {
        name: (
            await owner.execute(
                text(f"SELECT count(*) FROM {name} WHERE society_id = :s"),
                {"s": ctx.caseworker.society_id},
            )
        ).scalar()
        for name in (table, "person_name", "idempotency_record", "audit_event")
    }
    assert stored == dict.fromkeys(stored, 0)


FAIL_AT_COMMIT = (
    """
    CREATE FUNCTION kintrace_test_audit_fail() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.registration_source = 'fail at commit' THEN
        RAISE EXCEPTION 'deferred check failed';
      END IF;
      RETURN NEW;
    END $$
    """,
    "CREATE CONSTRAINT TRIGGER kintrace_test_audit_fail AFTER INSERT ON person "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION kintrace_test_audit_fail()",
)


async def test_audit_row_commits_or_fails_with_the_write(
    committing_app, committing_staff, engine, crashes
):
    """The audit row is in the request's transaction: when the commit fails after the row was
    written, neither the record nor its audit row is stored (committed, over a real pool)."""
    caller = await committing_staff(society="audit-east")
    async with engine.begin() as connection:
        for statement in FAIL_AT_COMMIT:
            await connection.execute(text(statement))
    try:
        async with http_client(committing_app) as client:
            failed = await client.post(
                "/v1/registrations",
                json=registration(registration_source="fail at commit"),
                headers=caller.headers(),
            )
            assert failed.status_code == 500, failed.text
            assert "deferred check failed" in str(crashes.errors.pop())
            assert await audit_counts(engine) == Counter()
            stored = await client.post(
                "/v1/registrations", json=registration(), headers=caller.headers()
            )
            assert stored.status_code == 201, stored.text
        assert await audit_counts(engine) == Counter(
            {(caller.society_id, f"user:{caller.user_id}"): 1}
        )
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TRIGGER kintrace_test_audit_fail ON person"))
            await connection.execute(text("DROP FUNCTION kintrace_test_audit_fail()"))


# --- burst over a real pool, then the chain ------------------------------------------------------


BURST_IN_FLIGHT = 20  # above the pool size (10): overflow connections are used as well


@dataclass(frozen=True)
class Burst:
    """One request of the burst."""

    who: Staff
    method: str
    url: str
    json: Any = None
    headers: dict[str, str] | None = None
    purpose: str = "tracing"

    @property
    def discloses(self) -> bool:
        """Whether a 2xx answer to it reads or writes personal data."""
        return not self.url.startswith(NOT_AUDITED)


async def burst_plan(
    client: httpx.AsyncClient, make: StaffFactory
) -> tuple[list[Burst], uuid.UUID, uuid.UUID]:
    """200 mixed requests of seven callers in two societies (with some 403s, 404s and 401s),
    and the ids of the two societies."""
    east = {
        "caseworker": await make(society="audit-east"),
        "caseworker2": await make(society="audit-east"),
        "reviewer": await make(("reviewer",), society="audit-east"),
        "auditor": await make(("auditor",), society="audit-east"),
        "dpo": await make(("data_protection_officer",), society="audit-east"),
    }
    west = {
        "caseworker": await make(society="audit-west"),
        "reviewer": await make(("reviewer",), society="audit-west"),
    }
    records = {}
    for side, people in (("east", east), ("west", west)):
        headers = people["caseworker"].headers()
        made = await client.post("/v1/tracing-requests", json=tracing_request(), headers=headers)
        registered = await client.post("/v1/registrations", json=registration(), headers=headers)
        assert (made.status_code, registered.status_code) == (201, 201)
        records[side] = (made.json()["id"], registered.json()["id"])
    (east_request, east_person), (west_request, _) = records["east"], records["west"]
    key = {"Idempotency-Key": f"burst-{uuid.uuid4()}"}
    kinds = [
        Burst(east["caseworker"], "GET", f"/v1/tracing-requests/{east_request}"),
        Burst(east["caseworker2"], "GET", "/v1/tracing-requests"),
        Burst(east["reviewer"], "GET", f"/v1/persons/{east_person}", purpose="review"),
        Burst(east["dpo"], "GET", "/v1/registrations", purpose="data-protection"),
        Burst(east["caseworker"], "POST", "/v1/registrations", json=registration()),
        Burst(east["caseworker2"], "POST", "/v1/tracing-requests", json=tracing_request()),
        Burst(
            east["caseworker"],
            "POST",
            f"/v1/persons/{east_person}/names",
            json={"kind": "alias", "full_name": "Fadumo Hassan"},
        ),
        Burst(
            east["caseworker2"],
            "PATCH",
            f"/v1/persons/{east_person}",
            json={"notes": "Seen at the clinic."},
            headers={"If-Match": "*"},
        ),
        Burst(east["caseworker"], "POST", "/v1/registrations", json=registration(), headers=key),
        Burst(east["caseworker"], "GET", f"/v1/tracing-requests/{west_request}"),  # 404
        Burst(east["reviewer"], "POST", "/v1/registrations", json=registration()),  # 403
        Burst(east["auditor"], "GET", "/v1/tracing-requests", purpose="audit"),  # 403
        Burst(east["auditor"], "GET", "/v1/audit-events", purpose="audit"),  # 200, not audited
        Burst(east["dpo"], "GET", "/v1/auth/me"),  # 200, not audited
        Burst(west["caseworker"], "GET", f"/v1/tracing-requests/{west_request}"),
        Burst(west["caseworker"], "POST", "/v1/registrations", json=registration()),
        Burst(west["reviewer"], "GET", "/v1/registrations", purpose="review"),
        Burst(west["reviewer"], "GET", f"/v1/persons/{east_person}", purpose="review"),  # 404
        Burst(west["caseworker"], "GET", f"/v1/tracing-requests/{west_request}/persons"),
        Burst(west["caseworker"], "GET", "/v1/tracing-requests", headers={"Authorization": "x"}),
    ]
    plan = [kinds[index % len(kinds)] for index in range(200)]
    return plan, east["caseworker"].society_id, west["caseworker"].society_id


async def audit_counts(engine: AsyncEngine) -> Counter[tuple[uuid.UUID, str]]:
    """Committed audit events per (society, actor)."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT society_id, actor, count(*) FROM audit_event GROUP BY 1, 2")
        )
        return Counter({(society, actor): count for society, actor, count in rows})


async def event_at(engine: AsyncEngine, society_id: uuid.UUID, index: int) -> uuid.UUID:
    """The id of the event sealed at `index` in a society's chain."""
    async with engine.connect() as connection:
        found = await connection.execute(
            text("SELECT event_id FROM audit_seal WHERE society_id = :s AND chain_index = :i"),
            {"s": society_id, "i": index},
        )
        return uuid.UUID(str(found.scalar_one()))


async def tamper(engine: AsyncEngine, statement: str, **params: Any) -> None:
    """Run `statement` as the owner with the append-only triggers off (committed)."""
    async with engine.begin() as connection:
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        result = await connection.execute(text(statement), params)
        assert result.rowcount == 1, statement


def kintrace_audit_verify(database_url: str, secret: str) -> subprocess.CompletedProcess[str]:
    """`kintrace audit verify` in a subprocess against the test database."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "KINTRACE_SECRET_KEY": secret,
        "KINTRACE_MIGRATE_ON_START": "false",
    }
    return subprocess.run(
        [sys.executable, "-m", "service.cli", "audit", "verify"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_burst_is_audited_per_response_and_the_chain_catches_an_edit(
    committing_app, committing_staff, engine, database_url, settings
):
    runtime = committing_app.state.runtime
    async with http_client(committing_app) as client:
        plan, east_id, west_id = await burst_plan(client, committing_staff)
        before = await audit_counts(engine)

        async def send(burst: Burst) -> httpx.Response:
            headers = {**burst.who.headers(burst.purpose), **(burst.headers or {})}
            return await client.request(burst.method, burst.url, json=burst.json, headers=headers)

        responses = []
        for first in range(0, len(plan), BURST_IN_FLIGHT):
            batch = plan[first : first + BURST_IN_FLIGHT]
            responses += await asyncio.gather(*(send(burst) for burst in batch))
    statuses = Counter(response.status_code for response in responses)
    assert {403, 404, 401} <= set(statuses), statuses
    assert statuses[500] == 0
    expected = Counter(before)
    for burst, response in zip(plan, responses, strict=True):
        if burst.discloses and 200 <= response.status_code < 300:
            expected[(burst.who.society_id, f"user:{burst.who.user_id}")] += 1
    recorded = await audit_counts(engine)
    assert recorded == expected
    per_society = Counter()
    for (society, _), count in recorded.items():
        per_society[society] += count

    sealed = await seal_all(runtime.sessions)
    assert sealed == sum(recorded.values())
    reports = {report.society_code: report for report in await verify_all(runtime.sessions)}
    for society_id, code in ((east_id, "audit-east"), (west_id, "audit-west")):
        report = reports[code]
        assert (report.intact, report.problems) == (True, [])
        assert (report.sealed, report.unsealed) == (per_society[society_id], 0)
    secret = settings.secret_key.get_secret_value()
    intact = await asyncio.to_thread(kintrace_audit_verify, database_url, secret)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert f"audit-east: intact, {per_society[east_id]} sealed" in intact.stdout

    altered = await event_at(engine, east_id, 5)
    await tamper(engine, FLIP_PURPOSE, id=altered)
    reports = {report.society_code: report for report in await verify_all(runtime.sessions)}
    assert reports["audit-east"].problems == [f"event altered at chain index 5 (event {altered})"]
    assert reports["audit-west"].intact
    broken = await asyncio.to_thread(kintrace_audit_verify, database_url, secret)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "audit-east: BROKEN" in broken.stdout
    assert f"event altered at chain index 5 (event {altered})" in broken.stdout
    assert "audit-west: intact" in broken.stdout


async def test_audit_verify_needs_no_signing_secret(committing_app, committing_staff, database_url):
    """Verifying the trail reads audit rows only: it must not depend on the secret that
    decrypts the token signing keys (an auditor's tool need not hold it). With another secret
    it must still verify, not die with a traceback and the exit code of a broken chain."""
    caller = await committing_staff(society="audit-east")
    async with http_client(committing_app) as client:
        assert (await client.get("/v1/registrations", headers=caller.headers())).status_code == 200
    assert await seal_all(committing_app.state.runtime.sessions) == 1
    done = await asyncio.to_thread(kintrace_audit_verify, database_url, "x")
    assert "Traceback" not in done.stderr, done.stderr[-600:]
    intact = "audit-east: intact, 1 sealed, 0 awaiting the sealer\n"
    assert (done.returncode, done.stdout) == (0, intact)


# --- each kind of tampering is found and named ---------------------------------------------------

SEALED_PER_SOCIETY = 8


@dataclass(frozen=True)
class Tampering:
    """An edit of the trail made behind the service's back and what `verify` must say."""

    statement: str
    target: str  # "event" (event at index 5), "last" (event at the last index) or "queued"
    problem: str  # the first problem reported contains this (formatted with index and event)


# Always a change: the event may already have been recorded with the purpose `review`.
FLIP_PURPOSE = (
    "UPDATE audit_event SET purpose = CASE purpose WHEN 'review' THEN 'audit' ELSE 'review' END"
    " WHERE id = :id"
)

TAMPERINGS: dict[str, Tampering] = {
    "alter-purpose": Tampering(
        FLIP_PURPOSE,
        "event",
        "event altered at chain index {index} (event {event})",
    ),
    "alter-actor": Tampering(
        "UPDATE audit_event SET actor = 'user:' || gen_random_uuid() WHERE id = :id",
        "event",
        "event altered at chain index {index} (event {event})",
    ),
    "alter-record-ids": Tampering(
        "UPDATE audit_event SET record_ids = ARRAY[gen_random_uuid()] WHERE id = :id",
        "event",
        "event altered at chain index {index} (event {event})",
    ),
    "alter-occurred-at": Tampering(
        "UPDATE audit_event SET occurred_at = occurred_at - interval '1 day' WHERE id = :id",
        "event",
        "event altered at chain index {index} (event {event})",
    ),
    "alter-request-id": Tampering(
        "UPDATE audit_event SET request_id = 'forged' WHERE id = :id",
        "event",
        "event altered at chain index {index} (event {event})",
    ),
    "delete-event": Tampering(
        "DELETE FROM audit_event WHERE id = :id",
        "event",
        "event missing at chain index {index} (event {event})",
    ),
    "delete-seal": Tampering(
        "DELETE FROM audit_seal WHERE event_id = :id",
        "event",
        "seal missing before chain index 6 (expected 5)",
    ),
    "alter-seal-digest": Tampering(
        "UPDATE audit_seal SET digest = repeat('1', 64) WHERE event_id = :id",
        "event",
        "chain index {index} (event {event})",
    ),
    "alter-seal-previous-digest": Tampering(
        "UPDATE audit_seal SET previous_digest = repeat('1', 64) WHERE event_id = :id",
        "event",
        "seal altered or removed before chain index {index} (event {event}): "
        "previous digest does not match",
    ),
    "delete-newest-seal": Tampering(
        "DELETE FROM audit_seal WHERE event_id = :id",
        "last",
        "1 event(s) are neither sealed nor queued for sealing "
        "(the sealer's queue was tampered with)",
    ),
    "delete-queued-event": Tampering(
        "DELETE FROM audit_unsealed WHERE event_id = :id",
        "queued",
        "1 event(s) are neither sealed nor queued for sealing "
        "(the sealer's queue was tampered with)",
    ),
}


@pytest.mark.parametrize("tampering", TAMPERINGS.values(), ids=TAMPERINGS.keys())
async def test_tampering_is_reported_for_its_society_only(
    committing_app, committing_staff, engine, tampering
):
    runtime = committing_app.state.runtime
    tampered = await committing_staff(society="audit-east")
    bystander = await committing_staff(society="audit-west")
    async with http_client(committing_app) as client:
        for who in (tampered, bystander):
            for _ in range(SEALED_PER_SOCIETY):
                response = await client.get("/v1/registrations", headers=who.headers())
                assert response.status_code == 200
        assert await seal_all(runtime.sessions) == 2 * SEALED_PER_SOCIETY
        queued = await client.get("/v1/tracing-requests", headers=tampered.headers())
        assert queued.status_code == 200
    async with engine.connect() as connection:
        newest_queued = (
            await connection.execute(text("SELECT event_id FROM audit_unsealed"))
        ).scalar_one()
    index = {"event": 5, "last": SEALED_PER_SOCIETY, "queued": None}[tampering.target]
    event = newest_queued if index is None else await event_at(engine, tampered.society_id, index)
    await tamper(engine, tampering.statement, id=event)
    reports = {report.society_code: report for report in await verify_all(runtime.sessions)}
    first, *_consequences = reports["audit-east"].problems
    assert tampering.problem.format(index=index, event=event) in first
    assert not reports["audit-east"].intact
    assert (reports["audit-west"].intact, reports["audit-west"].sealed) == (
        True,
        SEALED_PER_SOCIETY,
    )


# --- append-only ---------------------------------------------------------------------------------


class _Succeeded(Exception):
    """Raised inside a savepoint to roll back a statement that was not refused."""


@pytest.fixture
async def sealed_trail(client, runtime) -> None:
    """Some audit events of the caseworker's society, sealed (rows in both tables)."""
    for _ in range(3):
        assert (await client.post("/v1/registrations", json=registration())).status_code == 201
    assert await seal_all(runtime.sessions) == 3


APPEND_ONLY_STATEMENTS = {
    "update": "UPDATE {table} SET society_id = society_id",
    "delete": "DELETE FROM {table}",
    "truncate": "TRUNCATE {table}",
}


def changes() -> Iterator[Any]:
    """Every (table, statement) pair refused on the audit trail."""
    for table in ("audit_event", "audit_seal"):
        for name, statement in APPEND_ONLY_STATEMENTS.items():
            yield pytest.param(table, statement.format(table=table), id=f"{name}-{table}")


@pytest.mark.usefixtures("sealed_trail")
@pytest.mark.parametrize(("table", "statement"), list(changes()))
async def test_request_role_cannot_change_the_trail(runtime, caseworker, table, statement):
    with pytest.raises(DBAPIError) as refused:
        async with tenant_session(runtime.sessions, caseworker.society_id) as session:
            await session.exec(text(statement))  # type: ignore[call-overload]
            raise _Succeeded
    assert f"permission denied for table {table}" in str(refused.value.orig)


@pytest.mark.usefixtures("sealed_trail")
@pytest.mark.parametrize(("table", "statement"), list(changes()))
async def test_owner_cannot_change_the_trail(connection, table, statement):
    owner = await as_owner(connection)
    rows = (await owner.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
    assert rows == 3
    operation = statement.split()[0]
    with pytest.raises(DBAPIError) as refused:
        async with owner.begin_nested():
            await owner.execute(text(statement))
            raise _Succeeded
    assert f"the audit trail is append-only: {operation} on {table} refused" in str(
        refused.value.orig
    )
    assert (await owner.execute(text(f"SELECT count(*) FROM {table}"))).scalar() == 3


# --- the trail API -------------------------------------------------------------------------------


async def trail_pages(
    client: httpx.AsyncClient, who: Staff, params: dict[str, Any]
) -> list[list[dict[str, Any]]]:
    """Every page of `GET /v1/audit-events` (following `next_cursor`)."""
    pages, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/audit-events", params=query, headers=who.headers("audit"))
        assert response.status_code == 200, response.text
        pages.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100


async def owner_trail(connection: AsyncConnection, society_id: uuid.UUID, record: str = ""):
    """Ids of a society's events in order (only those touching `record` when given)."""
    owner = await as_owner(connection)
    where = "AND CAST(:record AS uuid) = ANY(record_ids)" if record else ""
    rows = await owner.execute(
        text(f"SELECT id FROM audit_event WHERE society_id = :s {where} ORDER BY position"),
        {"s": society_id, **({"record": record} if record else {})},
    )
    return [str(row) for row in rows.scalars()]


@pytest.mark.parametrize("role", ["auditor", "data_protection_officer"])
async def test_trail_shows_own_society_paged_and_filtered(ctx, connection, role):
    other = await ctx.staff(society="audit-other")
    made = await ctx.created("/v1/registrations", registration())
    await ctx.created("/v1/tracing-requests", tracing_request())
    for _ in range(3):
        await ctx.call("GET", f"/v1/persons/{made['id']}")
        await ctx.call("GET", "/v1/tracing-requests")
        await ctx.created("/v1/registrations", registration(), who=other)
    assert (await ctx.call("GET", f"/v1/persons/{made['id']}", who=other)).status_code == 404
    reader = await ctx.staff((role,))

    pages = await trail_pages(ctx.client, reader, {"limit": 3})
    listed = [event["id"] for page in pages for event in page]
    assert [len(page) for page in pages[:-1]] == [3] * (len(pages) - 1)
    assert listed == await owner_trail(connection, ctx.caseworker.society_id)
    assert len(listed) == 8
    assert set(listed).isdisjoint(await owner_trail(connection, other.society_id))
    first = pages[0][0]
    assert (first["actor"], first["action"], first["record_ids"]) == (
        f"user:{ctx.caseworker.user_id}",
        "person.create",
        [made["id"]],
    )

    touching = await trail_pages(ctx.client, reader, {"limit": 2, "record_id": made["id"]})
    filtered = [event["id"] for page in touching for event in page]
    assert filtered == await owner_trail(connection, ctx.caseworker.society_id, made["id"])
    assert len(filtered) == 4
    assert all(made["id"] in event["record_ids"] for page in touching for event in page)


@pytest.mark.parametrize("role", ["caseworker", "reviewer", "supervisor", "partner", "admin"])
async def test_trail_is_refused_to_other_roles(ctx, connection, role):
    who = await ctx.staff((role,))
    before = await last_position(connection)
    response = await ctx.client.get("/v1/audit-events", headers=who.headers("audit"))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert await events_after(connection, before) == []
