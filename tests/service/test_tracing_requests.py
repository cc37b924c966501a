"""Tracing requests: create, read, list, update, close; every field round-trips."""

from __future__ import annotations

import pytest

from tests.service.payloads import (
    FULL_PLACE,
    FUZZY_DATE_TEXTS,
    enquirer,
    sought_person,
    tracing_request,
)

NAMES_IN_SCRIPTS = [
    ("Arab", "عبد الرحمن محمد", {"given": "عبد الرحمن", "father": "محمد"}),
    ("Arab", "گل‌احمد", {"given": "گل‌احمد"}),  # Pashto / Dari, with a zero-width non-joiner
    ("Cyrl", "Олександр Петрович Коваленко", {"given": "Олександр", "family": "Коваленко"}),
    ("Ethi", "ዮሐንስ ገብረ መድኅን", {"given": "ዮሐንስ", "father": "ገብረ መድኅን"}),
    ("Latn", "Ğülşen Çelik-Öztürk", {"given": "Ğülşen", "family": "Çelik-Öztürk"}),
    ("Hebr", "דוד כהן", {"given": "דוד", "family": "כהן"}),
    ("Hani", "王秀英", {"family": "王", "given": "秀英"}),
]


async def test_create_returns_the_request_with_location_and_etag(client):
    response = await client.post("/v1/tracing-requests", json=tracing_request())
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/tracing-requests/{body['id']}"
    assert response.headers["etag"] == '"v1"'
    assert body["reference_number"].startswith("LOCAL-")
    assert body["status"] == "open"
    assert [p["role"] for p in body["persons"]] == ["enquirer", "sought_person"]
    (relationship,) = body["relationships"]
    assert relationship["relationship"] == "mother"
    assert relationship["enquirer_id"] == body["persons"][0]["id"]


async def test_every_field_round_trips(client):
    person = enquirer(
        names=[
            {"kind": kind, "full_name": full, "script": script, "parts": parts}
            for (script, full, parts), kind in zip(
                NAMES_IN_SCRIPTS,
                ["primary", "alias", "nickname", "maiden", "former", "alias", "alias"],
                strict=True,
            )
        ],
        sex="male",
        birth_date={"text": "07/03/1990"},
        birth_place=FULL_PLACE,
        nationalities=["SY", "TR"],
        languages=["ar", "ku"],
        father_name="أحمد",
        mother_name="Zainab",
        tribe_clan="Shammar",
        last_known_place={"text": "Gaziantep", "country_code": "TR"},
        last_known_date={"text": "2019"},
        notes="Scar on the left hand.",
    )
    created = await client.post(
        "/v1/tracing-requests",
        json=tracing_request(
            reference_number="SARC-2016-7",
            opened_on="2016-03-01",
            persons=[person],
        ),
    )
    assert created.status_code == 201, created.text
    read = await client.get(f"/v1/tracing-requests/{created.json()['id']}")
    assert read.status_code == 200
    assert read.json() == created.json()
    stored = read.json()["persons"][0]
    for sent, got in zip(person["names"], stored["names"], strict=True):
        assert got["full_name"] == sent["full_name"]
        assert got["script"] == sent["script"]
        assert got["kind"] == sent["kind"]
        assert {k: v for k, v in got["parts"].items() if v} == sent["parts"]
    for field in (
        "sex",
        "nationalities",
        "languages",
        "father_name",
        "mother_name",
        "tribe_clan",
        "notes",
    ):
        assert stored[field] == person[field]
    assert stored["birth_place"] == FULL_PLACE
    assert stored["birth_date"]["text"] == "07/03/1990"
    assert (stored["birth_date"]["day"], stored["birth_date"]["month"]) == (7, 3)
    request = read.json()
    assert request["reference_number"] == "SARC-2016-7"
    assert request["opened_on"] == "2016-03-01"
    assert request["separation_place"] == FULL_PLACE
    assert request["separation_date"]["gregorian"]["earliest"] == "2016-02-01"


async def test_scripts_are_detected_when_omitted(client):
    names = [{"full_name": full} for _, full, _ in NAMES_IN_SCRIPTS]
    response = await client.post(
        "/v1/tracing-requests", json=tracing_request(persons=[enquirer(names=names)])
    )
    assert response.status_code == 201, response.text
    detected = [n["script"] for n in response.json()["persons"][0]["names"]]
    assert detected == [script for script, _, _ in NAMES_IN_SCRIPTS]


@pytest.mark.parametrize("text", FUZZY_DATE_TEXTS)
async def test_every_fuzzy_date_form_round_trips(client, text):
    response = await client.post(
        "/v1/tracing-requests",
        json=tracing_request(persons=[enquirer(birth_date={"text": text})]),
    )
    assert response.status_code == 201, response.text
    date = response.json()["persons"][0]["birth_date"]
    assert date["text"] == text
    gregorian = date["gregorian"]
    assert gregorian["earliest"] <= gregorian["latest"]
    again = await client.post(
        "/v1/tracing-requests",
        json=tracing_request(persons=[enquirer(birth_date={"text": date["canonical"]})]),
    )
    assert again.status_code == 201, again.text
    reparsed = again.json()["persons"][0]["birth_date"]
    assert {k: v for k, v in reparsed.items() if k != "text"} == {
        k: v for k, v in date.items() if k != "text"
    }


STRUCTURED_DATES = [
    ({"year": 1990}, {"year": 1990, "earliest": "1990-01-01", "latest": "1990-12-31"}),
    ({"year": 1990, "month": 2, "day": 28}, {"earliest": "1990-02-28", "latest": "1990-02-28"}),
    ({"year": 1985, "approximate": True, "uncertainty_years": 3}, {"earliest": "1982-01-01"}),
    ({"age": 30, "age_reference_date": "2023-06-01"}, {"approximate": True}),
    ({"calendar": "hijri", "year": 1410, "month": 8, "day": 15}, {"earliest": "1990-03-12"}),
    ({"calendar": "solar_hijri", "year": 1369, "month": 1, "day": 1}, {"earliest": "1990-03-21"}),
    ({"calendar": "ethiopian", "year": 2016, "month": 1, "day": 1}, {"earliest": "2023-09-12"}),
]


@pytest.mark.parametrize(("sent", "expected_gregorian"), STRUCTURED_DATES)
async def test_structured_dates_store_original_and_gregorian(client, sent, expected_gregorian):
    response = await client.post(
        "/v1/tracing-requests", json=tracing_request(persons=[enquirer(birth_date=sent)])
    )
    assert response.status_code == 201, response.text
    date = response.json()["persons"][0]["birth_date"]
    assert date["text"] is None
    for key, value in sent.items():
        assert date[key if key != "age_reference_date" else "age_reference_date"] == value
    for key, value in expected_gregorian.items():
        assert date["gregorian"][key] == value


async def test_generated_reference_numbers_are_sequential(client):
    first = (await client.post("/v1/tracing-requests", json=tracing_request())).json()
    second = (await client.post("/v1/tracing-requests", json=tracing_request())).json()
    a, b = first["reference_number"], second["reference_number"]
    assert a.rsplit("-", 1)[0] == b.rsplit("-", 1)[0]
    assert int(b.rsplit("-", 1)[1]) == int(a.rsplit("-", 1)[1]) + 1


async def test_duplicate_reference_number_is_a_conflict(client):
    body = tracing_request(reference_number="DUP-1")
    assert (await client.post("/v1/tracing-requests", json=body)).status_code == 201
    response = await client.post("/v1/tracing-requests", json=body)
    assert response.status_code == 409
    assert response.json()["type"] == "urn:kintrace:problem:conflict"


async def test_list_filters_and_paginates(client):
    ids = []
    for index in range(5):
        body = tracing_request(reference_number=f"PAGE-{index}", opened_on=f"2020-0{index + 1}-01")
        ids.append((await client.post("/v1/tracing-requests", json=body)).json()["id"])
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/tracing-requests", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        assert len(page["items"]) <= 2
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    ranged = await client.get(
        "/v1/tracing-requests", params={"opened_from": "2020-02-01", "opened_to": "2020-03-31"}
    )
    assert [item["reference_number"] for item in ranged.json()["items"]] == ["PAGE-1", "PAGE-2"]
    by_reference = await client.get("/v1/tracing-requests", params={"reference_number": "PAGE-4"})
    assert [item["id"] for item in by_reference.json()["items"]] == [ids[4]]
    assert "persons" not in by_reference.json()["items"][0]


async def test_list_by_status(client):
    created = (await client.post("/v1/tracing-requests", json=tracing_request())).json()
    await client.post("/v1/tracing-requests", json=tracing_request(status="searching"))
    listed = await client.get("/v1/tracing-requests", params={"status": "searching"})
    assert created["id"] not in [item["id"] for item in listed.json()["items"]]
    assert {item["status"] for item in listed.json()["items"]} == {"searching"}


async def test_close_records_outcome_and_closes_persons(client):
    created = await client.post(
        "/v1/tracing-requests", json=tracing_request(opened_on="2025-12-01")
    )
    url = f"/v1/tracing-requests/{created.json()['id']}"
    closed = await client.post(
        f"{url}/close",
        json={"outcome": "not_found", "closed_on": "2026-01-31"},
        headers={"If-Match": created.headers["etag"]},
    )
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["status"], body["outcome"], body["closed_on"]) == (
        "closed",
        "not_found",
        "2026-01-31",
    )
    assert {p["status"] for p in body["persons"]} == {"closed"}
    again = await client.post(
        f"{url}/close", json={"outcome": "not_found"}, headers={"If-Match": closed.headers["etag"]}
    )
    assert again.status_code == 409
    change = await client.patch(
        url, json={"circumstances": "x"}, headers={"If-Match": closed.headers["etag"]}
    )
    assert change.status_code == 409
    reopened = await client.patch(
        url, json={"status": "searching"}, headers={"If-Match": closed.headers["etag"]}
    )
    assert reopened.status_code == 200
    assert (reopened.json()["closed_on"], reopened.json()["outcome"]) == (None, None)


async def test_update_changes_only_fields_sent(client):
    created = await client.post("/v1/tracing-requests", json=tracing_request())
    url = f"/v1/tracing-requests/{created.json()['id']}"
    updated = await client.patch(
        url,
        json={
            "status": "searching",
            "separation_place": None,
            "separation_date": {"text": "ca. 2015"},
        },
        headers={"If-Match": created.headers["etag"]},
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["status"] == "searching"
    assert body["separation_place"] is None
    assert body["separation_date"]["approximate"] is True
    assert body["circumstances"] == created.json()["circumstances"]
    assert body["version"] == 2
    assert updated.headers["etag"] == '"v2"'


async def test_add_persons_and_relationships(client):
    created = await client.post(
        "/v1/tracing-requests",
        json=tracing_request(persons=[sought_person(relationship_to_enquirer=None)]),
    )
    url = f"/v1/tracing-requests/{created.json()['id']}"
    sought_id = created.json()["persons"][0]["id"]
    added = await client.post(f"{url}/persons", json=enquirer())
    assert added.status_code == 201, added.text
    assert added.headers["location"] == f"/v1/persons/{added.json()['id']}"
    second = await client.post(f"{url}/persons", json=enquirer())
    assert second.status_code == 409
    brother = await client.post(
        f"{url}/persons", json=sought_person(relationship_to_enquirer="brother", sex="male")
    )
    assert brother.status_code == 201
    relationship = await client.post(
        f"{url}/relationships",
        json={
            "enquirer_id": added.json()["id"],
            "sought_person_id": sought_id,
            "relationship": "mother",
        },
    )
    assert relationship.status_code == 201, relationship.text
    duplicate = await client.post(
        f"{url}/relationships",
        json={
            "enquirer_id": added.json()["id"],
            "sought_person_id": sought_id,
            "relationship": "aunt",
        },
    )
    assert duplicate.status_code == 409
    full = (await client.get(url)).json()
    assert [p["role"] for p in full["persons"]] == ["enquirer", "sought_person", "sought_person"]
    assert sorted(r["relationship"] for r in full["relationships"]) == ["brother", "mother"]
    listed = await client.get(f"{url}/persons")
    assert [p["id"] for p in listed.json()] == [p["id"] for p in full["persons"]]
    removed = await client.delete(f"{url}/relationships/{relationship.json()['id']}")
    assert removed.status_code == 204
    gone = await client.delete(f"{url}/relationships/{relationship.json()['id']}")
    assert gone.status_code == 404


async def test_relationship_needs_an_enquirer(client):
    response = await client.post(
        "/v1/tracing-requests", json=tracing_request(persons=[sought_person()])
    )
    assert response.status_code == 422
    assert response.json()["invalid-params"][0]["name"] == "persons.0.relationship_to_enquirer"


async def test_two_enquirers_are_refused(client):
    response = await client.post(
        "/v1/tracing-requests", json=tracing_request(persons=[enquirer(), enquirer()])
    )
    assert response.status_code == 422
