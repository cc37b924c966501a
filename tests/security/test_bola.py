"""Object-level authorisation (BOLA): a society never reaches another society's records.

The matrix is generated from the application's own routes: every `/v1` operation whose path
takes an id is called by a caseworker of `local` on its own record (the route's success code),
on a record of the society `other` and on a random id. The foreign and the random id must be
indistinguishable (404, the same problem document apart from the ids and the request id, the
same headers), and the foreign record must be exactly as its owner left it. A child id
(name, relationship) under one's own parent that belongs to another parent is missing too.
Lists, the audit trail and idempotency keys are per society (and keys per caller) as well.

`OPERATIONS` and `REQUEST_BODIES` are shared with the function-level (BFLA) and
mass-assignment matrices: a route without a valid body in the table fails the suite.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from matching import Matcher
from schemas.paging import MAX_PAGE_SIZE
from service.app import create_app
from service.candidates import repository as candidates
from service.candidates import worker
from service.db.models import SharingGrant, WebhookSubscription
from service.disclosure import repository as disclosures
from service.settings import Settings
from service.sharing import repository as sharing
from service.webhooks import repository as webhooks
from tests.conftest import Staff, StaffFactory, http_client, make_staff
from tests.service.payloads import (
    REGISTERED_MOTHER,
    SOUGHT_MOTHER,
    enquirer,
    registration,
    sought_person,
    tracing_request,
)

OTHER_SOCIETY = "other"
TOKEN_ENDPOINT = ("POST", "/v1/auth/token")
ID_PARAMS = frozenset(
    {
        "request_id",
        "person_id",
        "name_id",
        "relationship_id",
        "link_id",
        "consent_id",
        "disclosure_id",
        "grant_id",
        "subscription_id",
        "import_id",
    }
)
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
VOLATILE_HEADERS = frozenset({"x-request-id", "date"})
TRACING_CONSENT = {
    "scope": "tracing",
    "obtained_how": "in_person_oral",
    "obtained_on": "2026-01-10",
}


@dataclass(frozen=True)
class Operation:
    """One `/v1` method and path of the application, as its route declares it."""

    method: str
    path: str
    success: int
    path_params: tuple[str, ...]
    if_match: bool
    has_body: bool
    dependant: Dependant = field(compare=False, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        """(method, path template): the key of the body table."""
        return self.method, self.path

    @property
    def label(self) -> str:
        """`METHOD /path`, for test ids and assertion messages."""
        return f"{self.method} {self.path}"


def v1_operations(app: FastAPI) -> list[Operation]:
    """Every `/v1` operation of `app` (routers included lazily are expanded)."""
    found = []
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path or ""
        if not isinstance(route, APIRoute) or not path.startswith("/v1/"):
            continue
        dependant: Dependant = context.dependant
        headers = {param.alias for param in dependant.header_params}
        for method in sorted((context.methods or set()) - {"HEAD"}):
            found.append(
                Operation(
                    method=method,
                    path=path,
                    success=route.status_code or 200,
                    path_params=tuple(context.param_convertors),
                    if_match="If-Match" in headers,
                    has_body=bool(dependant.body_params),
                    dependant=dependant,
                )
            )
    return found


def static_app() -> FastAPI:
    """The application built without a database, to generate the matrices at collection time."""
    return create_app(Settings(database_url="postgresql://unused/unused"))


OPERATIONS = v1_operations(static_app())
ID_OPERATIONS = [op for op in OPERATIONS if ID_PARAMS & set(op.path_params)]
NESTED_OPERATIONS = [op for op in ID_OPERATIONS if len(op.path_params) > 1]


@dataclass(frozen=True)
class World:
    """The records one society holds for the matrices.

    A tracing request with an enquirer, a sought person related to the enquirer (one
    relationship) and a second sought person with no relationship yet; a registration with two
    names. ETags are the records' current ones.
    """

    request_id: str
    enquirer_id: str
    sought_id: str
    unrelated_id: str
    relationship_id: str
    request_etag: str
    registration_id: str
    name_ids: tuple[str, str]
    registration_etag: str
    link_id: str
    link_etag: str
    consent_id: str
    disclosure_id: str
    delivery_id: str
    sensitive_id: str
    grant_id: str
    subscription_id: str
    shared_id: str
    giver_code: str
    import_id: str

    def path_values(self, operation: Operation | None = None) -> dict[str, str]:
        """The value of each id path parameter in this world (a death's delivery is recorded
        on its own disclosure; a shared person is another society's)."""
        path = operation.path if operation is not None else ""
        delivery = path.endswith("/delivered")
        lift = path.endswith("/sensitivity-lift")
        person = self.registration_id
        if lift:
            person = self.sensitive_id
        elif path.startswith("/v1/shared/"):
            person = self.shared_id
        return {
            "disclosure_id": self.delivery_id if delivery else self.disclosure_id,
            "request_id": self.request_id,
            "person_id": person,
            "grant_id": self.grant_id,
            "subscription_id": self.subscription_id,
            "import_id": self.import_id,
            "name_id": self.name_ids[1],
            "relationship_id": self.relationship_id,
            "link_id": self.link_id,
            "consent_id": self.consent_id,
        }

    def etag_for(self, operation: Operation) -> str:
        """The current ETag of the record the operation changes.

        For another society's record this is the best guess an attacker could make (usually
        `"v1"`), so a refusal cannot come from a stale `If-Match`.
        """
        return {
            "request_id": self.request_etag,
            "link_id": self.link_etag,
            "grant_id": '"v1"',
        }.get(operation.path_params[0], self.registration_etag)


def random_world() -> World:
    """Ids nobody holds, with the first ETag any record has."""

    def fresh() -> str:
        return str(uuid.uuid4())

    return World(
        request_id=fresh(),
        enquirer_id=fresh(),
        sought_id=fresh(),
        unrelated_id=fresh(),
        relationship_id=fresh(),
        request_etag='"v1"',
        registration_id=fresh(),
        name_ids=(fresh(), fresh()),
        registration_etag='"v1"',
        link_id=fresh(),
        link_etag='"v1"',
        consent_id=fresh(),
        disclosure_id=fresh(),
        delivery_id=fresh(),
        sensitive_id=fresh(),
        grant_id=fresh(),
        subscription_id=fresh(),
        shared_id=fresh(),
        giver_code="nobody",
        import_id=fresh(),
    )


@dataclass(frozen=True)
class RawBody:
    """A body that is not JSON (a file sent whole), with the query it needs."""

    query: str
    content: bytes


IMPORT_BODY = RawBody(
    "format=jsonl",
    (
        json.dumps({"type": "registration", "external_id": "world-1", **registration()}) + "\n"
    ).encode(),
)

BodyFactory = Callable[[World], dict[str, Any] | RawBody | None]


def no_body(_: World) -> None:
    """The operation takes no body."""
    return None


REQUEST_BODIES: dict[tuple[str, str], BodyFactory] = {
    ("GET", "/v1/auth/me"): no_body,
    ("POST", "/v1/tracing-requests"): lambda _: tracing_request(),
    ("GET", "/v1/tracing-requests"): no_body,
    ("GET", "/v1/tracing-requests/{request_id}"): no_body,
    ("PATCH", "/v1/tracing-requests/{request_id}"): lambda _: {
        "circumstances": "Separated at the border crossing; confirmed in a second interview."
    },
    ("POST", "/v1/tracing-requests/{request_id}/close"): lambda _: {"outcome": "not_found"},
    ("POST", "/v1/tracing-requests/{request_id}/persons"): lambda _: sought_person(
        relationship_to_enquirer="father", names=[{"full_name": "Hasan Ali"}], sex="male"
    ),
    ("GET", "/v1/tracing-requests/{request_id}/persons"): no_body,
    ("POST", "/v1/tracing-requests/{request_id}/relationships"): lambda world: {
        "enquirer_id": world.enquirer_id,
        "sought_person_id": world.unrelated_id,
        "relationship": "brother",
    },
    ("DELETE", "/v1/tracing-requests/{request_id}/relationships/{relationship_id}"): no_body,
    ("POST", "/v1/registrations"): lambda _: registration(),
    ("GET", "/v1/registrations"): no_body,
    ("GET", "/v1/persons/{person_id}"): no_body,
    ("PATCH", "/v1/persons/{person_id}"): lambda _: {"notes": "Seen at the reception centre."},
    ("POST", "/v1/persons/{person_id}/close"): lambda _: {"reason": "Duplicate registration."},
    ("POST", "/v1/persons/{person_id}/names"): lambda _: {
        "kind": "alias",
        "full_name": "Fatima Hassan",
    },
    ("DELETE", "/v1/persons/{person_id}/names/{name_id}"): no_body,
    ("POST", "/v1/persons/{person_id}/consents"): lambda _: TRACING_CONSENT,
    ("GET", "/v1/persons/{person_id}/consents"): no_body,
    ("POST", "/v1/persons/{person_id}/consents/{consent_id}/withdrawal"): lambda _: {
        "reason": "No longer wishes to be traced."
    },
    ("POST", "/v1/persons/{person_id}/do-not-trace"): no_body,
    ("POST", "/v1/persons/{person_id}/sensitivity-lift"): no_body,
    ("GET", "/v1/persons/{person_id}/subject-access"): no_body,
    ("POST", "/v1/persons/{person_id}/erasure"): lambda _: {"reason": "requested by the person"},
    ("GET", "/v1/disclosures"): no_body,
    ("GET", "/v1/disclosures/{disclosure_id}"): no_body,
    ("POST", "/v1/disclosures/{disclosure_id}/request"): no_body,
    ("POST", "/v1/disclosures/{disclosure_id}/answer"): lambda _: {"answer": "no_answer"},
    ("POST", "/v1/disclosures/{disclosure_id}/verification"): lambda _: {
        "method": "documents and interview",
        "verified_on": "2026-02-03",
    },
    ("POST", "/v1/disclosures/{disclosure_id}/approvals"): no_body,
    ("POST", "/v1/disclosures/{disclosure_id}/delivered"): no_body,
    ("GET", "/v1/tracing-requests/{request_id}/enquirer-view"): no_body,
    ("GET", "/v1/audit-events"): no_body,
    ("GET", "/v1/candidate-links"): no_body,
    ("GET", "/v1/events"): no_body,
    ("POST", "/v1/search"): lambda _: {"name": "Fatma Hasan", "birth_date": "1960"},
    ("GET", "/v1/search-flags"): no_body,
    ("GET", "/v1/candidate-links/{link_id}"): no_body,
    ("POST", "/v1/candidate-links/{link_id}/decisions"): lambda _: {
        "decision": "reject",
        "reason": "different_person",
    },
    ("POST", "/v1/sharing-grants"): lambda world: {
        "recipient_society": world.giver_code,
        "record_kinds": ["registration"],
        "fields": ["names", "sex"],
        "legal_basis": "vital_interest",
        "valid_until": "2031-01-01T00:00:00Z",
    },
    ("GET", "/v1/sharing-grants"): no_body,
    ("GET", "/v1/sharing-grants/{grant_id}"): no_body,
    ("POST", "/v1/sharing-grants/{grant_id}/revocation"): lambda _: {"reason": "case closed"},
    ("GET", "/v1/shared/persons"): no_body,
    ("GET", "/v1/shared/persons/{person_id}"): no_body,
    ("GET", "/v1/transfers"): no_body,
    ("GET", "/v1/transfers/export"): no_body,
    ("POST", "/v1/webhook-subscriptions"): lambda _: {"url": "http://127.0.0.1:8080/hooks"},
    ("GET", "/v1/webhook-subscriptions"): no_body,
    ("GET", "/v1/webhook-subscriptions/{subscription_id}"): no_body,
    ("POST", "/v1/webhook-subscriptions/{subscription_id}/disable"): no_body,
    ("GET", "/v1/webhook-subscriptions/{subscription_id}/deliveries"): no_body,
    ("POST", "/v1/imports"): lambda _: IMPORT_BODY,
    ("GET", "/v1/imports"): no_body,
    ("GET", "/v1/imports/{import_id}"): no_body,
    ("GET", "/v1/imports/{import_id}/problems"): no_body,
    ("GET", "/v1/exports/pfif"): no_body,
}


async def newest_link(owner: httpx.AsyncClient, left: str, right: str) -> tuple[str, str]:
    """Run one match-worker pass in the owner's application; the pair's link id and ETag."""
    runtime = owner._transport.app.state.runtime  # type: ignore[attr-defined]
    await worker.drain(runtime.sessions, runtime.tenant_session, Matcher(), 0.5)
    me = await owner.get("/v1/auth/me")
    society = uuid.UUID(me.json()["society_id"])
    first, second = sorted((uuid.UUID(left), uuid.UUID(right)))
    async with runtime.tenant_session(society) as session:
        link = await candidates.link_for_pair(session, first, second)
    assert link is not None, "the world's mother and her registration are proposed"
    return str(link.id), f'"v{link.version}"'


async def open_disclosures(
    owner: httpx.AsyncClient, link_id: str, sought: tuple[str, str], enquirer_id: str, found: str
) -> tuple[str, str]:
    """Disclosures in the states the disclosure routes act on, written straight to the owner's
    society (the flows that lead to them are tested in tests/service/disclosure): a minor's,
    pending, on the world's link; a death's, for delivery, on a second link."""
    runtime = owner._transport.app.state.runtime  # type: ignore[attr-defined]
    society = uuid.UUID((await owner.get("/v1/auth/me")).json()["society_id"])
    request_id, unrelated_id = sought
    left, right = sorted((uuid.UUID(unrelated_id), uuid.UUID(found)))
    async with runtime.tenant_session(society) as session:
        await candidates.save_links(
            session,
            [
                {
                    "society_id": society,
                    "left_person_id": left,
                    "right_person_id": right,
                    "kind": "sought_registration",
                    "probability": 0.9,
                    "match_weight": 3.0,
                    "explanation": {},
                    "model_version": "test",
                    "fingerprint": "0" * 64,
                }
            ],
        )
        second = await candidates.link_for_pair(session, left, right)
        assert second is not None
        ids = []
        for link, person, status, minor in (
            (uuid.UUID(link_id), found, "pending", True),
            (second.id, found, "caseworker_delivery", False),
        ):
            disclosure_id = uuid.uuid4()
            await disclosures.open_disclosure(
                session,
                {
                    "id": disclosure_id,
                    "society_id": society,
                    "link_id": link,
                    "tracing_request_id": uuid.UUID(request_id),
                    "enquirer_id": uuid.UUID(enquirer_id),
                    "sought_person_id": uuid.UUID(unrelated_id),
                    "found_person_id": uuid.UUID(person),
                    "status": status,
                    "minor": minor,
                },
            )
            ids.append(str(disclosure_id))
        await session.commit()
    return ids[0], ids[1]


async def partner_records(owner: httpx.AsyncClient) -> tuple[str, str, str, str]:
    """A society that shares a registration with the owner's (the owner reads it under the
    grant), a grant of the owner's to that society and a webhook subscription of the owner's,
    the last two written straight to the owner's tables (the flows are tested in
    tests/service/sharing and tests/service/webhooks)."""
    runtime = owner._transport.app.state.runtime  # type: ignore[attr-defined]
    me = (await owner.get("/v1/auth/me")).json()
    society, code = uuid.UUID(me["society_id"]), me["society_code"]
    giver = await make_staff(runtime, "unused", ("supervisor",), society=f"giver-{code}")
    headers = giver.headers()
    shared = await owner.post("/v1/registrations", json=registration(), headers=headers)
    granted = await owner.post(
        "/v1/sharing-grants",
        json={
            "recipient_society": code,
            "record_kinds": ["registration"],
            "fields": ["names"],
            "legal_basis": "vital_interest",
            "valid_until": "2031-01-01T00:00:00Z",
        },
        headers=headers,
    )
    assert shared.status_code == granted.status_code == 201, granted.text
    async with runtime.tenant_session(society) as session:
        grant = await sharing.insert_grant(
            session,
            SharingGrant(
                society_id=society,
                recipient_society_id=giver.society_id,
                record_kinds=["tracing_request"],
                fields=["names"],
                purpose="restoring_family_links",
                legal_basis="vital_interest",
                valid_until=datetime.datetime(2031, 1, 1, tzinfo=datetime.UTC),
                created_by="test",
            ),
        )
        subscription = await webhooks.insert_subscription(
            session,
            WebhookSubscription(
                id=uuid.uuid4(),
                society_id=society,
                owner="test",
                url="http://127.0.0.1:8080/hooks",
                secret="",
                event_types=["person.erased"],
            ),
            "whsec_" + "A" * 43 + "=",
        )
        await session.commit()
    return str(grant.id), str(subscription.id), shared.json()["id"], giver.society_code


async def build_world(owner: httpx.AsyncClient) -> World:
    """Create a `World` in the owner's society, through the API."""
    unrelated = sought_person(
        relationship_to_enquirer=None, names=[{"full_name": "Yusuf Hasan"}], sex="male"
    )
    request = await owner.post(
        "/v1/tracing-requests",
        json=tracing_request(persons=[enquirer(), sought_person(**SOUGHT_MOTHER), unrelated]),
    )
    assert request.status_code == 201, request.text
    created = request.json()
    first, second, third = created["persons"]
    (relationship,) = created["relationships"]
    names = [{"full_name": "Fatma Hasan"}, {"kind": "alias", "full_name": "فاطمة حسن"}]
    person = await owner.post(
        "/v1/registrations", json=registration(names=names, **REGISTERED_MOTHER)
    )
    assert person.status_code == 201, person.text
    registered = person.json()
    link_id, link_etag = await newest_link(owner, second["id"], registered["id"])
    consent = await owner.post(f"/v1/persons/{registered['id']}/consents", json=TRACING_CONSENT)
    assert consent.status_code == 201, consent.text
    at_risk = await owner.post(
        "/v1/registrations",
        json=registration(names=[{"full_name": "Hawa Ali"}], sex="female", sensitive=True),
    )
    assert at_risk.status_code == 201, at_risk.text
    disclosure_id, delivery_id = await open_disclosures(
        owner, link_id, (created["id"], third["id"]), first["id"], registered["id"]
    )
    grant_id, subscription_id, shared_id, giver_code = await partner_records(owner)
    queued = await owner.post(f"/v1/imports?{IMPORT_BODY.query}", content=IMPORT_BODY.content)
    assert queued.status_code == 202, queued.text
    return World(
        request_id=created["id"],
        enquirer_id=first["id"],
        sought_id=second["id"],
        unrelated_id=third["id"],
        relationship_id=relationship["id"],
        request_etag=request.headers["etag"],
        registration_id=registered["id"],
        name_ids=(registered["names"][0]["id"], registered["names"][1]["id"]),
        registration_etag=person.headers["etag"],
        link_id=link_id,
        link_etag=link_etag,
        consent_id=consent.json()["id"],
        disclosure_id=disclosure_id,
        delivery_id=delivery_id,
        sensitive_id=at_risk.json()["id"],
        grant_id=grant_id,
        subscription_id=subscription_id,
        shared_id=shared_id,
        giver_code=giver_code,
        import_id=queued.json()["id"],
    )


async def all_items(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paged list, following `next_cursor`."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": MAX_PAGE_SIZE, **params}
        if cursor is not None:
            query["cursor"] = cursor
        response = await client.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def snapshot(owner: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """Everything the owner sees of its world: the request (with persons, relationships and
    versions), the registration (with names and version) and the ids its lists show."""
    request = await owner.get(f"/v1/tracing-requests/{world.request_id}")
    person = await owner.get(f"/v1/persons/{world.registration_id}")
    return {
        "request": (request.status_code, request.json(), request.headers.get("etag")),
        "registration": (person.status_code, person.json(), person.headers.get("etag")),
        "requests": [item["id"] for item in await all_items(owner, "/v1/tracing-requests")],
        "registrations": [item["id"] for item in await all_items(owner, "/v1/registrations")],
    }


def target(operation: Operation, world: World, **overrides: str) -> str:
    """The operation's URL on the world's records (`overrides` replace single ids)."""
    values = {**world.path_values(operation), **overrides}
    return operation.path.format(**{name: values[name] for name in operation.path_params})


async def send(
    client: httpx.AsyncClient, operation: Operation, world: World, **overrides: str
) -> httpx.Response:
    """Call the operation on the world's records with a valid body and the world's ETag."""
    body = REQUEST_BODIES[operation.key](world)
    headers = {"If-Match": world.etag_for(operation)} if operation.if_match else {}
    url = target(operation, world, **overrides)
    if isinstance(body, RawBody):
        return await client.request(
            operation.method, f"{url}?{body.query}", content=body.content, headers=headers
        )
    return await client.request(operation.method, url, json=body, headers=headers)


def normalised(response: httpx.Response) -> dict[str, Any]:
    """Status, headers and problem body without what differs by id or request id."""
    body = response.json() if response.content else None
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if key != "request_id"}
        for key in ("detail", "instance"):
            if isinstance(body.get(key), str):
                body[key] = UUID_PATTERN.sub("<id>", body[key])
    headers = {
        name: value for name, value in response.headers.items() if name not in VOLATILE_HEADERS
    }
    return {"status": response.status_code, "headers": headers, "body": body}


def leaks_between(label: str, foreign: httpx.Response, missing: httpx.Response) -> list[str]:
    """What tells a record of another owner apart from a missing one (empty: nothing)."""
    leaks = []
    if foreign.status_code != 404:
        leaks.append(f"{label}: a record of another owner answered {foreign.status_code}")
    if missing.status_code != 404:
        leaks.append(f"{label}: a random id answered {missing.status_code}")
    if foreign.headers.get("content-type") != "application/problem+json":
        leaks.append(f"{label}: content-type {foreign.headers.get('content-type')}")
    seen, expected = normalised(foreign), normalised(missing)
    for part in changed_parts(expected, seen):
        leaks.append(f"{label}: {part} of the answer differs: {expected[part]} != {seen[part]}")
    return leaks


def changed_parts(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The keys whose values differ between two snapshots."""
    return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))


@pytest.fixture
async def client(running_app: FastAPI, staff: StaffFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The would-be intruder of `local`: a caseworker who also reviews, supervises and is the
    data-protection officer, so that only society isolation, never a missing scope, stands
    between them and another society's records."""
    intruder = await staff(("caseworker", "reviewer", "supervisor", "data_protection_officer"))
    async with http_client(running_app, intruder.headers()) as signed_in:
        yield signed_in


@pytest.fixture
async def other(staff: StaffFactory) -> Staff:
    """A caseworker and supervisor of the society `other`."""
    return await staff(("caseworker", "supervisor"), society=OTHER_SOCIETY)


@pytest.fixture
async def other_client(running_app: FastAPI, other: Staff) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client signed in as `other`."""
    async with http_client(running_app, other.headers()) as client:
        yield client


def test_routes_are_found() -> None:
    """The enumeration sees the routers included under `/v1` (a vacuous matrix proves nothing)."""
    labels = {op.label for op in OPERATIONS}
    assert "GET /v1/tracing-requests/{request_id}" in labels
    assert "DELETE /v1/persons/{person_id}/names/{name_id}" in labels
    assert len(ID_OPERATIONS) >= 12


def test_every_v1_operation_has_a_valid_body() -> None:
    """A new `/v1` route without a case in `REQUEST_BODIES` fails here (and stale cases too)."""
    declared = {op.key for op in OPERATIONS} - {TOKEN_ENDPOINT}
    assert declared == set(REQUEST_BODIES), (
        f"missing: {sorted(declared - set(REQUEST_BODIES))}, "
        f"stale: {sorted(set(REQUEST_BODIES) - declared)}"
    )


def test_every_id_parameter_has_a_value() -> None:
    """Every id a `/v1` path takes is one the worlds supply."""
    taken = {name for op in OPERATIONS for name in op.path_params}
    assert taken <= ID_PARAMS, sorted(taken - ID_PARAMS)


def test_matrix_matches_the_running_application(running_app: FastAPI) -> None:
    """The operations generated at collection time are those of the application under test."""
    assert v1_operations(running_app) == OPERATIONS


@pytest.mark.parametrize("operation", ID_OPERATIONS, ids=lambda op: op.label)
async def test_another_societys_record_answers_like_a_missing_one(
    operation: Operation, client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    own = await build_world(client)
    foreign = await build_world(other_client)
    before = await snapshot(other_client, foreign)

    foreign_answer = await send(client, operation, foreign)
    missing_answer = await send(client, operation, random_world())
    leaks = leaks_between(operation.label, foreign_answer, missing_answer)
    for part in changed_parts(before, await snapshot(other_client, foreign)):
        leaks.append(f"{operation.label}: the foreign {part} changed")

    own_answer = await send(client, operation, own)
    assert own_answer.status_code == operation.success, (operation.label, own_answer.text)
    assert len(leaks) == 0, "\n".join(leaks)


@pytest.mark.parametrize("child_owner", ["other-society", "same-society"])
@pytest.mark.parametrize("operation", NESTED_OPERATIONS, ids=lambda op: op.label)
async def test_a_child_of_another_parent_is_missing(
    operation: Operation,
    child_owner: str,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
) -> None:
    """`/own-parent/.../{child}` where the child belongs to another parent (of another society,
    or of the same one): answered like a random child id, and nothing changes."""
    own = await build_world(client)
    owner = other_client if child_owner == "other-society" else client
    stranger = await build_world(owner)
    child = operation.path_params[-1]
    before = await snapshot(owner, stranger)
    own_before = await snapshot(client, own)

    stranger_answer = await send(client, operation, own, **{child: stranger.path_values()[child]})
    missing_answer = await send(client, operation, own, **{child: str(uuid.uuid4())})
    leaks = leaks_between(operation.label, stranger_answer, missing_answer)
    for part in changed_parts(before, await snapshot(owner, stranger)):
        leaks.append(f"{operation.label}: the other parent's {part} changed")
    for part in changed_parts(own_before, await snapshot(client, own)):
        leaks.append(f"{operation.label}: the own {part} changed on a refused call")
    assert len(leaks) == 0, "\n".join(leaks)


async def test_relationship_between_foreign_persons_is_refused_like_unknown_ones(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    """Naming another society's persons in a relationship body reveals nothing about them."""
    own = await build_world(client)
    foreign = await build_world(other_client)
    before = await snapshot(other_client, foreign)
    url = f"/v1/tracing-requests/{own.request_id}/relationships"

    def body(enquirer_id: str, sought_id: str) -> dict[str, str]:
        return {"enquirer_id": enquirer_id, "sought_person_id": sought_id, "relationship": "son"}

    foreign_answer = await client.post(url, json=body(foreign.enquirer_id, foreign.unrelated_id))
    missing_answer = await client.post(url, json=body(str(uuid.uuid4()), str(uuid.uuid4())))
    assert foreign_answer.status_code == 422, foreign_answer.text
    assert normalised(foreign_answer) == normalised(missing_answer)
    assert await snapshot(other_client, foreign) == before
    own_answer = await client.get(f"/v1/tracing-requests/{own.request_id}")
    assert len(own_answer.json()["relationships"]) == 1


async def test_idempotency_key_of_another_society_is_another_key(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    """Another body under the other society's key: a new record, neither a replay nor a 422."""
    key = {"Idempotency-Key": "k1"}
    theirs = await other_client.post(
        "/v1/registrations", json=registration(notes="theirs"), headers=key
    )
    assert theirs.status_code == 201, theirs.text

    ours = await client.post("/v1/registrations", json=registration(notes="ours"), headers=key)

    assert ours.status_code == 201, ours.text
    assert "idempotent-replayed" not in ours.headers
    assert ours.json()["id"] != theirs.json()["id"]
    assert ours.json()["notes"] == "ours"
    our_ids = {item["id"] for item in await all_items(client, "/v1/registrations")}
    their_ids = {item["id"] for item in await all_items(other_client, "/v1/registrations")}
    assert our_ids == {ours.json()["id"]}
    assert their_ids == {theirs.json()["id"]}


async def test_same_body_and_key_in_another_society_is_not_a_replay(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    """The same body under the other society's key: not their stored response."""
    key = {"Idempotency-Key": "k1"}
    theirs = await other_client.post("/v1/registrations", json=registration(), headers=key)
    ours = await client.post("/v1/registrations", json=registration(), headers=key)
    assert ours.status_code == 201, ours.text
    assert "idempotent-replayed" not in ours.headers
    assert ours.json()["id"] != theirs.json()["id"]
    assert (await client.get(f"/v1/persons/{ours.json()['id']}")).status_code == 200
    assert (await client.get(f"/v1/persons/{theirs.json()['id']}")).status_code == 404


@pytest.mark.parametrize("same_body", [False, True], ids=["different-body", "same-body"])
async def test_idempotency_keys_are_scoped_to_the_caller_within_a_society(
    same_body: bool,
    client: httpx.AsyncClient,
    running_app: FastAPI,
    staff: StaffFactory,
) -> None:
    colleague = await staff(("caseworker",))
    key = {"Idempotency-Key": "k1"}
    first = await client.post("/v1/registrations", json=registration(notes="first"), headers=key)
    assert first.status_code == 201, first.text
    body = registration(notes="first" if same_body else "second")
    async with http_client(running_app, colleague.headers()) as theirs:
        second = await theirs.post("/v1/registrations", json=body, headers=key)
    assert second.status_code == 201, second.text
    assert "idempotent-replayed" not in second.headers
    assert second.json()["id"] != first.json()["id"]
    listed = {item["id"] for item in await all_items(client, "/v1/registrations")}
    assert listed == {first.json()["id"], second.json()["id"]}


@pytest.mark.parametrize(
    ("path", "ids_of"),
    [
        ("/v1/tracing-requests", lambda world: {world.request_id}),
        ("/v1/registrations", lambda world: {world.registration_id}),
    ],
    ids=["tracing-requests", "registrations"],
)
async def test_lists_show_only_the_callers_society(
    path: str,
    ids_of: Callable[[World], set[str]],
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
) -> None:
    own = await build_world(client)
    foreign = await build_world(other_client)
    listed = {item["id"] for item in await all_items(client, path)}
    assert ids_of(own) <= listed
    assert not ids_of(foreign) & listed
    their_listed = {item["id"] for item in await all_items(other_client, path)}
    assert not ids_of(own) & their_listed


def world_ids(world: World) -> set[str]:
    """Every record id of a world."""
    return {
        world.request_id,
        world.enquirer_id,
        world.sought_id,
        world.unrelated_id,
        world.relationship_id,
        world.registration_id,
        *world.name_ids,
    }


async def test_audit_trail_shows_only_the_callers_society(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    other: Staff,
    running_app: FastAPI,
    staff: StaffFactory,
) -> None:
    own = await build_world(client)
    foreign = await build_world(other_client)
    await snapshot(other_client, foreign)  # reads recorded in the other society's trail
    auditor = await staff(("auditor",))
    async with http_client(running_app, auditor.headers("audit")) as audit:
        events = await all_items(audit, "/v1/audit-events")
        recorded = {record for event in events for record in event["record_ids"]}
        assert own.request_id in recorded
        assert not world_ids(foreign) & recorded
        assert f"user:{other.user_id}" not in {event["actor"] for event in events}
        for params in ({"record_id": foreign.request_id}, {"actor": f"user:{other.user_id}"}):
            assert await all_items(audit, "/v1/audit-events", **params) == []
