"""Legal basis and consent records (domain rules 2 and 6), withdrawal and "do not trace" (rules
5 and 7): what a valid consent must say, and a person whose tracing stops leaving every
candidate pool in the same transaction, with a notice left for partners."""

from __future__ import annotations

import datetime
import uuid

import pytest
from sqlalchemy import text

from matching import Matcher
from service.candidates import worker
from tests.service.payloads import (
    REGISTERED_MOTHER,
    SOUGHT_MOTHER,
    enquirer,
    registration,
    sought_person,
    tracing_request,
)

TRACING = {"scope": "tracing", "obtained_how": "in_person_signed", "obtained_on": "2026-01-10"}


async def drain(runtime) -> None:
    await worker.drain(runtime.sessions, runtime.tenant_session, Matcher(), 0.5)


async def owner_value(connection, statement: str, **params):
    await connection.execute(text("RESET ROLE"))
    return (await connection.execute(text(statement), params)).scalar_one()


async def linked_pair(client, runtime) -> tuple[dict, dict, dict]:
    """A request seeking Fatima Hassan and her registration, proposed as a candidate link."""
    request = await client.post(
        "/v1/tracing-requests",
        json=tracing_request(persons=[enquirer(), sought_person(**SOUGHT_MOTHER)]),
    )
    found = await client.post("/v1/registrations", json=registration(**REGISTERED_MOTHER))
    assert request.status_code == found.status_code == 201
    await drain(runtime)
    links = (await client.get("/v1/candidate-links")).json()["items"]
    assert [link["status"] for link in links] == ["proposed"]
    return request.json(), found.json(), links[0]


@pytest.fixture
async def client(bare_client, staff):
    """A supervisor (records persons and reads the review queue)."""
    supervisor = await staff(("supervisor",))
    bare_client.headers.update(supervisor.headers())
    return bare_client


# --- legal basis ----------------------------------------------------------------------------


async def test_every_person_has_a_legal_basis_by_role_or_as_given(client):
    request = await client.post("/v1/tracing-requests", json=tracing_request())
    enquirer_, sought = request.json()["persons"]
    assert (enquirer_["legal_basis"], sought["legal_basis"]) == ("consent", "vital_interest")
    given = await client.post(
        "/v1/registrations", json=registration(legal_basis="legitimate_interest")
    )
    assert given.json()["legal_basis"] == "legitimate_interest"
    cleared = await client.patch(
        f"/v1/persons/{sought['id']}",
        json={"legal_basis": None},
        headers={"If-Match": f'"v{sought["version"]}"'},
    )
    assert cleared.status_code == 422
    assert cleared.json()["invalid-params"][0]["name"] == "legal_basis"
    unknown = await client.post("/v1/registrations", json=registration(legal_basis="aid"))
    assert unknown.status_code == 422


async def test_whereabouts_and_contact_are_stored_as_given(client):
    body = registration(
        current_place={"text": "Gaziantep, Şahinbey", "country_code": "TR"},
        contact={"phone": "+90 342 000 0000", "email": "f.hassan@example.org"},
    )
    created = await client.post("/v1/registrations", json=body)
    assert created.status_code == 201, created.text
    person = created.json()
    assert person["current_place"]["text"] == "Gaziantep, Şahinbey"
    assert person["contact"] == {
        "phone": "+90 342 000 0000",
        "email": "f.hassan@example.org",
        "postal_address": None,
    }
    bad = await client.post("/v1/registrations", json=registration(contact={"email": "nobody"}))
    assert bad.status_code == 422


# --- what a valid consent says ----------------------------------------------------------------


def consent(**overrides) -> dict:
    return {**TRACING, **overrides}


@pytest.mark.parametrize(
    "body",
    [
        consent(obtained_how="condition_of_aid"),
        consent(given_by="guardian"),
        consent(given_by="best_interest_decision"),
        consent(scope="disclosure"),
        consent(fields=["phone"]),
        consent(scope="disclosure", enquirer_id=str(uuid.uuid4())),
        consent(obtained_on=str(datetime.date.today() + datetime.timedelta(days=2))),
        consent(scope="publication", obtained_how="rumour"),
        consent(scope="disclosure", fields=["phone", "phone"], enquirer_id=str(uuid.uuid4())),
    ],
    ids=[
        "condition of aid",
        "guardian unnamed",
        "best interest without reference",
        "disclosure to nobody",
        "fields outside disclosure",
        "disclosure without fields",
        "obtained in the future",
        "unknown method",
        "a field twice",
    ],
)
async def test_invalid_consents_are_refused(client, body):
    found = (await client.post("/v1/registrations", json=registration())).json()
    response = await client.post(f"/v1/persons/{found['id']}/consents", json=body)
    assert response.status_code == 422, response.text
    listed = await client.get(f"/v1/persons/{found['id']}/consents")
    assert listed.json()["items"] == []


async def test_a_disclosure_consent_names_an_enquirer_of_the_society(client, staff):
    request = (await client.post("/v1/tracing-requests", json=tracing_request())).json()
    enquirer_, sought = request["persons"]
    found = (await client.post("/v1/registrations", json=registration())).json()
    body = consent(scope="disclosure", fields=["phone", "current_place"])
    for wrong in (sought["id"], str(uuid.uuid4())):
        refused = await client.post(
            f"/v1/persons/{found['id']}/consents", json={**body, "enquirer_id": wrong}
        )
        assert refused.status_code == 422, wrong
        assert refused.json()["invalid-params"][0]["name"] == "enquirer_id"
    given = await client.post(
        f"/v1/persons/{found['id']}/consents", json={**body, "enquirer_id": enquirer_["id"]}
    )
    assert given.status_code == 201, given.text
    assert given.json()["fields"] == ["phone", "current_place"]
    assert given.headers["location"].endswith(given.json()["id"])


@pytest.mark.parametrize(
    ("given_by", "extra", "status"),
    [
        ("person", {}, 422),
        ("guardian", {"giver_name": "Amina Warsame"}, 201),
        ("best_interest_decision", {"decision_reference": "BID-2026-014"}, 201),
    ],
)
async def test_a_minor_consents_through_a_guardian_or_a_best_interest_decision(
    client, given_by, extra, status
):
    born = datetime.date.today().year - 12
    child = (
        await client.post("/v1/registrations", json=registration(birth_date={"text": str(born)}))
    ).json()
    response = await client.post(
        f"/v1/persons/{child['id']}/consents", json=consent(given_by=given_by, **extra)
    )
    assert response.status_code == status, response.text
    if status == 201:
        assert response.json()["recorded_by"].startswith("user:")


# --- withdrawal and do not trace ----------------------------------------------------------------


async def stopped_state(client, connection, person_id: str) -> dict:
    person = (await client.get(f"/v1/persons/{person_id}")).json()
    keys = await owner_value(
        connection, "SELECT count(*) FROM person_key WHERE person_id = :p", p=person_id
    )
    notices = await owner_value(
        connection, "SELECT count(*) FROM partner_notice WHERE person_id = :p", p=person_id
    )
    return {"stopped": person["tracing_stopped"], "keys": keys, "notices": notices}


async def test_withdrawing_consent_to_tracing_leaves_every_pool_at_once(
    client, runtime, connection
):
    _, found, link = await linked_pair(client, runtime)
    given = await client.post(f"/v1/persons/{found['id']}/consents", json=TRACING)
    consent_id = given.json()["id"]
    withdrawn = await client.post(
        f"/v1/persons/{found['id']}/consents/{consent_id}/withdrawal",
        json={"reason": "Does not want to be found."},
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["withdrawn_at"] and withdrawn.json()["withdrawn_by"]
    state = await stopped_state(client, connection, found["id"])
    assert state == {"stopped": "consent_withdrawn", "keys": 0, "notices": 1}
    detail = await client.get(f"/v1/candidate-links/{link['id']}")
    assert detail.json()["status"] == "withdrawn"
    events = (await client.get("/v1/events")).json()["items"]
    assert events[-1]["type"] == "candidate.withdrawn"
    # Matched again (the sought mother changes), the withdrawn person is no candidate.
    await drain(runtime)
    assert (await client.get(f"/v1/candidate-links/{link['id']}")).json()["status"] == "withdrawn"
    search = await client.post("/v1/search", json={"name": "Fatma Hasan", "birth_date": "1960"})
    assert found["id"] not in [hit["person"]["id"] for hit in search.json()["hits"]]
    again = await client.post(
        f"/v1/persons/{found['id']}/consents/{consent_id}/withdrawal", json={}
    )
    assert again.status_code == 409


async def test_a_request_not_to_be_traced_stops_tracing_until_the_person_consents(
    client, runtime, connection
):
    _, found, link = await linked_pair(client, runtime)
    stopped = await client.post(f"/v1/persons/{found['id']}/do-not-trace")
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["tracing_stopped"] == "do_not_trace"
    assert stopped.headers["etag"] == f'"v{stopped.json()["version"]}"'
    state = await stopped_state(client, connection, found["id"])
    assert state == {"stopped": "do_not_trace", "keys": 0, "notices": 1}
    assert (await client.post(f"/v1/persons/{found['id']}/do-not-trace")).status_code == 409
    assert (await client.get(f"/v1/candidate-links/{link['id']}")).json()["status"] == "withdrawn"

    guardian = consent(given_by="guardian", giver_name="Ali Hassan")
    refused = await client.post(f"/v1/persons/{found['id']}/consents", json=guardian)
    assert refused.status_code == 409
    resumed = await client.post(f"/v1/persons/{found['id']}/consents", json=TRACING)
    assert resumed.status_code == 201, resumed.text
    person = (await client.get(f"/v1/persons/{found['id']}")).json()
    assert person["tracing_stopped"] is None
    await drain(runtime)
    assert (await client.get(f"/v1/candidate-links/{link['id']}")).json()["status"] == "proposed"


async def test_withdrawing_another_scope_tells_partners_but_keeps_tracing(
    client, runtime, connection
):
    found = (await client.post("/v1/registrations", json=registration())).json()
    sharing = consent(scope="partner_sharing")
    given = (await client.post(f"/v1/persons/{found['id']}/consents", json=sharing)).json()
    withdrawn = await client.post(
        f"/v1/persons/{found['id']}/consents/{given['id']}/withdrawal", json={}
    )
    assert withdrawn.status_code == 200
    state = await stopped_state(client, connection, found["id"])
    assert state["stopped"] is None and state["keys"] > 0 and state["notices"] == 1


async def test_a_consent_of_another_person_cannot_be_withdrawn_through_this_one(client):
    one = (await client.post("/v1/registrations", json=registration())).json()
    other = (await client.post("/v1/registrations", json=registration())).json()
    given = (await client.post(f"/v1/persons/{one['id']}/consents", json=TRACING)).json()
    response = await client.post(
        f"/v1/persons/{other['id']}/consents/{given['id']}/withdrawal", json={}
    )
    assert response.status_code == 404
    listed = (await client.get(f"/v1/persons/{one['id']}/consents")).json()["items"]
    assert listed[0]["withdrawn_at"] is None


async def test_a_stopped_person_is_never_stored_in_a_link(client, runtime):
    """The worker skips a candidate whose tracing stopped after it was queued."""
    request = await client.post(
        "/v1/tracing-requests",
        json=tracing_request(persons=[enquirer(), sought_person(**SOUGHT_MOTHER)]),
    )
    found = await client.post("/v1/registrations", json=registration(**REGISTERED_MOTHER))
    assert request.status_code == found.status_code == 201
    await client.post(f"/v1/persons/{found.json()['id']}/do-not-trace")
    await drain(runtime)
    assert (await client.get("/v1/candidate-links")).json()["items"] == []
