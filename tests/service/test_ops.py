"""Operational endpoints: liveness, readiness, metrics, OpenAPI."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from service.app import openapi_document

ROOT = Path(__file__).resolve().parents[2]


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok"}


async def test_readyz_when_migrated(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_readyz_is_503_when_migrations_are_pending(client, connection):
    await connection.execute(text("RESET ROLE"))
    await connection.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "older" in response.json()["detail"]


async def test_readyz_is_503_when_the_database_is_gone(client, connection):
    await connection.execute(text("RESET ROLE"))
    await connection.execute(text("ALTER TABLE alembic_version RENAME TO alembic_version_gone"))
    await connection.execute(text("CREATE VIEW alembic_version AS SELECT 1/0 AS version_num"))
    response = await client.get("/readyz")
    assert response.status_code == 503


async def test_metrics_count_requests_per_route_and_pool_use(client):
    await client.get("/v1/tracing-requests")
    await client.get("/v1/tracing-requests/00000000-0000-0000-0000-000000000000")
    response = await client.get("/metrics")
    assert response.status_code == 200
    body = response.text
    assert 'handler="/v1/tracing-requests/{request_id}"' in body
    assert "kintrace_http_request_duration_seconds" in body or "http_request_duration" in body
    assert 'kintrace_db_pool_connections{state="checked_out"}' in body


def test_committed_openapi_matches_the_code():
    committed = json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    assert committed == openapi_document(), "run `uv run kintrace openapi` and commit the result"


async def test_served_openapi_is_the_committed_document(client):
    response = await client.get("/openapi.json")
    assert response.json() == openapi_document()


def test_every_route_is_documented():
    document = openapi_document()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            assert operation.get("description"), where
            errors = [code for code in operation["responses"] if code.startswith(("4", "5"))]
            assert errors, f"{where} documents no error response"
            for code in errors:
                content = operation["responses"][code].get("content", {})
                assert list(content) == ["application/problem+json"], (where, code)
