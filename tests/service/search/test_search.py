"""Ad-hoc search: a name plus an identifier, ranked with probability and explanation, across
scripts; too-broad queries refused; every search audited; rate-limited and watched per caller."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from service.runtime import build_runtime
from tests.conftest import app_for, http_client
from tests.service.payloads import REGISTERED_MOTHER, registration


async def test_a_name_and_a_birth_year_find_the_person_across_scripts(client, staff):
    found = await client.post("/v1/registrations", json=registration(**REGISTERED_MOTHER))
    other = await client.post(
        "/v1/registrations", json=registration(names=[{"full_name": "Yusuf Haddad"}], sex="male")
    )
    assert other.status_code == 201
    response = await client.post("/v1/search", json={"name": "فاطمة حسن", "birth_date": "1960"})
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    assert hits[0]["person"]["id"] == found.json()["id"]
    assert hits[0]["probability"] > 0.05
    assert hits[0]["explanation"]["fields"]["name"]["level"]
    assert response.json()["model_version"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"name": "Fatma Hasan"}, "search-too-broad"),
        ({"birth_date": "1960", "sex": "female"}, "validation-error"),
        ({"name": "Fatma Hasan", "birth_date": "the sixties"}, "validation-error"),
        ({"name": "", "sex": "female"}, "validation-error"),
    ],
    ids=["name only", "identifiers only", "bad date", "empty name"],
)
async def test_too_broad_or_bad_queries_are_refused(client, body, problem):
    response = await client.post("/v1/search", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["type"] == f"urn:kintrace:problem:{problem}"


async def test_every_search_is_audited_with_its_hits(client, caseworker, connection):
    await client.post("/v1/registrations", json=registration(**REGISTERED_MOTHER))
    response = await client.post("/v1/search", json={"name": "Fatma Hasan", "sex": "female"})
    ids = {hit["person"]["id"] for hit in response.json()["hits"]}
    await connection.execute(text("RESET ROLE"))
    row = (
        await connection.execute(
            text("SELECT record_ids, purpose FROM audit_event WHERE action = 'person.search'")
        )
    ).one()
    assert {str(record) for record in row.record_ids} == ids
    assert row.purpose == "tracing"


async def test_another_societys_persons_are_never_found(client, staff):
    other = await staff(society="elsewhere")
    await client.post(
        "/v1/registrations", json=registration(**REGISTERED_MOTHER), headers=other.headers()
    )
    response = await client.post("/v1/search", json={"name": "Fatma Hasan", "birth_date": "1960"})
    assert response.json()["hits"] == []


async def test_searches_are_rate_limited_and_unusual_volume_is_flagged(settings, runtime, staff):
    watched = settings.model_copy(
        update={"search_per_minute": 0.01, "search_burst": 4, "search_flag_per_hour": 2}
    )
    app = app_for(watched, await build_runtime(watched, runtime.engine, runtime.sessions))
    searcher, supervisor, officer = (
        await staff(),
        await staff(("supervisor",)),
        await staff(("data_protection_officer",)),
    )
    query = {"name": "Fatma Hasan", "birth_date": "1960"}
    async with app.router.lifespan_context(app), http_client(app) as client:
        statuses = [
            (await client.post("/v1/search", json=query, headers=searcher.headers())).status_code
            for _ in range(5)
        ]
        assert statuses == [200, 200, 200, 200, 429]
        for reader in (supervisor, officer):
            flags = await client.get("/v1/search-flags", headers=reader.headers(None))
            assert flags.status_code == 200, flags.text
            (flag,) = flags.json()
            assert flag["principal"] == f"user:{searcher.user_id}"
            assert flag["searches_last_hour"] == 3
        refused = await client.get("/v1/search-flags", headers=searcher.headers(None))
        assert refused.status_code == 403
