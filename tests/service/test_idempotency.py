"""Idempotency-Key on POST (IETF draft semantics)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from tests.service.payloads import registration, tracing_request


async def test_retry_with_same_key_returns_first_result(client):
    headers = {"Idempotency-Key": "retry-1"}
    first = await client.post("/v1/tracing-requests", json=tracing_request(), headers=headers)
    second = await client.post("/v1/tracing-requests", json=tracing_request(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["idempotent-replayed"] == "true"
    listed = await client.get("/v1/tracing-requests")
    assert len(listed.json()["items"]) == 1


async def test_key_order_of_the_body_does_not_matter(client):
    body = registration()
    reordered = dict(reversed(list(body.items())))
    headers = {"Idempotency-Key": "order-1"}
    first = await client.post("/v1/registrations", json=body, headers=headers)
    second = await client.post("/v1/registrations", json=reordered, headers=headers)
    assert second.json()["id"] == first.json()["id"]


async def test_same_key_other_body_is_422(client):
    headers = {"Idempotency-Key": "reuse-1"}
    await client.post("/v1/registrations", json=registration(), headers=headers)
    other = await client.post(
        "/v1/registrations", json=registration(notes="different"), headers=headers
    )
    assert other.status_code == 422
    assert other.json()["type"] == "urn:kintrace:problem:idempotency-key-reused"


async def test_same_key_other_endpoint_is_422(client):
    headers = {"Idempotency-Key": "reuse-2"}
    await client.post("/v1/registrations", json=registration(), headers=headers)
    other = await client.post("/v1/tracing-requests", json=tracing_request(), headers=headers)
    assert other.status_code == 422


async def test_without_key_each_post_creates(client):
    first = await client.post("/v1/registrations", json=registration())
    second = await client.post("/v1/registrations", json=registration())
    assert first.json()["id"] != second.json()["id"]


async def test_invalid_key_is_refused(client):
    response = await client.post(
        "/v1/registrations", json=registration(), headers={"Idempotency-Key": "x" * 300}
    )
    assert response.status_code == 422
    assert response.json()["invalid-params"][0]["location"] == "header"


async def test_expired_key_can_be_reused(client, connection):
    headers = {"Idempotency-Key": "expiring"}
    first = await client.post("/v1/registrations", json=registration(), headers=headers)
    await connection.execute(
        text("UPDATE idempotency_record SET expires_at = now() - interval '1 second'")
    )
    second = await client.post(
        "/v1/registrations", json=registration(notes="new body"), headers=headers
    )
    assert second.status_code == 201
    assert second.json()["id"] != first.json()["id"]


async def test_keys_are_scoped_to_the_caller(client, caseworker, connection):
    from service.db.models import IdempotencyRecord

    headers = {"Idempotency-Key": "scoped"}
    await client.post("/v1/registrations", json=registration(), headers=headers)
    rows = (
        await connection.execute(
            text(f"SELECT society_id, principal FROM {IdempotencyRecord.__tablename__}")
        )
    ).all()
    assert len(rows) == 1
    assert rows[0].society_id == caseworker.society_id
    assert rows[0].principal == f"user:{caseworker.user_id}"


async def test_concurrent_twins_create_exactly_one_record(committing_client, engine):
    headers = {"Idempotency-Key": "twins"}
    body = tracing_request()
    responses = await asyncio.gather(
        *[
            committing_client.post("/v1/tracing-requests", json=body, headers=headers)
            for _ in range(4)
        ]
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    created_ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created_ids) == 1
    async with engine.connect() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM tracing_request"))).scalar()
    assert count == 1
    for response in responses:
        if response.status_code == 409:
            assert response.json()["type"] == "urn:kintrace:problem:idempotency-in-flight"
    retry = await committing_client.post("/v1/tracing-requests", json=body, headers=headers)
    assert retry.status_code == 201
    assert retry.json()["id"] in created_ids


async def test_expired_records_are_purged_at_start(client, session):
    from service.idempotency.repository import purge_expired

    await client.post("/v1/registrations", json=registration(), headers={"Idempotency-Key": "p"})
    await session.exec(text("UPDATE idempotency_record SET expires_at = now() - interval '1 s'"))
    assert await purge_expired(session) == 1
    assert await purge_expired(session) == 0
