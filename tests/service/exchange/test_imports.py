"""Bulk exchange over the API: import jobs (JSON Lines, CSV, PFIF) keyed by the sender's own
ids, progress, a problem per refused record, updates instead of duplicates, erased ids refused,
resumption after a crash at any batch, and PFIF export then import."""

from __future__ import annotations

import functools
import json
import uuid

import pytest
from sqlalchemy import text

from service.exchange import service as exchange
from tests.service.payloads import enquirer, registration, sought_person, tracing_request


def jsonl(*records: dict) -> bytes:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode()


def reg(external_id: str | None, **fields) -> dict:
    record = {"type": "registration", **registration(**fields)}
    if external_id is not None:
        record["external_id"] = external_id
    return record


async def submit(client, body: bytes, format: str = "jsonl", **headers) -> dict:
    response = await client.post(f"/v1/imports?format={format}", content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/v1/imports/{response.json()['id']}"
    return response.json()


async def run_all(runtime, society_id, code: str, limit: int = 1000) -> int:
    """Run the worker's import batches until none is left; how many ran."""
    batches = 0
    principal_of = functools.partial(exchange.importer, society_code=code)
    while await exchange.run_batch(runtime.tenant_session, society_id, principal_of):
        batches += 1
        assert batches < limit
    return batches


async def job(client, job_id: str) -> dict:
    response = await client.get(f"/v1/imports/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def problems(client, job_id: str) -> list[dict]:
    response = await client.get(f"/v1/imports/{job_id}/problems")
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def count(connection, sql: str, **params) -> int:
    await connection.execute(text("RESET ROLE"))
    return (await connection.execute(text(sql), params)).scalar_one()


async def test_a_jsonl_import_reports_each_bad_record_and_stores_the_rest(
    client, runtime, caseworker, connection
):
    request = {"type": "tracing_request", "external_id": "req-1", **tracing_request()}
    body = (
        jsonl(
            reg("reg-1"),
            reg("reg-2", sex="sometimes"),
            {"type": "nonsense", "external_id": "x"},
            reg(None),
            request,
        )
        + b"{not json\n"
    )
    queued = await submit(client, body)
    assert queued["status"] == "queued" and queued["total_items"] == 6
    assert queued["processed"] == 0 and queued["progress"] == 0
    await run_all(runtime, caseworker.society_id, caseworker.society_code)
    done = await job(client, queued["id"])
    assert done["status"] == "done" and done["progress"] == 1 and done["finished_at"]
    assert (done["created"], done["failed"], done["updated"]) == (2, 4, 0)
    refused = await problems(client, queued["id"])
    assert [p["position"] for p in refused] == [2, 3, 4, 6]
    assert refused[0]["external_id"] == "reg-2" and "sex" in refused[0]["reason"]
    assert "external_id" in refused[2]["reason"]
    assert refused[3]["reason"].startswith("line 6")
    waiting = await count(
        connection,
        "SELECT count(*) FROM import_item WHERE body IS NOT NULL AND job_id = :j",
        j=queued["id"],
    )
    assert waiting == 0, "nothing personal waits once the job is done"


async def test_sending_an_id_again_updates_and_never_duplicates(client, runtime, caseworker):
    first = await submit(client, jsonl(reg("reg-1", registration_source="List A")))
    await run_all(runtime, caseworker.society_id, caseworker.society_code)
    registered = (await client.get("/v1/registrations")).json()["items"]
    assert len(registered) == 1 and registered[0]["registration_source"] == "List A"
    same = await submit(client, jsonl(reg("reg-1", registration_source="List A")))
    changed = await submit(
        client,
        jsonl(reg("reg-1", registration_source="List B", names=[{"full_name": "Amina Yusuf"}])),
    )
    await run_all(runtime, caseworker.society_id, caseworker.society_code)
    assert (await job(client, same["id"]))["unchanged"] == 1
    assert (await job(client, changed["id"]))["updated"] == 1
    after = (await client.get("/v1/registrations")).json()["items"]
    assert [p["id"] for p in after] == [registered[0]["id"]]
    assert after[0]["registration_source"] == "List B"
    assert [n["full_name"] for n in after[0]["names"]] == ["Amina Yusuf"]
    assert (await job(client, first["id"]))["created"] == 1


async def test_a_request_sent_again_updates_its_persons_in_place(client, runtime, caseworker):
    sent = {"type": "tracing_request", "external_id": "req-9", **tracing_request()}
    await submit(client, jsonl(sent))
    await run_all(runtime, caseworker.society_id, caseworker.society_code)
    (stored,) = (await client.get("/v1/tracing-requests")).json()["items"]
    again = {
        **sent,
        "circumstances": "Separated at the port of Misrata.",
        "persons": [enquirer(), sought_person(names=[{"full_name": "Fatima Hassan"}])],
    }
    fewer = {**sent, "persons": [enquirer()]}
    updated = await submit(client, jsonl(again))
    refused = await submit(client, jsonl(fewer))
    await run_all(runtime, caseworker.society_id, caseworker.society_code)
    assert (await job(client, updated["id"]))["updated"] == 1
    assert "differ in number or role" in (await problems(client, refused["id"]))[0]["reason"]
    read = (await client.get(f"/v1/tracing-requests/{stored['id']}")).json()
    assert read["circumstances"] == "Separated at the port of Misrata."
    sought = [p for p in read["persons"] if p["role"] == "sought_person"]
    assert sought[0]["names"][0]["full_name"] == "Fatima Hassan"
    assert len((await client.get("/v1/tracing-requests")).json()["items"]) == 1


async def test_an_erased_record_is_never_recreated_by_its_id(client, runtime, caseworker, staff):
    await submit(client, jsonl(reg("reg-7")))
    await run_all(runtime, caseworker.society_id, caseworker.society_code)
    (person,) = (await client.get("/v1/registrations")).json()["items"]
    officer = await staff(("data_protection_officer",))
    erased = await client.post(
        f"/v1/persons/{person['id']}/erasure",
        json={"reason": "asked to be forgotten"},
        headers=officer.headers("data-protection"),
    )
    assert erased.status_code == 200, erased.text
    again = await submit(client, jsonl(reg("reg-7"), reg("reg-8")))
    await run_all(runtime, caseworker.society_id, caseworker.society_code)
    assert (await job(client, again["id"]))["created"] == 1
    (refused,) = await problems(client, again["id"])
    assert refused["external_id"] == "reg-7" and "erased" in refused["reason"]
    names = [p["id"] for p in (await client.get("/v1/registrations")).json()["items"]]
    assert person["id"] not in names and len(names) == 1


async def test_ids_are_the_senders_own(client, runtime, caseworker, staff, bare_client):
    """Two senders of one society may use the same id for different records."""
    other = await staff(("caseworker",))
    await submit(client, jsonl(reg("shared-id")))
    await submit(bare_client, jsonl(reg("shared-id")), **other.headers())
    await run_all(runtime, caseworker.society_id, caseworker.society_code)
    assert len((await client.get("/v1/registrations")).json()["items"]) == 2


@pytest.mark.parametrize("crash_after", [0, 1, 2])
async def test_a_job_killed_after_any_batch_resumes_with_every_row_once(
    client, runtime, caseworker, connection, monkeypatch, crash_after
):
    """The worker dies (an exception out of the batch: its transaction never commits) after
    `crash_after` committed batches; the next worker resumes: every row once, none twice."""
    monkeypatch.setattr(exchange, "BATCH", 7)
    records = [reg(f"r-{i}", names=[{"full_name": f"Person {i}"}]) for i in range(30)]
    queued = await submit(client, jsonl(*records))
    principal_of = functools.partial(exchange.importer, society_code=caseworker.society_code)
    for _ in range(crash_after):
        assert await exchange.run_batch(runtime.tenant_session, caseworker.society_id, principal_of)

    async def dying(*args, **kwargs):
        raise RuntimeError("kill -9")

    monkeypatch.setattr(exchange.repository, "advance_job", dying)
    with pytest.raises(RuntimeError):
        await exchange.run_batch(runtime.tenant_session, caseworker.society_id, principal_of)
    monkeypatch.undo()
    monkeypatch.setattr(exchange, "BATCH", 7)
    await run_all(runtime, caseworker.society_id, caseworker.society_code)
    done = await job(client, queued["id"])
    assert (done["status"], done["created"], done["failed"]) == ("done", 30, 0)
    stored = await count(
        connection,
        "SELECT count(*) FROM external_record WHERE society_id = :s",
        s=caseworker.society_id,
    )
    persons = await count(
        connection,
        "SELECT count(*) FROM person WHERE society_id = :s AND role = 'registration'",
        s=caseworker.society_id,
    )
    assert stored == persons == 30


async def test_csv_rows_carry_their_ids(client, runtime, caseworker):
    body = (
        b"record_type,external_id,request_ref,full_name,sex,registration_kind\n"
        b"registration,csv-1,,Amina Yusuf,f,found\n"
        b"enquirer,,REQ-1,Omar Yusuf,m,\n"
        b"sought_person,,REQ-1,Hawa Yusuf,f,\n"
    )
    queued = await submit(client, body, format="csv")
    await run_all(runtime, caseworker.society_id, caseworker.society_code)
    assert (await job(client, queued["id"]))["created"] == 2
    again = await submit(client, body, format="csv")
    await run_all(runtime, caseworker.society_id, caseworker.society_code)
    assert (await job(client, again["id"]))["unchanged"] == 2


async def test_pfif_export_then_import_gives_the_same_persons(
    client, runtime, caseworker, staff, bare_client
):
    names = ["Fatima Hassan", "Олександр Коваленко", "ሰላም ተስፋዬ"]
    for index, name in enumerate(names):
        created = await client.post(
            "/v1/registrations",
            json=registration(
                names=[{"full_name": name}],
                sex="female" if index != 1 else "male",
                birth_date={"text": f"19{70 + index}-03-0{index + 1}"},
            ),
        )
        assert created.status_code == 201, created.text
    exported = await client.get("/v1/exports/pfif?domain=lux.example.org")
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("application/xml")
    assert b"http://zesty.ca/pfif/1.4" in exported.content
    elsewhere = await staff(("caseworker",), society="pfif-elsewhere")
    queued = await submit(bare_client, exported.content, "pfif", **elsewhere.headers())
    await run_all(runtime, elsewhere.society_id, elsewhere.society_code)
    done = await bare_client.get(f"/v1/imports/{queued['id']}", headers=elsewhere.headers())
    assert done.json()["created"] == len(names), done.text
    imported = (await bare_client.get("/v1/registrations", headers=elsewhere.headers())).json()
    original = (await client.get("/v1/registrations")).json()["items"]

    def identity(person: dict) -> tuple:
        return (person["names"][0]["full_name"], person["sex"], person["birth_date"]["text"])

    assert sorted(map(identity, imported["items"])) == sorted(map(identity, original))


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4"><pfif:person>'
        b"<pfif:person_record_id>a.org/1</pfif:person_record_id>"
        b"<pfif:full_name>&e;</pfif:full_name></pfif:person></pfif:pfif>",
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b'<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4">&lol3;</pfif:pfif>',
        b"<not-closed",
    ],
    ids=["external-entity", "billion-laughs", "malformed"],
)
async def test_a_hostile_pfif_document_is_refused(client, document, connection):
    response = await client.post("/v1/imports?format=pfif", content=document)
    assert response.status_code == 422, response.text
    assert "root:" not in response.text
    jobs = await count(connection, "SELECT count(*) FROM import_job")
    assert jobs == 0


async def test_an_import_past_the_size_limit_is_refused(client, runtime):
    limit = runtime.settings.import_max_bytes
    response = await client.post(
        "/v1/imports?format=jsonl",
        content=b" " * (limit + 1),
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 413


async def test_another_societys_import_is_missing(client, staff, bare_client):
    queued = await submit(client, jsonl(reg("r-1")))
    stranger = await staff(("caseworker",), society="elsewhere")
    for path in (f"/v1/imports/{queued['id']}", f"/v1/imports/{queued['id']}/problems"):
        response = await bare_client.get(path, headers=stranger.headers())
        assert response.status_code == 404
    assert (
        await bare_client.get(f"/v1/imports/{uuid.uuid4()}", headers=stranger.headers())
    ).status_code == 404
