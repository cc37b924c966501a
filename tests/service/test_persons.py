"""Registrations and persons: create, read, update with ETags, close, names."""

from __future__ import annotations

import json

import pytest

from tests.service.payloads import registration, tracing_request


async def test_registration_round_trip(client):
    created = await client.post("/v1/registrations", json=registration())
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["role"] == "registration"
    assert body["tracing_request_id"] is None
    assert (body["registration_kind"], body["registration_date"]) == ("safe_and_well", "2024-05-02")
    read = await client.get(f"/v1/persons/{body['id']}")
    assert read.json() == body
    assert read.headers["etag"] == '"v1"'


async def test_registration_needs_kind(client):
    response = await client.post("/v1/registrations", json=registration(registration_kind=None))
    assert response.status_code == 422
    assert response.json()["invalid-params"][0]["name"] == "registration_kind"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("notes", "before\x00after"),  # PostgreSQL stores no NUL in text or JSON
        ("father_name", "Ahmad\ud800"),  # a lone surrogate has no UTF-8 form
    ],
)
async def test_text_the_database_cannot_store_is_refused_by_name(client, field, value):
    body = json.dumps(registration(**{field: value}))  # ASCII, "\\ud800" escaped as JSON allows
    response = await client.post(
        "/v1/registrations", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["invalid-params"][0]["name"] == field


async def test_list_registrations_by_kind_with_pagination(client):
    kinds = ["found", "detained", "found", "hospitalised", "found"]
    for kind in kinds:
        await client.post("/v1/registrations", json=registration(registration_kind=kind))
    page = await client.get("/v1/registrations", params={"kind": "found", "limit": 2})
    assert len(page.json()["items"]) == 2
    rest = await client.get(
        "/v1/registrations",
        params={"kind": "found", "limit": 2, "cursor": page.json()["next_cursor"]},
    )
    assert len(rest.json()["items"]) == 1
    assert rest.json()["next_cursor"] is None
    assert {p["registration_kind"] for p in page.json()["items"] + rest.json()["items"]} == {
        "found"
    }


async def test_update_needs_if_match_and_refuses_stale_writes(client):
    created = await client.post("/v1/registrations", json=registration())
    url = f"/v1/persons/{created.json()['id']}"
    missing = await client.patch(url, json={"notes": "x"})
    assert missing.status_code == 428
    assert missing.json()["type"] == "urn:kintrace:problem:precondition-required"
    first = await client.patch(url, json={"notes": "first"}, headers={"If-Match": '"v1"'})
    assert first.status_code == 200
    assert first.headers["etag"] == '"v2"'
    stale = await client.patch(url, json={"notes": "second"}, headers={"If-Match": '"v1"'})
    assert stale.status_code == 412
    assert stale.json()["type"] == "urn:kintrace:problem:precondition-failed"
    assert stale.headers["etag"] == '"v2"'
    assert (await client.get(url)).json()["notes"] == "first"
    wildcard = await client.patch(url, json={"notes": "any"}, headers={"If-Match": "*"})
    assert wildcard.status_code == 200


async def test_update_personal_fields(client):
    created = await client.post("/v1/registrations", json=registration())
    url = f"/v1/persons/{created.json()['id']}"
    updated = await client.patch(
        url,
        json={
            "birth_date": {"text": "solar-hijri:1339-05-12"},
            "birth_place": {"text": "Herat", "country_code": "AF"},
            "nationalities": ["AF"],
            "sex": None,
            "registration_kind": "hospitalised",
            "mother_name": None,
        },
        headers={"If-Match": created.headers["etag"]},
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["birth_date"]["calendar"] == "solar_hijri"
    assert body["birth_date"]["gregorian"]["year"] == 1960
    assert body["birth_place"] == {
        "text": "Herat",
        "country_code": "AF",
        "latitude": None,
        "longitude": None,
    }
    assert body["sex"] == "unknown"
    assert body["registration_kind"] == "hospitalised"
    assert body["names"] == created.json()["names"]


async def test_registration_fields_only_for_registrations(client):
    created = await client.post("/v1/tracing-requests", json=tracing_request())
    person = created.json()["persons"][0]
    response = await client.patch(
        f"/v1/persons/{person['id']}",
        json={"registration_kind": "found"},
        headers={"If-Match": f'"v{person["version"]}"'},
    )
    assert response.status_code == 422


async def test_close_person(client):
    created = await client.post("/v1/registrations", json=registration())
    url = f"/v1/persons/{created.json()['id']}"
    closed = await client.post(
        f"{url}/close",
        json={"reason": "duplicate registration"},
        headers={"If-Match": created.headers["etag"]},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert closed.json()["close_reason"] == "duplicate registration"
    assert closed.json()["closed_at"] is not None
    again = await client.post(f"{url}/close", json={}, headers={"If-Match": closed.headers["etag"]})
    assert again.status_code == 409
    listed = await client.get("/v1/registrations", params={"status": "active"})
    assert created.json()["id"] not in [p["id"] for p in listed.json()["items"]]


async def test_add_and_remove_names(client):
    created = await client.post("/v1/registrations", json=registration())
    url = f"/v1/persons/{created.json()['id']}"
    added = await client.post(
        f"{url}/names",
        json={"kind": "nickname", "full_name": "Фатима", "parts": {"given": "Фатима"}},
    )
    assert added.status_code == 201, added.text
    names = added.json()["names"]
    assert [n["kind"] for n in names] == ["primary", "nickname"]
    assert names[1]["script"] == "Cyrl"
    assert added.headers["etag"] == '"v2"'
    removed = await client.delete(f"{url}/names/{names[0]['id']}")
    assert removed.status_code == 200
    assert [n["id"] for n in removed.json()["names"]] == [names[1]["id"]]
    assert removed.headers["etag"] == '"v3"'
    again = await client.delete(f"{url}/names/{names[0]['id']}")
    assert again.status_code == 404


async def test_empty_name_is_refused(client):
    created = await client.post("/v1/registrations", json=registration())
    response = await client.post(
        f"/v1/persons/{created.json()['id']}/names", json={"kind": "alias", "parts": {}}
    )
    assert response.status_code == 422
