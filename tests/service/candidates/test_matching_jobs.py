"""Blocking keys in PostgreSQL, match jobs and candidate links, end to end on real PostgreSQL.

A person's keys are keyed hashes kept in the same transaction as its names; a worker pass turns
the queued jobs into candidate links; retries never duplicate a link; persons of the same
request, closed persons and other societies' persons are never candidates.
"""

from __future__ import annotations

import asyncio
import datetime
import uuid

import pytest
from sqlalchemy import text

from matching import Matcher, PersonName, PersonRecord, parse_fuzzy_date
from service.candidates import keys, repository, service, worker
from tests.service.payloads import (
    REGISTERED_MOTHER,
    SOUGHT_MOTHER,
    enquirer,
    registration,
    sought_person,
    tracing_request,
)

THRESHOLD = 0.5


async def drain(runtime) -> worker.Progress:
    """One worker pass over every queue, in the test's transaction."""
    return await worker.drain(runtime.sessions, runtime.tenant_session, Matcher(), THRESHOLD)


async def owner_rows(connection, statement: str, **params):
    await connection.execute(text("RESET ROLE"))
    return (await connection.execute(text(statement), params)).all()


MOTHER = sought_person(**SOUGHT_MOTHER)
FOUND = registration(**REGISTERED_MOTHER)


async def make_pair(client) -> tuple[dict, dict]:
    """A tracing request seeking Fatima Hassan, and her registration in Latin script."""
    body = tracing_request(persons=[enquirer(), MOTHER])
    request = (await client.post("/v1/tracing-requests", json=body)).json()
    found = (await client.post("/v1/registrations", json=FOUND)).json()
    return request, found


async def test_keys_are_stored_as_keyed_hashes_in_the_same_transaction(client, connection):
    _, found = await make_pair(client)
    rows = await owner_rows(
        connection,
        "SELECT key_digest, kind, person_role FROM person_key WHERE person_id = :id",
        id=found["id"],
    )
    assert rows, "a registration gets blocking keys when it is created"
    assert {row.kind for row in rows} >= {"n", "y"}
    assert {row.person_role for row in rows} == {"registration"}
    assert all(len(row.key_digest) == 16 for row in rows)
    stored = b"".join(row.key_digest for row in rows)
    for fragment in (b"fatma", b"FATMA", b"hasan", b"HSN", b"1960"):
        assert fragment not in stored


async def test_a_worker_pass_proposes_the_registration_for_the_sought_person(
    client, runtime, connection
):
    request, found = await make_pair(client)
    sought = next(p for p in request["persons"] if p["role"] == "sought_person")
    progress = await drain(runtime)
    assert progress.failures == 0
    assert progress.jobs == 3  # enquirer, sought person, registration
    links = await owner_rows(
        connection,
        "SELECT left_person_id, right_person_id, kind, probability, match_weight, explanation,"
        " model_version, fingerprint, status FROM candidate_link",
    )
    assert len(links) == 1
    link = links[0]
    assert {str(link.left_person_id), str(link.right_person_id)} == {sought["id"], found["id"]}
    assert link.kind == "sought_registration"
    assert link.status == "proposed"
    assert link.probability >= THRESHOLD
    assert link.model_version == Matcher().model_version
    assert set(link.explanation["fields"]) >= {"name", "birth_date", "sex"}
    assert len(link.fingerprint) == 64


async def test_a_retried_job_does_not_duplicate_links(client, runtime, connection):
    await make_pair(client)
    await drain(runtime)
    await owner_rows(
        connection, "UPDATE match_job SET finished_at = NULL, leased_until = NULL RETURNING id"
    )
    again = await drain(runtime)
    assert again.jobs == 3
    links = await owner_rows(connection, "SELECT count(*) AS n FROM candidate_link")
    assert links[0].n == 1


async def test_an_expired_lease_is_taken_again(client, runtime, connection):
    await client.post("/v1/registrations", json=registration())
    society = uuid.UUID((await client.get("/v1/auth/me")).json()["society_id"])
    async with runtime.tenant_session(society) as session:
        leased = await repository.lease_jobs(
            session, limit=10, lease=datetime.timedelta(minutes=5), max_attempts=5
        )
        await session.commit()
    assert len(leased) == 1
    assert (await drain(runtime)).jobs == 0  # leased by a worker that then died
    await owner_rows(
        connection, "UPDATE match_job SET leased_until = now() - interval '1 s' RETURNING id"
    )
    assert (await drain(runtime)).jobs == 1
    attempts = await owner_rows(connection, "SELECT attempts FROM match_job")
    assert attempts[0].attempts == 2


async def lookup(
    client,
    runtime,
    probe: PersonRecord,
    limit: int,
    max_postings: int = 1000,
    leave_out: frozenset[bytes] = frozenset(),
) -> repository.Lookup:
    """What the keys table finds for a probe among registrations (without the digests of
    `leave_out`)."""
    society = uuid.UUID((await client.get("/v1/auth/me")).json()["society_id"])
    async with runtime.tenant_session(society) as session:
        digests = keys.lookup_digests(keys.secret_of(session), probe)
        return await repository.candidates(
            session,
            society_id=society,
            person_id=uuid.uuid4(),
            probe=[key for key in digests if key[0] not in leave_out],
            roles=["registration"],
            max_postings=max_postings,
            limit=limit,
        )


async def looked_up(
    client, runtime, probe: PersonRecord, limit: int, max_postings: int = 1000
) -> list[str]:
    """The registrations the keys table finds for a probe, best ranked first."""
    found = await lookup(client, runtime, probe, limit, max_postings)
    return [str(candidate.person_id) for candidate in found.candidates]


async def test_candidates_are_ranked_by_the_name_parts_they_meet_not_by_shared_keys(
    client, runtime
):
    """With room for one candidate, the registration with a typo in each name is found, not one
    of the namesakes born the same year that share every key of the given name."""
    names = ["Nasima Karimi", "Nasima Ahmadi", "Nasma Wazyr", "Nasima Rahimi", "Nasima Jalali"]
    created = {}
    for name in names:
        body = registration(names=[{"full_name": name}], birth_date={"text": "1968"})
        created[name] = (await client.post("/v1/registrations", json=body)).json()["id"]
    probe = PersonRecord(
        "probe", (PersonName("Nasima Wazir"),), birth_date=parse_fuzzy_date("1968")
    )
    assert await looked_up(client, runtime, probe, limit=1) == [created["Nasma Wazyr"]]


async def test_the_same_birth_day_alone_makes_a_candidate(client, runtime):
    body = registration(names=[{"full_name": "Evan Jones"}], birth_date={"text": "1945-02-20"})
    same_day = (await client.post("/v1/registrations", json=body)).json()["id"]
    body = registration(names=[{"full_name": "Jack Brown"}], birth_date={"text": "1945"})
    await client.post("/v1/registrations", json=body)
    probe = PersonRecord(
        "probe", (PersonName("Isaac Hoffman"),), birth_date=parse_fuzzy_date("20/02/1945")
    )
    assert await looked_up(client, runtime, probe, limit=10) == [same_day]


async def test_candidates_with_the_same_evidence_come_in_person_id_order(client, runtime):
    """Ties are broken by person id, whatever order the database summed the weights in."""
    created = []
    for _ in range(4):
        body = registration(names=[{"full_name": "Amina Haidari"}], birth_date={"text": "1971"})
        created.append((await client.post("/v1/registrations", json=body)).json()["id"])
    probe = PersonRecord(
        "probe", (PersonName("Amina Haidari"),), birth_date=parse_fuzzy_date("1971")
    )
    assert await looked_up(client, runtime, probe, limit=10) == sorted(created)


async def six_ali_nurs(client) -> tuple[dict[int, str], PersonRecord]:
    """Six registrations of Ali Nur, born 1960 to 1965 (their ids by year), and a probe of that
    name born in 1962: the name's own keys are held by all six."""
    created = {}
    for year in range(1960, 1966):
        body = registration(names=[{"full_name": "Ali Nur"}], birth_date={"text": str(year)})
        created[year] = (await client.post("/v1/registrations", json=body)).json()["id"]
    probe = PersonRecord(
        "probe", (PersonName("Ali Nur"),), birth_date=parse_fuzzy_date("1962-06-01")
    )
    return created, probe


async def test_a_name_over_the_cap_alone_still_finds_those_born_a_year_apart(client, runtime):
    """The name's keys alone are held by more persons than the cap; paired with the birth
    year they are not, and the probe looks them up for the years beside its own. (Names of
    three letters have no typo keys, which are paired with the year too.)"""
    created, probe = await six_ali_nurs(client)
    found = await looked_up(client, runtime, probe, limit=10, max_postings=3)
    assert set(found) == {created[y] for y in (1961, 1962, 1963)}


async def test_keys_over_the_cap_are_reported_and_leaving_them_out_finds_the_same(client, runtime):
    _, probe = await six_ali_nurs(client)
    first = await lookup(client, runtime, probe, limit=10, max_postings=3)
    assert len(first.candidates) == 3 and first.common  # the name's own keys: six persons
    again = await lookup(
        client, runtime, probe, limit=10, max_postings=3, leave_out=frozenset(first.common)
    )
    assert again == repository.Lookup(first.candidates, [])
    roomy = await lookup(client, runtime, probe, limit=10, max_postings=6)
    assert roomy.common == [] and len(roomy.candidates) == 6


async def test_matching_leaves_out_the_keys_it_found_too_common(client, runtime, monkeypatch):
    """A second probe with the same common keys does not read them again (the process
    remembers them) and finds what it would have found reading them."""
    monkeypatch.setattr(service, "MAX_POSTINGS", 3)
    monkeypatch.setattr(service, "COMMON_KEYS", keys.CommonKeys())
    created, probe = await six_ali_nurs(client)
    society = uuid.UUID((await client.get("/v1/auth/me")).json()["society_id"])
    read: list[int] = []
    real = repository.candidates

    async def counted(session, **arguments):
        read.append(len(arguments["probe"]))
        return await real(session, **arguments)

    monkeypatch.setattr(repository, "candidates", counted)
    found = []
    async with runtime.tenant_session(society) as session:
        pool = service.Pool(society, keys.lookup_digests(keys.secret_of(session), probe))
        for _ in range(2):
            candidates = await service.find_candidates(
                session,
                society_id=society,
                pool=pool,
                person_id=uuid.uuid4(),
                roles=["registration"],
                limit=10,
            )
            found.append({str(candidate.person_id) for candidate in candidates})
    assert found == [{created[y] for y in (1961, 1962, 1963)}] * 2
    assert read[1] < read[0] == len(pool.probe)


async def test_persons_of_one_request_are_never_candidates_of_each_other(
    client, runtime, connection
):
    twin = sought_person(relationship_to_enquirer="sister")
    await client.post(
        "/v1/tracing-requests",
        json=tracing_request(persons=[sought_person(), twin]),
    )
    await drain(runtime)
    assert await owner_rows(connection, "SELECT id FROM candidate_link") == []


async def test_a_closed_person_loses_its_keys_and_proposals(client, runtime, connection):
    _, found = await make_pair(client)
    await drain(runtime)
    closed = await client.post(
        f"/v1/persons/{found['id']}/close",
        json={"reason": "duplicate"},
        headers={"If-Match": '"v1"'},
    )
    assert closed.status_code == 200, closed.text
    keys = await owner_rows(
        connection, "SELECT count(*) AS n FROM person_key WHERE person_id = :id", id=found["id"]
    )
    assert keys[0].n == 0


async def test_a_changed_name_changes_the_keys(client, connection):
    _, found = await make_pair(client)
    query = "SELECT key_digest FROM person_key WHERE person_id = :id ORDER BY key_digest"
    before = await owner_rows(connection, query, id=found["id"])
    added = await client.post(
        f"/v1/persons/{found['id']}/names", json={"full_name": "Umm Khalid", "kind": "alias"}
    )
    assert added.status_code == 201, added.text
    after = await owner_rows(connection, query, id=found["id"])
    assert set(before) < set(after)


async def test_another_societys_persons_are_never_candidates(client, staff, runtime, connection):
    other = await staff(society="elsewhere")
    await client.post("/v1/tracing-requests", json=tracing_request())
    await client.post("/v1/registrations", json=registration(), headers=other.headers())
    await drain(runtime)
    assert await owner_rows(connection, "SELECT id FROM candidate_link") == []


def brother(role: str, name: str, born: str, father: str, **extra) -> dict:
    """A man of a pair of brothers (the same father)."""
    person = {
        "role": role,
        "names": [{"full_name": name}],
        "sex": "male",
        "birth_date": {"text": born},
        "father_name": father,
        **extra,
    }
    return person


AHMED_SEEKS_KARIM = [
    brother("enquirer", "أحمد يوسف", "1988-05-02", "يوسف"),
    brother("sought_person", "كريم يوسف", "1992-11-20", "يوسف", relationship_to_enquirer="brother"),
]


async def test_two_brothers_seeking_each_other_are_a_reciprocal_pair(client, runtime, connection):
    """Ahmed seeks his brother Karim; Karim, in another request, seeks Ahmed."""
    first = tracing_request(persons=AHMED_SEEKS_KARIM)
    second = tracing_request(
        persons=[
            brother("enquirer", "Karim Youssef", "20/11/1992", "Youssef"),
            brother(
                "sought_person",
                "Ahmad Yousef",
                "1988",
                "Yousef",
                relationship_to_enquirer="brother",
            ),
        ]
    )
    for body in (first, second):
        assert (await client.post("/v1/tracing-requests", json=body)).status_code == 201
    await drain(runtime)
    links = await owner_rows(
        connection, "SELECT kind, probability, match_weight, explanation FROM candidate_link"
    )
    assert sorted(link.kind for link in links) == ["reciprocal", "reciprocal"]
    for link in links:
        mirror = link.explanation["reciprocal"]
        assert mirror["bits"] == 6.0
        assert mirror["probability"] >= THRESHOLD
        fields = sum(field["bits"] for field in link.explanation["fields"].values())
        assert link.match_weight == pytest.approx(fields + 6.0, abs=0.1)


async def test_a_one_sided_search_is_no_reciprocal_pair(client, runtime, connection):
    """Karim seeks someone else: his match with Ahmed's sought brother stays one-sided."""
    first = tracing_request(persons=AHMED_SEEKS_KARIM)
    second = tracing_request(
        persons=[
            brother("enquirer", "Karim Youssef", "20/11/1992", "Youssef"),
            {
                "role": "sought_person",
                "names": [{"full_name": "Layla Haddad"}],
                "sex": "female",
                "birth_date": {"text": "1995"},
                "relationship_to_enquirer": "spouse",
            },
        ]
    )
    for body in (first, second):
        assert (await client.post("/v1/tracing-requests", json=body)).status_code == 201
    await drain(runtime)
    links = await owner_rows(connection, "SELECT kind, explanation FROM candidate_link")
    assert [link.kind for link in links] == ["sought_enquirer"]
    assert "reciprocal" not in links[0].explanation


async def test_a_family_found_together_is_evidence_for_each_of_its_pairs(
    client, runtime, connection
):
    """Two siblings each seek their mother and father; a cousin seeks the mother only. The
    mothers of the siblings' requests agree, and so do the fathers: each pair is evidence for
    the other. The cousin's mother pair has no such support."""
    father = {"relationship_to_enquirer": "father"}
    siblings = [
        brother("enquirer", "عمر حسن", "1990-01-04", "حسن"),
        brother("enquirer", "Yusuf Hassan", "1994-08-30", "Hassan"),
    ]
    fathers = [
        brother("sought_person", "حسن محمود", "1958-06-01", "محمود", **father),
        brother("sought_person", "Hassan Mahmoud", "1958", "Mahmoud", **father),
    ]
    requests = [
        tracing_request(persons=[siblings[0], sought_person(**SOUGHT_MOTHER), fathers[0]]),
        tracing_request(persons=[siblings[1], sought_person(**SOUGHT_MOTHER), fathers[1]]),
        tracing_request(
            persons=[
                brother("enquirer", "Karim Nasser", "1985-02-11", "Nasser"),
                sought_person(**SOUGHT_MOTHER, relationship_to_enquirer="aunt"),
            ]
        ),
    ]
    created = []
    for body in requests:
        response = await client.post("/v1/tracing-requests", json=body)
        assert response.status_code == 201, response.text
        created.append(response.json())
    mothers = [next(p["id"] for p in r["persons"] if p["sex"] == "female") for r in created]
    await drain(runtime)
    links = await owner_rows(
        connection,
        "SELECT left_person_id, right_person_id, kind, match_weight, explanation"
        " FROM candidate_link WHERE kind = 'same_sought_person'",
    )
    by_pair = {
        frozenset((str(link.left_person_id), str(link.right_person_id))): link for link in links
    }
    siblings_mothers = by_pair[frozenset((mothers[0], mothers[1]))]
    cousins_mothers = by_pair[frozenset((mothers[0], mothers[2]))]
    family = siblings_mothers.explanation["family"]
    assert family["bits"] == 2.0
    (pair,) = family["pairs"]
    father_ids = {
        p["id"]
        for r in created[:2]
        for p in r["persons"]
        if p["names"][0]["full_name"] in ("حسن محمود", "Hassan Mahmoud")
    }
    assert {pair["left_person_id"], pair["right_person_id"]} == father_ids
    assert "family" not in cousins_mothers.explanation
    difference = siblings_mothers.match_weight - cousins_mothers.match_weight
    assert difference == pytest.approx(2.0, abs=0.01)


async def test_finished_jobs_are_forgotten_after_the_retention_period(client, runtime, connection):
    await make_pair(client)
    await drain(runtime)
    assert await worker.purge_finished(runtime.sessions, runtime.tenant_session) == 0
    await connection.execute(text("RESET ROLE"))
    await connection.execute(
        text("UPDATE match_job SET finished_at = finished_at - CAST(:age AS interval)"),
        {"age": worker.JOB_RETENTION + datetime.timedelta(minutes=1)},
    )
    await connection.execute(text("SET ROLE kintrace_app"))
    purged = await worker.purge_finished(runtime.sessions, runtime.tenant_session)
    assert purged == 3  # the enquirer, the sought mother and the registration
    rows = await owner_rows(connection, "SELECT count(*) AS jobs FROM match_job")
    assert rows[0].jobs == 0


async def test_a_worker_with_a_backlog_stops_between_batches(client, runtime, caseworker):
    await make_pair(client)  # three queued jobs
    stop = asyncio.Event()
    leases = 0

    def tenant(society_id):
        nonlocal leases
        leases += 1
        if leases == 2:  # the first job's transaction: the worker is asked to stop
            stop.set()
        return runtime.tenant_session(society_id)

    done = await worker.drain_society(
        tenant, caseworker.society_id, Matcher(), THRESHOLD, batch=1, stop=stop
    )
    assert done.jobs == 1, "the batch in hand is finished, no new one is taken"
    rest = await worker.drain_society(
        runtime.tenant_session, caseworker.society_id, Matcher(), THRESHOLD
    )
    assert rest.jobs == 2


async def test_societies_take_turns_a_batch_at_a_time(client, runtime, staff, caseworker):
    """A society with a backlog does not hold up another's matching: one batch each in turn."""
    other = await staff(("caseworker",), society="other")
    await make_pair(client)  # three jobs in `local`
    body = tracing_request(persons=[enquirer(), MOTHER])
    for path, payload in (("/v1/tracing-requests", body), ("/v1/registrations", FOUND)):
        created = await client.post(path, json=payload, headers=other.headers())
        assert created.status_code == 201, created.text
    turns: list[uuid.UUID] = []

    def tenant(society_id):
        if not turns or turns[-1] != society_id:
            turns.append(society_id)
        return runtime.tenant_session(society_id)

    done = await worker.drain(runtime.sessions, tenant, Matcher(), THRESHOLD, batch=1)
    assert done.jobs == 6
    mine, theirs = caseworker.society_id, other.society_id
    assert turns[:6] in ([mine, theirs] * 3, [theirs, mine] * 3)


@pytest.mark.parametrize("limit", [1, 2])
async def test_a_lease_takes_at_most_its_limit(client, runtime, caseworker, limit):
    await make_pair(client)  # three queued jobs
    async with runtime.tenant_session(caseworker.society_id) as session:
        jobs = await repository.lease_jobs(
            session, limit=limit, lease=worker.LEASE, max_attempts=worker.MAX_ATTEMPTS
        )
    assert len(jobs) == limit
