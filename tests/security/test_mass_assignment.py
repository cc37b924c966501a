"""Mass assignment: a body cannot set what the server owns.

Every create and update route refuses, with a 422 problem naming the field, the fields a
client does not own: ids, the society, versions, timestamps, a record's status where the client
does not set it, the owning request, and the audit trail's own fields. Nothing is written by a
refused call, and a created record always belongs to the caller's society, whatever the body,
the query or the headers say. The table is checked against the application's routes: a new
route with a body and no case fails the suite.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import Staff, StaffFactory, http_client
from tests.security.test_bola import (
    OPERATIONS,
    REQUEST_BODIES,
    TOKEN_ENDPOINT,
    Operation,
    World,
    all_items,
    build_world,
    snapshot,
    target,
)

OTHER_SOCIETY = "other"
VALIDATION_ERROR = "urn:kintrace:problem:validation-error"

# Fields no client sets on any record (the audit trail's `actor` and `position` included).
SERVER_FIELDS = (
    "id",
    "society_id",
    "society_code",
    "version",
    "created_at",
    "updated_at",
    "actor",
    "position",
)

# Per route: the further fields the server owns there, read off `schemas/tracing.py` and
# `schemas/persons.py` (a client field of one route may be server-owned on another).
PROTECTED: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "/v1/tracing-requests"): (
        "outcome",
        "closed_on",
        "closed_at",
        "relationships",
        "persons.0.id",
        "persons.0.society_id",
        "persons.0.tracing_request_id",
        "persons.0.status",
        "persons.0.version",
        "persons.0.closed_at",
        "persons.0.registration_kind",
        "persons.0.names.0.id",
        "persons.0.names.0.person_id",
    ),
    ("POST", "/v1/persons/{person_id}/consents"): (
        "person_id",
        "recorded_by",
        "recorded_at",
        "withdrawn_at",
        "withdrawn_by",
    ),
    ("POST", "/v1/persons/{person_id}/consents/{consent_id}/withdrawal"): (
        "withdrawn_at",
        "withdrawn_by",
        "scope",
    ),
    ("POST", "/v1/disclosures/{disclosure_id}/answer"): ("status", "released_fields"),
    ("POST", "/v1/disclosures/{disclosure_id}/verification"): ("verified_by", "approved_by"),
    ("POST", "/v1/persons/{person_id}/erasure"): ("person_id", "erased_at", "erased_by"),
    ("PATCH", "/v1/tracing-requests/{request_id}"): (
        "closed_on",
        "closed_at",
        "persons",
        "relationships",
    ),
    ("POST", "/v1/tracing-requests/{request_id}/close"): (
        "status",
        "closed_at",
        "reference_number",
    ),
    ("POST", "/v1/tracing-requests/{request_id}/persons"): (
        "tracing_request_id",
        "status",
        "closed_at",
        "close_reason",
        "registration_kind",
        "names.0.id",
        "names.0.created_at",
    ),
    ("POST", "/v1/tracing-requests/{request_id}/relationships"): ("tracing_request_id",),
    ("POST", "/v1/registrations"): (
        "role",
        "status",
        "tracing_request_id",
        "closed_at",
        "close_reason",
        "names.0.id",
    ),
    ("PATCH", "/v1/persons/{person_id}"): (
        "role",
        "status",
        "tracing_request_id",
        "closed_at",
        "close_reason",
        "names",
    ),
    ("POST", "/v1/persons/{person_id}/close"): ("status", "closed_at", "version"),
    ("POST", "/v1/persons/{person_id}/names"): ("person_id",),
    ("POST", "/v1/search"): ("person_id", "status"),
    ("POST", "/v1/sharing-grants"): (
        "society",
        "active",
        "created_by",
        "revoked_at",
        "revoked_by",
        "revocation_reason",
    ),
    ("POST", "/v1/sharing-grants/{grant_id}/revocation"): ("revoked_at", "revoked_by", "active"),
    ("POST", "/v1/webhook-subscriptions"): ("owner", "secret", "disabled_at"),
    ("POST", "/v1/candidate-links/{link_id}/decisions"): (
        "status",
        "decided_by",
        "decided_at",
        "link_id",
        "fingerprint",
        "probability",
    ),
}

WRITE_OPERATIONS = [op for op in OPERATIONS if op.has_body and op.key != TOKEN_ENDPOINT]


def value_for(field: str, intruder: Staff) -> Any:
    """A plausible value for a protected field, naming the other society where it can."""
    leaf = field.rsplit(".", 1)[-1]
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "society_id": str(intruder.society_id),
        "society_code": intruder.society_code,
        "version": 99,
        "created_at": "2001-01-01T00:00:00Z",
        "updated_at": "2001-01-01T00:00:00Z",
        "closed_at": "2001-01-01T00:00:00Z",
        "closed_on": "2001-01-01",
        "actor": f"user:{intruder.user_id}",
        "position": 1,
        "outcome": "not_found",
        "status": "closed",
        "role": "enquirer",
        "reference_number": "OTHER-2001-000001",
        "tracing_request_id": str(uuid.uuid4()),
        "person_id": str(uuid.uuid4()),
        "close_reason": "closed by the body",
        "registration_kind": "found",
        "persons": [],
        "relationships": [],
        "names": [{"full_name": "Injected Name"}],
        "decided_by": f"user:{intruder.user_id}",
        "decided_at": "2001-01-01T00:00:00Z",
        "link_id": str(uuid.uuid4()),
        "fingerprint": "0" * 64,
        "probability": 1.0,
        "recorded_by": f"user:{intruder.user_id}",
        "recorded_at": "2001-01-01T00:00:00Z",
        "withdrawn_at": "2001-01-01T00:00:00Z",
        "withdrawn_by": f"user:{intruder.user_id}",
        "scope": "publication",
        "released_fields": ["phone"],
        "erased_at": "2001-01-01T00:00:00Z",
        "erased_by": f"user:{intruder.user_id}",
        "verified_by": f"user:{intruder.user_id}",
        "approved_by": [f"user:{intruder.user_id}"],
        "society": OTHER_SOCIETY,
        "active": True,
        "created_by": f"user:{intruder.user_id}",
        "revoked_at": "2001-01-01T00:00:00Z",
        "revoked_by": f"user:{intruder.user_id}",
        "revocation_reason": "revoked by the body",
        "owner": f"user:{intruder.user_id}",
        "secret": "whsec_" + "A" * 43 + "=",
        "disabled_at": "2001-01-01T00:00:00Z",
    }
    return values[leaf]


def with_field(body: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with `value` set at the dotted `field` (list indices allowed)."""
    copied: Any = _deep_copy(body)
    *parents, leaf = field.split(".")
    node = copied
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[leaf] = value
    result: dict[str, Any] = copied
    return result


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    return value


def cases() -> list[tuple[Operation, tuple[str, ...]]]:
    """Every write operation with its protected fields."""
    by_key = {op.key: op for op in WRITE_OPERATIONS}
    return [
        (by_key[key], (*SERVER_FIELDS, *extra)) for key, extra in PROTECTED.items() if key in by_key
    ]


@pytest.fixture
async def client(running_app: FastAPI, staff: StaffFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A caseworker who also reviews, supervises and is the data-protection officer, so that
    every write route is open to them but for the protected fields."""
    caller = await staff(("caseworker", "reviewer", "supervisor", "data_protection_officer"))
    async with http_client(running_app, caller.headers()) as signed_in:
        yield signed_in


@pytest.fixture
async def intruder(staff: StaffFactory) -> Staff:
    """A caseworker of another society, whose ids a body might name."""
    return await staff(("caseworker",), society=OTHER_SOCIETY)


@pytest.fixture
async def intruder_client(
    running_app: FastAPI, intruder: Staff
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client signed in as `intruder`."""
    async with http_client(running_app, intruder.headers()) as client:
        yield client


async def everything(
    client: httpx.AsyncClient, world: World, intruder_client: httpx.AsyncClient
) -> dict[str, Any]:
    """What both societies hold: the caller's world and the other society's lists."""
    return {
        "own": await snapshot(client, world),
        "their requests": await all_items(intruder_client, "/v1/tracing-requests"),
        "their registrations": await all_items(intruder_client, "/v1/registrations"),
    }


def test_every_write_operation_has_a_case() -> None:
    """Each `/v1` route taking a body is in `PROTECTED`; nothing stale is left there."""
    assert {op.key for op in WRITE_OPERATIONS} == set(PROTECTED)


@pytest.mark.parametrize(
    ("operation", "fields"), cases(), ids=[operation.label for operation, _ in cases()]
)
async def test_protected_field_is_refused_and_nothing_is_written(
    operation: Operation,
    fields: tuple[str, ...],
    client: httpx.AsyncClient,
    intruder: Staff,
    intruder_client: httpx.AsyncClient,
) -> None:
    """Each protected field in turn, on one world: every call is refused naming the field, and
    afterwards both societies hold exactly what they held before (a refused call that wrote
    anything would show there)."""
    world = await build_world(client)
    before = await everything(client, world, intruder_client)
    valid = REQUEST_BODIES[operation.key](world)
    assert valid is not None
    headers = {"If-Match": world.etag_for(operation)} if operation.if_match else {}
    failures = []
    for field in fields:
        body = with_field(valid, field, value_for(field, intruder))
        response = await client.request(
            operation.method, target(operation, world), json=body, headers=headers
        )
        problem = response.json()
        named = {(param["name"], param["location"]) for param in problem.get("invalid-params", [])}
        if (
            response.status_code != 422
            or response.headers["content-type"] != "application/problem+json"
            or problem.get("type") != VALIDATION_ERROR
            or (field, "body") not in named
        ):
            failures.append(f"{field}: {response.status_code} {response.text}")
    assert failures == [], f"{operation.label}: " + "\n".join(failures)
    assert await everything(client, world, intruder_client) == before


@pytest.mark.parametrize(
    ("operation_key", "body_of"),
    [
        (("POST", "/v1/tracing-requests"), lambda world: {"status": "closed"}),
        (("PATCH", "/v1/tracing-requests/{request_id}"), lambda world: {"status": "closed"}),
    ],
    ids=["create", "update"],
)
async def test_closing_through_status_is_refused_naming_status(
    operation_key: tuple[str, str],
    body_of: Any,
    client: httpx.AsyncClient,
    intruder_client: httpx.AsyncClient,
) -> None:
    """`status` is a client field of tracing requests except for `closed`, which only
    `POST .../close` sets (with its outcome)."""
    (operation,) = [op for op in WRITE_OPERATIONS if op.key == operation_key]
    world = await build_world(client)
    before = await everything(client, world, intruder_client)
    body = {**(REQUEST_BODIES[operation.key](world) or {}), **body_of(world)}
    headers = {"If-Match": world.etag_for(operation)} if operation.if_match else {}

    response = await client.request(
        operation.method, target(operation, world), json=body, headers=headers
    )

    assert response.status_code == 422, response.text
    assert await everything(client, world, intruder_client) == before
    named = {param["name"] for param in response.json().get("invalid-params", [])}
    assert "status" in named, f"{operation.label}: `status` not named in {response.text}"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("registration_kind", "found"),
        ("registration_source", "A list"),
        ("registration_date", "2024-01-01"),
    ],
    ids=["registration_kind", "registration_source", "registration_date"],
)
async def test_registration_fields_of_a_request_person_are_refused_naming_them(
    field: str,
    value: str,
    client: httpx.AsyncClient,
    intruder_client: httpx.AsyncClient,
) -> None:
    """A sought person is no registration: `PATCH /v1/persons/{id}` cannot make it one."""
    world = await build_world(client)
    before = await everything(client, world, intruder_client)
    read = await client.get(f"/v1/persons/{world.sought_id}")

    response = await client.patch(
        f"/v1/persons/{world.sought_id}",
        json={field: value},
        headers={"If-Match": read.headers["etag"]},
    )

    assert response.status_code == 422, response.text
    assert await everything(client, world, intruder_client) == before
    named = {param["name"] for param in response.json().get("invalid-params", [])}
    assert field in named, f"`{field}` not named in {response.text}"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/tracing-requests", lambda: REQUEST_BODIES[("POST", "/v1/tracing-requests")]),
        ("/v1/registrations", lambda: REQUEST_BODIES[("POST", "/v1/registrations")]),
    ],
    ids=["tracing-request", "registration"],
)
async def test_created_record_belongs_to_the_callers_society(
    path: str,
    body: Any,
    client: httpx.AsyncClient,
    caseworker: Staff,
    intruder: Staff,
    intruder_client: httpx.AsyncClient,
) -> None:
    """Query parameters and headers naming another society are not a way in either."""
    world = await build_world(client)
    theirs_before = await all_items(intruder_client, path)
    other = {"society_id": str(intruder.society_id), "society_code": intruder.society_code}
    headers = {"X-Society-Id": str(intruder.society_id), "Kintrace-Society": "other"}

    response = await client.post(path, json=body()(world), params=other, headers=headers)

    assert response.status_code == 201, response.text
    created = response.json()
    if "society_code" in created:
        assert created["society_code"] == caseworker.society_code
    assert (await client.get(response.headers["location"])).status_code == 200
    assert (await intruder_client.get(response.headers["location"])).status_code == 404
    assert await all_items(intruder_client, path) == theirs_before
