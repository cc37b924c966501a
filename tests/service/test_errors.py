"""Every error is RFC 9457 problem+json with a stable type, and never leaks internals."""

from __future__ import annotations

import uuid

import pytest

from tests.service.payloads import registration, tracing_request

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"urn:kintrace:problem:{slug}"
    assert body["status"] == status
    assert body["title"]
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return body


async def test_malformed_json_is_400(client):
    response = await client.post(
        "/v1/tracing-requests",
        content=b'{"persons": [',
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 400, "malformed-json")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"persons": "nobody"}, "persons"),
        ({"opened_on": "yesterday"}, "opened_on"),
        ({"status": "lost"}, "status"),
        (
            {"separation_place": {"text": "x", "country_code": "Syria"}},
            "separation_place.country_code",
        ),
        ({"persons": [{"role": "enquirer", "sex": 3}]}, "persons.0.sex"),
        (
            {"persons": [{"role": "enquirer", "names": [{"kind": "title", "full_name": "x"}]}]},
            "persons.0.names.0.kind",
        ),
    ],
)
async def test_wrong_types_list_the_offending_fields(client, body, field):
    response = await client.post("/v1/tracing-requests", json=body)
    problem = assert_problem(response, 422, "validation-error")
    assert field in [param["name"] for param in problem["invalid-params"]]


async def test_unknown_fields_are_rejected(client):
    response = await client.post("/v1/tracing-requests", json=tracing_request(colour="blue"))
    problem = assert_problem(response, 422, "validation-error")
    assert problem["invalid-params"][0]["name"] == "colour"
    nested = await client.post(
        "/v1/registrations", json=registration(names=[{"full_name": "x", "middle": "y"}])
    )
    assert assert_problem(nested, 422, "validation-error")["invalid-params"][0]["name"] == (
        "names.0.middle"
    )


async def test_bad_date_text_is_422_on_its_field(client):
    response = await client.post(
        "/v1/registrations", json=registration(birth_date={"text": "sometime in spring"})
    )
    problem = assert_problem(response, 422, "validation-error")
    assert problem["invalid-params"][0]["name"] == "birth_date"


async def test_impossible_date_is_422(client):
    response = await client.post(
        "/v1/registrations", json=registration(birth_date={"year": 1990, "month": 2, "day": 30})
    )
    assert_problem(response, 422, "validation-error")


async def test_oversized_body_is_413(client, settings):
    padding = "x" * (settings.max_body_bytes + 1)
    response = await client.post("/v1/registrations", json=registration(notes=padding))
    assert_problem(response, 413, "payload-too-large")


async def test_oversized_chunked_body_is_413(client, settings):
    chunk = b"x" * 8192

    async def stream():
        for _ in range(settings.max_body_bytes // len(chunk) + 2):
            yield chunk

    response = await client.post(
        "/v1/registrations", content=stream(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload-too-large")


async def test_unknown_id_is_404(client):
    for url in (f"/v1/tracing-requests/{uuid.uuid4()}", f"/v1/persons/{uuid.uuid4()}"):
        assert_problem(await client.get(url), 404, "not-found")


async def test_bad_uuid_is_422(client):
    problem = assert_problem(
        await client.get("/v1/tracing-requests/not-a-uuid"), 422, "validation-error"
    )
    assert problem["invalid-params"][0] == {
        "name": "request_id",
        "location": "path",
        "reason": problem["invalid-params"][0]["reason"],
    }


async def test_unknown_route_and_method(client):
    assert_problem(await client.get("/v1/nothing-here"), 404, "not-found")
    assert_problem(await client.delete("/v1/tracing-requests"), 405, "method-not-allowed")


async def test_bad_cursor_is_400(client):
    response = await client.get("/v1/tracing-requests", params={"cursor": "garbage!"})
    assert_problem(response, 400, "bad-request")


async def test_page_size_is_bounded(client):
    response = await client.get("/v1/tracing-requests", params={"limit": 10_000})
    assert_problem(response, 422, "validation-error")


async def test_unexpected_error_is_500_without_internals(client, app, monkeypatch):
    from service.tracing import service

    async def explode(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service, "list_page", explode)
    response = await client.get("/v1/tracing-requests")
    body = assert_problem(response, 500, "internal")
    assert "secret" not in response.text
    assert "secret" not in body.get("detail", "")


async def test_request_id_is_echoed(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) >= 16
