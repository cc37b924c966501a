"""Data-subject rights and retention (domain rule 11): a subject-access export holds everything
about a person, erasure leaves nothing of them in any table or column (a canary search), a
tombstone and a notice remain, rectification is matched again, and a retention run with a fake
clock erases or archives only what its society's policy makes due."""

from __future__ import annotations

import datetime
import uuid

import pytest
from sqlalchemy import text

from matching import Matcher
from service.candidates import worker
from service.persons.crypto import FieldCipher, UnreadableData
from service.rights import retention
from service.rights import retention_repository as policies
from tests.conftest import truncate_all
from tests.service.payloads import (
    REGISTERED_MOTHER,
    SOUGHT_MOTHER,
    enquirer,
    registration,
    sought_person,
    tracing_request,
)
from tests.service.test_cli import Done
from tests.service.test_cli import kintrace as run_kintrace

CANARY = "Zqxvorth"
PURPOSE = "data-protection"


@pytest.fixture
async def officer(staff):
    return await staff(("data_protection_officer",))


async def canary_case(client, runtime) -> dict:
    """A sought person and her registration carrying the canary in every kind of field, with a
    proposed candidate link, a consent, and a stored idempotent response."""
    names = [{"full_name": f"Fatma {CANARY} Hasan"}, {"full_name": "فاطمة حسن"}]
    canary_fields = {
        "names": names,
        "notes": f"Known as {CANARY} in the camp.",
        "contact": {"email": f"{CANARY.lower()}@example.org"},
        "current_place": {"text": f"{CANARY} street 4, Gaziantep"},
        "mother_name": f"Amina {CANARY}",
    }
    request = await client.post(
        "/v1/tracing-requests",
        json=tracing_request(persons=[enquirer(), sought_person(**SOUGHT_MOTHER)]),
    )
    found = await client.post(
        "/v1/registrations",
        json=registration(**{**REGISTERED_MOTHER, **canary_fields}),
        headers={"Idempotency-Key": "canary-registration"},
    )
    assert request.status_code == found.status_code == 201, found.text
    await worker.drain(runtime.sessions, runtime.tenant_session, Matcher(), 0.5)
    consent = await client.post(
        f"/v1/persons/{found.json()['id']}/consents",
        json={
            "scope": "tracing",
            "given_by": "guardian",
            "giver_name": f"Omar {CANARY}",
            "obtained_how": "written",
            "obtained_on": "2026-02-01",
        },
    )
    assert consent.status_code == 201, consent.text
    return {"request": request.json(), "found": found.json()}


async def canary_hits(connection) -> dict[str, int]:
    """Rows of every table of the database whose text holds the canary (as the owner)."""
    await connection.execute(text("RESET ROLE"))
    tables = (
        await connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        )
    ).scalars()
    hits = {}
    for table in list(tables):
        count = (
            await connection.execute(
                text(f'SELECT count(*) FROM "{table}" AS t WHERE t::text ILIKE :canary'),
                {"canary": f"%{CANARY}%"},
            )
        ).scalar_one()
        if count:
            hits[table] = count
    return hits


async def owner_ciphertext(connection, person_id: str) -> list[str]:
    """The stored (encrypted) full names of a person, as a backup would hold them."""
    await connection.execute(text("RESET ROLE"))
    rows = await connection.execute(
        text("SELECT full_name FROM person_name WHERE person_id = :p AND full_name IS NOT NULL"),
        {"p": person_id},
    )
    return [value for (value,) in rows]


async def test_the_subject_access_export_holds_everything(client, bare_client, runtime, officer):
    case = await canary_case(client, runtime)
    person_id = case["found"]["id"]
    path = f"/v1/persons/{person_id}/subject-access"
    assert (await client.get(path)).status_code == 403, "caseworkers do not run exports"
    export = await bare_client.get(path, headers=officer.headers(PURPOSE))
    assert export.status_code == 200, export.text
    body = export.json()
    assert body["person"]["contact"]["email"].startswith(CANARY.lower())
    assert body["person"]["notes"] and body["consents"][0]["giver_name"].endswith(CANARY)
    assert [link["status"] for link in body["candidate_links"]] == ["proposed"]
    assert body["blocking_keys"] > 0
    actions = {event["action"] for event in body["audit_events"]}
    assert {"person.create", "consent.create"} <= actions
    assert body["audit_events_truncated"] is False


async def test_erasure_leaves_no_trace_of_the_person(
    client, bare_client, runtime, officer, connection
):
    case = await canary_case(client, runtime)
    person_id = case["found"]["id"]
    before = await bare_client.get(
        f"/v1/persons/{person_id}/subject-access", headers=officer.headers(PURPOSE)
    )
    assert CANARY in before.text, "the canary is stored, and read back decrypted"
    assert await canary_hits(connection) == {}, "and never stored as plaintext"
    raw = await owner_ciphertext(connection, person_id)
    assert raw, "the person's names are stored encrypted"
    erased = await bare_client.post(
        f"/v1/persons/{person_id}/erasure",
        json={"reason": "erasure requested by the person"},
        headers=officer.headers(PURPOSE),
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["person_id"] == person_id
    assert await canary_hits(connection) == {}
    assert await owner_ciphertext(connection, person_id) == []
    with pytest.raises(UnreadableData):  # a copy kept elsewhere: its key is gone
        FieldCipher(uuid.UUID(person_id), None).open("name.full_name", raw[0])
    await connection.execute(text("RESET ROLE"))
    left = {
        table: (
            await connection.execute(
                text(f"SELECT count(*) FROM {table} WHERE person_id = :p"), {"p": person_id}
            )
        ).scalar_one()
        for table in ("erasure_tombstone", "partner_notice", "person_key", "consent_record")
    }
    keys = "SELECT count(*) FROM data_key WHERE owner_id = :p"
    assert (await connection.execute(text(keys), {"p": person_id})).scalar_one() == 0
    assert left == {
        "erasure_tombstone": 1,
        "partner_notice": 1,
        "person_key": 0,
        "consent_record": 0,
    }
    audit_rows = (
        await connection.execute(
            text("SELECT count(*) FROM audit_event WHERE CAST(:p AS uuid) = ANY(record_ids)"),
            {"p": person_id},
        )
    ).scalar_one()
    assert audit_rows > 0, "the trail keeps the ids"
    assert (await client.get(f"/v1/persons/{person_id}")).status_code == 404
    replay = await client.post(
        "/v1/registrations",
        json=registration(**REGISTERED_MOTHER),
        headers={"Idempotency-Key": "canary-registration"},
    )
    assert replay.status_code in (201, 422) and CANARY not in replay.text


async def test_rectification_is_matched_again(client, connection):
    found = (await client.post("/v1/registrations", json=registration())).json()
    await connection.execute(text("RESET ROLE"))
    await connection.execute(text("UPDATE match_job SET finished_at = now()"))
    rectified = await client.patch(
        f"/v1/persons/{found['id']}",
        json={"birth_date": {"text": "1961"}},
        headers={"If-Match": f'"v{found["version"]}"'},
    )
    assert rectified.status_code == 200
    await connection.execute(text("RESET ROLE"))
    pending = "SELECT count(*) FROM match_job WHERE person_id = :p AND finished_at IS NULL"
    assert (await connection.execute(text(pending), {"p": found["id"]})).scalar_one() == 1


async def closed_request(client) -> dict:
    created = (await client.post("/v1/tracing-requests", json=tracing_request())).json()
    closed = await client.post(
        f"/v1/tracing-requests/{created['id']}/close",
        json={"outcome": "not_found"},
        headers={"If-Match": f'"v{created["version"]}"'},
    )
    assert closed.status_code == 200, closed.text
    return closed.json()


async def test_review_dates_follow_the_policy(client):
    today = datetime.date.today()
    opened = (await client.post("/v1/tracing-requests", json=tracing_request())).json()
    assert opened["review_on"] == str(today + datetime.timedelta(days=365))
    closed = await closed_request(client)
    assert closed["review_on"] == str(today + datetime.timedelta(days=730))


async def test_a_retention_run_with_a_fake_clock(client, runtime, caseworker, connection):
    closed = await closed_request(client)
    still_open = (await client.post("/v1/tracing-requests", json=tracing_request())).json()
    registered = (await client.post("/v1/registrations", json=registration())).json()
    society = caseworker.society_id

    async def run(day: datetime.date, apply: bool) -> retention.RetentionReport:
        async with runtime.tenant_session(society) as session:
            report = await retention.run(session, society, day, apply=apply)
            await session.commit()
        return report

    today = datetime.date.today()
    nothing = await run(today + datetime.timedelta(days=364), apply=True)
    assert (nothing.closed_requests, nothing.registrations, nothing.persons_erased) == ([], [], 0)
    later = today + datetime.timedelta(days=2000)
    dry = await run(later, apply=False)
    assert dry.closed_requests == [closed["reference_number"]]
    assert dry.open_requests_to_review == [still_open["reference_number"]]
    assert [str(p) for p in dry.registrations] == [registered["id"]]
    assert (await client.get(f"/v1/tracing-requests/{closed['id']}")).status_code == 200
    done = await run(later, apply=True)
    assert done.persons_erased == 3, "the closed request's two persons and the registration"
    assert (await client.get(f"/v1/tracing-requests/{closed['id']}")).status_code == 404
    assert (await client.get(f"/v1/persons/{registered['id']}")).status_code == 404
    assert (await client.get(f"/v1/tracing-requests/{still_open['id']}")).status_code == 200
    await connection.execute(text("RESET ROLE"))
    tombstones = (await connection.execute(text("SELECT count(*) FROM erasure_tombstone"))).scalar()
    assert tombstones == 3


async def test_an_archiving_policy_archives_instead(client, runtime, caseworker):
    society = caseworker.society_id
    async with runtime.tenant_session(society) as session:
        await policies.save_policy(session, society, policies.Policy(closed_action="archive"))
        await session.commit()
    closed = await closed_request(client)
    later = datetime.date.today() + datetime.timedelta(days=2000)
    async with runtime.tenant_session(society) as session:
        report = await retention.run(session, society, later, apply=True)
        await session.commit()
    assert report.closed_requests == [closed["reference_number"]] and report.persons_erased == 0
    archived = (await client.get(f"/v1/tracing-requests/{closed['id']}")).json()
    assert archived["archived_at"] is not None


async def test_the_retention_commands_run(database_url, engine):
    def kintrace(*args: str) -> Done:
        return run_kintrace(*args, DATABASE_URL=database_url)

    try:
        assert kintrace("societies", "create", "keep", "--name", "Keep").returncode == 0
        policy = kintrace("retention", "policy", "--society", "keep", "--closed-action", "archive")
        assert policy.returncode == 0, policy.stderr
        done = kintrace("retention", "run", "--today", "2040-01-01")
        assert done.returncode == 0, done.stderr
        assert "keep (2040-01-01, dry run):" in done.stdout
        assert "closed requests due to be archived: 0" in done.stdout
    finally:
        await truncate_all(engine)
