"""Function-level authorisation (BFLA): a role may call a route iff its scopes include the
route's.

The matrix is every role of `StaffRole` times every `/v1` operation of the application (read
off its routes; the public token endpoint aside). Each cell calls the operation, with a valid
body, ids and `If-Match`, as a user holding only that role. A permitted call must really succeed
(2xx, the route's success code), so the matrix cannot pass vacuously; a refused call is a 403
`urn:kintrace:problem:forbidden` problem and leaves every table as it was. The scope a route
requires is read from its dependency tree and must agree with the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from schemas.enums import StaffRole
from service.app import openapi_document
from service.auth.scopes import ROLE_SCOPES
from tests.conftest import StaffFactory, http_client
from tests.security.test_bola import (
    OPERATIONS,
    TOKEN_ENDPOINT,
    Operation,
    World,
    build_world,
    send,
    snapshot,
)

FORBIDDEN = "urn:kintrace:problem:forbidden"
MATRIX_OPERATIONS = [op for op in OPERATIONS if op.key != TOKEN_ENDPOINT]
ROLES = list(StaffRole)
ME = ("GET", "/v1/auth/me")

# The purpose each role states: any valid purpose passes the purpose check, so a refusal can
# only come from the scope check.
PURPOSES: dict[StaffRole, str] = {
    StaffRole.CASEWORKER: "tracing",
    StaffRole.REVIEWER: "review",
    StaffRole.SUPERVISOR: "tracing",
    StaffRole.AUDITOR: "audit",
    StaffRole.DATA_PROTECTION_OFFICER: "data-protection",
    StaffRole.ADMIN: "tracing",
    StaffRole.PARTNER: "exchange",
}

TENANT_TABLES = (
    "tracing_request",
    "person",
    "person_name",
    "person_relationship",
    "idempotency_record",
    "audit_event",
)


def checked_scopes(dependant: Dependant) -> frozenset[str]:
    """The scopes the route's scope check receives (`SecurityScopes` of its dependencies)."""
    scopes: set[str] = set()
    for dependency in dependant.dependencies:
        if dependency.security_scopes_param_name is not None:
            scopes |= set(dependency.parent_oauth_scopes or [])
            scopes |= set(dependency.own_oauth_scopes or [])
        scopes |= checked_scopes(dependency)
    return frozenset(scopes)


def has_scope_check(dependant: Dependant) -> bool:
    """Whether some dependency of the route receives `SecurityScopes` (performs the check)."""
    return any(
        dependency.security_scopes_param_name is not None or has_scope_check(dependency)
        for dependency in dependant.dependencies
    )


def declared_scopes(operations: list[Operation]) -> dict[tuple[str, str], frozenset[str] | None]:
    """(method, path) -> scopes checked for every operation (None: no check at all)."""
    return {
        op.key: checked_scopes(op.dependant) if has_scope_check(op.dependant) else None
        for op in operations
    }


SCOPES = declared_scopes(OPERATIONS)


def permitted(role: StaffRole, operation: Operation) -> bool:
    """Whether a holder of `role` alone may call the operation, by `ROLE_SCOPES`."""
    required = SCOPES[operation.key]
    assert required is not None, f"{operation.label} performs no scope check"
    return required <= {scope.value for scope in ROLE_SCOPES[role]}


async def table_counts(connection: AsyncConnection) -> dict[str, int]:
    """Rows of every tenant table, all societies, counted by the owner."""
    await connection.execute(text("RESET ROLE"))
    counts = {}
    for table in TENANT_TABLES:
        counts[table] = (
            await connection.execute(text(f"SELECT count(*) FROM {table}"))
        ).scalar_one()
    return counts


def test_every_operation_checks_a_scope() -> None:
    """Every `/v1` operation but the token endpoint runs the scope check; all but `auth/me`
    need a scope (a new route touching records cannot be open to every signed-in role)."""
    unchecked = [op.label for op in MATRIX_OPERATIONS if SCOPES[op.key] is None]
    assert unchecked == []
    open_to_all = [op.label for op in MATRIX_OPERATIONS if not SCOPES[op.key] and op.key != ME]
    assert open_to_all == []


def test_declared_scopes_match_the_openapi_document() -> None:
    """What the routes check is what the API documents (`security: [{"kintrace": [...]}]`)."""
    documented: dict[tuple[str, str], Any] = {}
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/v1/") and (method.upper(), path) != TOKEN_ENDPOINT:
                (requirement,) = operation["security"]
                documented[(method.upper(), path)] = frozenset(requirement["kintrace"])
    generated = {key: value for key, value in SCOPES.items() if key != TOKEN_ENDPOINT}
    assert documented == generated


def test_every_operation_is_permitted_to_some_role() -> None:
    """No operation is refused to everyone (its permitted cells prove the matrix is real)."""
    refused = [op.label for op in MATRIX_OPERATIONS if not any(permitted(r, op) for r in ROLES)]
    assert refused == []


async def refused(
    as_role: httpx.AsyncClient, operation: Operation, world: World, cell: str
) -> None:
    """The call (and the same call with a nonsense body) is a 403 problem."""
    response = await send(as_role, operation, world)
    assert response.status_code == 403, f"{cell}: {response.status_code} {response.text}"
    assert response.headers["content-type"] == "application/problem+json", cell
    assert response.json()["type"] == FORBIDDEN, f"{cell}: {response.text}"
    if operation.has_body:
        garbage = await as_role.request(
            operation.method, response.request.url.path, json={"unexpected": [1, 2]}
        )
        assert garbage.status_code == 403, f"{cell} (invalid body): {garbage.text}"


@pytest.mark.parametrize("operation", MATRIX_OPERATIONS, ids=lambda op: op.label)
async def test_role_may_call_operation_iff_its_scopes_allow(
    operation: Operation,
    client: httpx.AsyncClient,
    running_app: FastAPI,
    staff: StaffFactory,
    connection: AsyncConnection,
) -> None:
    """Every role on one operation: the refused roles all on one world (which must be left
    exactly as it was), each permitted role on a world of its own unless the operation only
    reads (so that one permitted change cannot make the next one fail)."""
    world = await build_world(client)
    before = await snapshot(client, world)
    counts = await table_counts(connection)
    allowed = [role for role in ROLES if permitted(role, operation)]
    for role in ROLES:
        if role in allowed:
            continue
        caller = await staff((role.value,))
        async with http_client(running_app, caller.headers(PURPOSES[role])) as as_role:
            await refused(as_role, operation, world, f"role {role.value} x {operation.label}")
    assert await table_counts(connection) == counts, f"{operation.label}: a refused call wrote"
    assert await snapshot(client, world) == before, f"{operation.label}: a refused call changed"
    for index, role in enumerate(allowed):
        if index and operation.method != "GET":
            world = await build_world(client)
        caller = await staff((role.value,))
        async with http_client(running_app, caller.headers(PURPOSES[role])) as as_role:
            response = await send(as_role, operation, world)
        cell = f"role {role.value} x {operation.label}"
        assert response.status_code == operation.success, f"{cell}: {response.text}"


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.value)
async def test_every_role_may_ask_who_it_is(
    role: StaffRole, running_app: FastAPI, staff: StaffFactory
) -> None:
    caller = await staff((role.value,))
    async with http_client(running_app, caller.headers(purpose=None)) as as_role:
        response = await as_role.get("/v1/auth/me")
    assert response.status_code == 200, f"role {role.value}: {response.text}"
    body = response.json()
    assert body["roles"] == [role.value], f"role {role.value}"
    assert body["scopes"] == sorted(scope.value for scope in ROLE_SCOPES[role]), (
        f"role {role.value}"
    )
