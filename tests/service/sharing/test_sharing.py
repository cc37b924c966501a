"""Sharing between societies (domain rule 9): without a grant another society sees nothing;
with one, exactly the granted fields of exactly the covered persons, each send logged in the
ledger; sensitive and stopped persons never; after revocation nothing, and a tombstone waits
in the recipient's outbox."""

from __future__ import annotations

import datetime
import uuid

import pytest
from sqlalchemy import text

from service.webhooks import outbox
from tests.service.payloads import enquirer, registration, sought_person, tracing_request

LU, DE = "lux", "drk"
BASE_KEYS = {"id", "society", "grant_id", "role", "status", "tracing_request_id", "fields"}


def later(days: int = 30) -> str:
    return (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=days)).isoformat()


@pytest.fixture
async def lux(staff):
    """Luxembourg's supervisor (records, grants) and data-protection officer."""
    return {
        "supervisor": await staff(("supervisor",), society=LU),
        "dpo": await staff(("data_protection_officer",), society=LU),
    }


@pytest.fixture
async def drk(staff):
    """The German partner system, a caseworker and the data-protection officer."""
    return {
        "partner": await staff(("partner",), society=DE),
        "caseworker": await staff(("caseworker",), society=DE),
        "supervisor": await staff(("supervisor",), society=DE),
        "dpo": await staff(("data_protection_officer",), society=DE),
    }


async def records(client, lux) -> dict:
    """A tracing request (enquirer, sought mother) and a registration, in Luxembourg."""
    headers = lux["supervisor"].headers()
    request = await client.post(
        "/v1/tracing-requests",
        json=tracing_request(persons=[enquirer(), sought_person(notes="Scar on the left hand.")]),
        headers=headers,
    )
    found = await client.post(
        "/v1/registrations",
        json=registration(
            notes="Arrived alone.",
            contact={"phone": "+352 000 000"},
            current_place={"text": "Centre Lily Unden"},
        ),
        headers=headers,
    )
    assert request.status_code == found.status_code == 201, found.text
    return {"request": request.json(), "found": found.json()}


async def grant(client, lux, **body) -> dict:
    response = await client.post(
        "/v1/sharing-grants",
        json={"recipient_society": DE, "legal_basis": "vital_interest", "valid_until": later()}
        | body,
        headers=lux["supervisor"].headers(),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def shared(client, who) -> list[dict]:
    response = await client.get("/v1/shared/persons", headers=who.headers("exchange"))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_without_a_grant_another_society_sees_nothing(bare_client, lux, drk):
    held = await records(bare_client, lux)
    partner = drk["partner"].headers("exchange")
    assert await shared(bare_client, drk["partner"]) == []
    for path in (f"/v1/shared/persons/{held['found']['id']}", f"/v1/persons/{held['found']['id']}"):
        assert (await bare_client.get(path, headers=partner)).status_code == 404
    listed = await bare_client.get("/v1/registrations", headers=drk["caseworker"].headers())
    assert listed.json()["items"] == []


async def test_a_grant_shares_exactly_the_granted_fields_and_logs_each_send(bare_client, lux, drk):
    held = await records(bare_client, lux)
    given = await grant(
        bare_client, lux, record_kinds=["registration"], fields=["sex", "names", "birth_date"]
    )
    assert given["active"] is True and given["fields"] == ["names", "sex", "birth_date"]
    (item,) = await shared(bare_client, drk["partner"])
    assert item["id"] == held["found"]["id"] and item["society"] == LU
    assert set(item) == BASE_KEYS | {"names", "sex", "birth_date"}
    assert item["names"][0]["full_name"] == held["found"]["names"][0]["full_name"]
    one = await bare_client.get(
        f"/v1/shared/persons/{item['id']}", headers=drk["partner"].headers("exchange")
    )
    assert one.status_code == 200 and one.json() == item
    for withheld in ("Arrived alone.", "+352", "Lily Unden"):
        assert withheld not in one.text
    sent = await bare_client.get("/v1/transfers", headers=lux["dpo"].headers("data-protection"))
    assert sent.status_code == 200, sent.text
    entries = sent.json()["items"]
    assert len(entries) == 2, "the list and the read each sent the record once"
    assert {e["record_id"] for e in entries} == {item["id"]}
    assert entries[0]["fields"] == ["names", "sex", "birth_date"]
    assert entries[0]["recipient_society"] == DE and entries[0]["grant_id"] == given["id"]
    assert entries[0]["received_by"].startswith("user:")
    received = await bare_client.get(
        "/v1/transfers?direction=received", headers=drk["dpo"].headers("data-protection")
    )
    assert [e["id"] for e in received.json()["items"]] == [e["id"] for e in entries]
    exported = await bare_client.get(
        "/v1/transfers/export?format=csv", headers=lux["dpo"].headers("data-protection")
    )
    assert exported.status_code == 200 and exported.text.count(item["id"]) == 2
    assert exported.text.splitlines()[0].startswith("id,society,recipient_society")


async def test_a_grant_of_one_request_covers_its_persons_only(bare_client, lux, drk):
    held = await records(bare_client, lux)
    other = await records(bare_client, lux)
    await grant(bare_client, lux, tracing_request_ids=[held["request"]["id"]], fields=["names"])
    items = await shared(bare_client, drk["caseworker"])
    assert {i["id"] for i in items} == {p["id"] for p in held["request"]["persons"]}
    assert all(set(i) == BASE_KEYS | {"names"} for i in items)
    assert other["request"]["persons"][0]["id"] not in {i["id"] for i in items}


async def test_sensitive_and_stopped_persons_are_never_shared(bare_client, lux, drk):
    headers = lux["supervisor"].headers()
    risky = await bare_client.post(
        "/v1/registrations", json=registration(sensitive=True), headers=headers
    )
    stopped = await bare_client.post("/v1/registrations", json=registration(), headers=headers)
    stop = await bare_client.post(
        f"/v1/persons/{stopped.json()['id']}/do-not-trace", headers=headers
    )
    assert stop.status_code == 200, stop.text
    await grant(bare_client, lux, record_kinds=["registration"], fields=["names"])
    assert await shared(bare_client, drk["partner"]) == []
    for person in (risky.json(), stopped.json()):
        read = await bare_client.get(
            f"/v1/shared/persons/{person['id']}", headers=drk["partner"].headers("exchange")
        )
        assert read.status_code == 404


async def test_revocation_ends_sharing_and_queues_a_tombstone(bare_client, lux, drk, runtime):
    held = await records(bare_client, lux)
    subscribed = await bare_client.post(
        "/v1/webhook-subscriptions",
        json={"url": "http://127.0.0.1:9/hooks", "event_types": ["grant.revoked"]},
        headers=drk["partner"].headers("exchange"),
    )
    assert subscribed.status_code == 201, subscribed.text
    given = await grant(bare_client, lux, record_kinds=["registration"], fields=["names"])
    assert len(await shared(bare_client, drk["partner"])) == 1
    path = f"/v1/sharing-grants/{given['id']}/revocation"
    body = {"reason": "the enquirer withdrew the request"}
    refused = await bare_client.post(
        path, json=body, headers=drk["supervisor"].headers() | {"If-Match": '"v1"'}
    )
    assert refused.status_code == 403, "only the sharing society revokes"
    revoked = await bare_client.post(
        path, json=body, headers=lux["supervisor"].headers() | {"If-Match": '"v1"'}
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False and revoked.json()["revoked_by"]
    again = await bare_client.post(
        path, json=body, headers=lux["supervisor"].headers() | {"If-Match": '"v2"'}
    )
    assert again.status_code == 409
    assert await shared(bare_client, drk["partner"]) == []
    read = await bare_client.get(
        f"/v1/shared/persons/{held['found']['id']}", headers=drk["partner"].headers("exchange")
    )
    assert read.status_code == 404
    await outbox.fill_society(runtime.tenant_session, lux["supervisor"].society_id, LU)
    deliveries = await bare_client.get(
        f"/v1/webhook-subscriptions/{subscribed.json()['id']}/deliveries",
        headers=drk["partner"].headers("exchange"),
    )
    (message,) = deliveries.json()["items"]
    assert message["event_type"] == "grant.revoked" and message["subject_id"] == given["id"]
    assert message["status"] == "pending"
    await outbox.fill_society(runtime.tenant_session, lux["supervisor"].society_id, LU)
    twice = await bare_client.get(
        f"/v1/webhook-subscriptions/{subscribed.json()['id']}/deliveries",
        headers=drk["partner"].headers("exchange"),
    )
    assert len(twice.json()["items"]) == 1, "a tombstone is queued once"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"recipient_society": "nowhere"}, "recipient_society"),
        ({"recipient_society": LU}, "recipient_society"),
        ({"valid_until": "2020-01-01T00:00:00Z"}, "valid_until"),
        ({"tracing_request_ids": [str(uuid.uuid4())], "record_kinds": []}, "tracing_request_ids"),
        ({"fields": ["contact"]}, "fields"),
        ({"fields": ["current_place"]}, "fields"),
        ({"record_kinds": [], "tracing_request_ids": []}, None),
        ({"valid_until": "2030-01-01T00:00:00"}, None),
    ],
)
async def test_a_grant_that_cannot_stand_is_refused(bare_client, lux, drk, body, field):
    response = await bare_client.post(
        "/v1/sharing-grants",
        json={
            "recipient_society": DE,
            "record_kinds": ["registration"],
            "fields": ["names"],
            "legal_basis": "vital_interest",
            "valid_until": later(),
        }
        | body,
        headers=lux["supervisor"].headers(),
    )
    assert response.status_code == 422, response.text
    if field is not None:
        assert field in response.text


async def test_only_supervisors_grant(bare_client, lux, drk):
    body = {
        "recipient_society": DE,
        "record_kinds": ["registration"],
        "fields": ["names"],
        "legal_basis": "vital_interest",
        "valid_until": later(),
    }
    for who in (drk["caseworker"], drk["partner"], drk["dpo"]):
        response = await bare_client.post("/v1/sharing-grants", json=body, headers=who.headers())
        assert response.status_code == 403


async def test_row_security_alone_keeps_foreign_persons_out(bare_client, lux, drk, runtime):
    """Below the code: another society's rows are invisible to a plain session even under a
    grant, and to a shared-reading session without one."""
    held = await records(bare_client, lux)
    query = text("SELECT count(*) FROM person WHERE id = :id")
    found = {"id": held["found"]["id"]}

    async def visible(shared_read: bool) -> int:
        async with runtime.tenant_session(drk["partner"].society_id) as session:
            if shared_read:
                await session.exec(text("SELECT set_config('kintrace.shared_read', 'on', true)"))
            return (await session.exec(query, params=found)).scalar_one()

    assert await visible(shared_read=True) == 0, "no grant yet"
    await grant(bare_client, lux, record_kinds=["registration"], fields=["names"])
    assert await visible(shared_read=False) == 0, "a grant alone opens nothing"
    assert await visible(shared_read=True) == 1
