"""The disclosure gate (domain rules 3, 4, 6 and 8): a confirmed link locates a sought person,
and only the located person's consent releases their whereabouts to the enquirer side, field by
field; a refusal tells only "declines contact"; a minor needs a verified relationship and two
reviewers; a death is delivered by a caseworker, never released."""

from __future__ import annotations

import datetime

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

CONTACT = {"phone": "+90 342 000 0000", "email": "f.hassan@example.org", "postal_address": "X"}
WHEREABOUTS = {"text": "Gaziantep, Şahinbey", "country_code": "TR"}
OBTAINED = {"obtained_how": "in_person_signed", "obtained_on": "2026-02-01"}


@pytest.fixture
async def supervisor(staff):
    return await staff(("supervisor",))


@pytest.fixture
async def client(bare_client, supervisor):
    """A supervisor: records, reviews, and may learn of a death."""
    bare_client.headers.update(supervisor.headers())
    return bare_client


async def locate(client, runtime, sought: dict | None = None, **found_overrides) -> dict:
    """A sought mother and her registration (with whereabouts and contact), proposed."""
    request = await client.post(
        "/v1/tracing-requests",
        json=tracing_request(
            persons=[enquirer(), sought_person(**{**SOUGHT_MOTHER, **(sought or {})})]
        ),
    )
    body = registration(
        **{**REGISTERED_MOTHER, "current_place": WHEREABOUTS, "contact": CONTACT, **found_overrides}
    )
    found = await client.post("/v1/registrations", json=body)
    assert request.status_code == found.status_code == 201, found.text
    await worker.drain(runtime.sessions, runtime.tenant_session, Matcher(), 0.5)
    (link,) = (await client.get("/v1/candidate-links")).json()["items"]
    return {"request": request.json(), "found": found.json(), "link": link}


async def confirm(client, link: dict, *reviewers, note: str | None = None) -> None:
    version = link["version"]
    for who in reviewers or (None,):
        headers = {"If-Match": f'"v{version}"', **(who.headers("review") if who else {})}
        decided = await client.post(
            f"/v1/candidate-links/{link['id']}/decisions",
            json={"decision": "confirm", "note": note},
            headers=headers,
        )
        assert decided.status_code == 200, decided.text
        version = decided.json()["version"]


async def only_disclosure(client) -> dict:
    (item,) = (await client.get("/v1/disclosures")).json()["items"]
    return item


async def consent_to_disclosure(client, case: dict, fields: list[str], **extra) -> str:
    enquirer_id = case["request"]["persons"][0]["id"]
    response = await client.post(
        f"/v1/persons/{case['found']['id']}/consents",
        json={
            "scope": "disclosure",
            "enquirer_id": enquirer_id,
            "fields": fields,
            **OBTAINED,
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def enquirer_view(client, case: dict, headers=None) -> dict:
    response = await client.get(
        f"/v1/tracing-requests/{case['request']['id']}/enquirer-view", headers=headers or {}
    )
    assert response.status_code == 200, response.text
    return response.json()


def leaks_whereabouts(view: dict, case: dict) -> bool:
    as_text = str(view)
    secrets = [case["found"]["id"], "Gaziantep", *CONTACT.values()]
    return any(secret in as_text for secret in secrets)


async def test_a_confirmed_link_opens_a_pending_disclosure_that_shows_nothing(client, runtime):
    case = await locate(client, runtime)
    await confirm(client, case["link"])
    disclosure = await only_disclosure(client)
    assert disclosure["status"] == "pending"
    assert disclosure["found_person_id"] == case["found"]["id"]
    view = await enquirer_view(client, case)
    assert view["status"] == "located" and view["outcome"] is None
    assert [d["outcome"] for d in view["disclosures"]] == ["disclosure_pending"]
    assert view["disclosures"][0]["released"] is None
    assert not leaks_whereabouts(view, case)


async def test_consent_releases_exactly_the_fields_allowed(client, runtime, connection):
    case = await locate(client, runtime)
    await confirm(client, case["link"])
    disclosure = await only_disclosure(client)
    asked = await client.post(f"/v1/disclosures/{disclosure['id']}/request")
    assert asked.json()["status"] == "requested"
    assert (await client.post(f"/v1/disclosures/{disclosure['id']}/request")).status_code == 409
    consent_id = await consent_to_disclosure(client, case, ["phone", "current_place"])
    answered = await client.post(
        f"/v1/disclosures/{disclosure['id']}/answer",
        json={"answer": "consent", "consent_id": consent_id},
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "released"
    assert answered.json()["released_fields"] == ["phone", "current_place"]
    view = await enquirer_view(client, case)
    (item,) = view["disclosures"]
    assert item["outcome"] == "contact_restored"
    assert item["released"] == {
        "current_place": {**WHEREABOUTS, "latitude": None, "longitude": None},
        "contact": {"phone": CONTACT["phone"], "email": None, "postal_address": None},
    }
    assert view["outcome"] == "located_contact_restored"
    await connection.execute(text("RESET ROLE"))
    logged = (
        await connection.execute(
            text("SELECT fields FROM disclosure_release WHERE disclosure_id = :d"),
            {"d": disclosure["id"]},
        )
    ).scalar_one()
    assert logged == ["phone", "current_place"]


async def test_a_refusal_tells_the_enquirer_only_that_contact_is_declined(client, runtime):
    case = await locate(client, runtime)
    await confirm(client, case["link"])
    disclosure = await only_disclosure(client)
    refused = await client.post(
        f"/v1/disclosures/{disclosure['id']}/answer", json={"answer": "refuse"}
    )
    assert refused.json()["status"] == "refused"
    view = await enquirer_view(client, case)
    assert view["outcome"] == "located_declines_contact"
    assert view["disclosures"][0] == {
        "sought_person_id": case["request"]["persons"][1]["id"],
        "outcome": "declines_contact",
        "released": None,
    }
    assert not leaks_whereabouts(view, case)
    late = await client.post(
        f"/v1/disclosures/{disclosure['id']}/answer", json={"answer": "no_answer"}
    )
    assert late.status_code == 409


@pytest.mark.parametrize("wrong", ["tracing consent", "withdrawn", "other enquirer"])
async def test_only_a_standing_consent_to_this_enquirer_releases(client, runtime, wrong):
    case = await locate(client, runtime)
    await confirm(client, case["link"])
    disclosure = await only_disclosure(client)
    found_id = case["found"]["id"]
    if wrong == "tracing consent":
        given = await client.post(
            f"/v1/persons/{found_id}/consents", json={"scope": "tracing", **OBTAINED}
        )
        consent_id = given.json()["id"]
    elif wrong == "withdrawn":
        consent_id = await consent_to_disclosure(client, case, ["phone"])
        await client.post(f"/v1/persons/{found_id}/consents/{consent_id}/withdrawal", json={})
    else:
        other = (await client.post("/v1/tracing-requests", json=tracing_request())).json()
        given = await client.post(
            f"/v1/persons/{found_id}/consents",
            json={
                "scope": "disclosure",
                "enquirer_id": other["persons"][0]["id"],
                "fields": ["phone"],
                **OBTAINED,
            },
        )
        consent_id = given.json()["id"]
    answered = await client.post(
        f"/v1/disclosures/{disclosure['id']}/answer",
        json={"answer": "consent", "consent_id": consent_id},
    )
    assert answered.status_code == 422
    assert (await only_disclosure(client))["status"] == "pending"
    assert not leaks_whereabouts(await enquirer_view(client, case), case)


@pytest.mark.parametrize("how", ["consent withdrawn", "do not trace"])
async def test_a_release_ends_when_the_person_withdraws(client, runtime, how):
    case = await locate(client, runtime)
    await confirm(client, case["link"])
    disclosure = await only_disclosure(client)
    consent_id = await consent_to_disclosure(client, case, ["phone", "email"])
    await client.post(
        f"/v1/disclosures/{disclosure['id']}/answer",
        json={"answer": "consent", "consent_id": consent_id},
    )
    assert (await enquirer_view(client, case))["disclosures"][0]["released"]
    found_id = case["found"]["id"]
    if how == "consent withdrawn":
        path = f"/v1/persons/{found_id}/consents/{consent_id}/withdrawal"
        assert (await client.post(path, json={})).status_code == 200
    else:
        assert (await client.post(f"/v1/persons/{found_id}/do-not-trace")).status_code == 200
    assert (await only_disclosure(client))["status"] == "stopped"
    view = await enquirer_view(client, case)
    assert view["disclosures"][0]["outcome"] == "declines_contact"
    assert not leaks_whereabouts(view, case)


REVIEW_NOTE = "Amina recognised her son Yusuf in the photograph."
VERIFICATION_NOTE = "Birth certificate of Yusuf Hassan, seen at the Gaziantep office."


async def test_a_minor_is_disclosed_only_after_verification_and_two_reviewers(
    client, runtime, staff, connection
):
    born = datetime.date.today().year - 12
    child = {"birth_date": {"text": str(born)}}
    case = await locate(client, runtime, sought=child, **child)
    first, second = await staff(("reviewer",)), await staff(("reviewer",))
    await confirm(client, case["link"], first, second, note=REVIEW_NOTE)
    disclosure = await only_disclosure(client)
    assert disclosure["minor"] is True
    consent_id = await consent_to_disclosure(
        client, case, ["current_place"], given_by="guardian", giver_name="Amina Hassan"
    )
    answered = await client.post(
        f"/v1/disclosures/{disclosure['id']}/answer",
        json={"answer": "consent", "consent_id": consent_id},
    )
    assert answered.json()["status"] == "awaiting_approval"
    path = f"/v1/disclosures/{disclosure['id']}"
    assert (await client.post(f"{path}/approvals", headers=first.headers("review"))).json()[
        "status"
    ] == "awaiting_approval"
    twice = await client.post(f"{path}/approvals", headers=first.headers("review"))
    assert twice.status_code == 409
    approved = await client.post(f"{path}/approvals", headers=second.headers("review"))
    assert approved.json()["status"] == "awaiting_approval", "no verification yet"
    assert not leaks_whereabouts(await enquirer_view(client, case), case)
    verified = await client.post(
        f"{path}/verification",
        json={
            "method": "birth certificate and interview",
            "verified_on": "2026-02-03",
            "note": VERIFICATION_NOTE,
        },
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "released"
    assert verified.json()["verified_by"].startswith("user:")
    assert verified.json()["verification_note"] == VERIFICATION_NOTE
    view = await enquirer_view(client, case)
    assert view["disclosures"][0]["released"]["current_place"]["text"] == WHEREABOUTS["text"]
    link = await client.get(f"/v1/candidate-links/{case['link']['id']}")
    assert [d["note"] for d in link.json()["decisions"]] == [REVIEW_NOTE, REVIEW_NOTE]
    await connection.execute(text("RESET ROLE"))
    stored = (
        await connection.execute(
            text(
                "SELECT verification_note FROM disclosure UNION ALL "
                "SELECT note FROM candidate_decision WHERE link_id = :link"
            ),
            {"link": case["link"]["id"]},
        )
    ).scalars()
    assert [note[:3] for note in stored] == ["k1:", "k1:", "k1:"], "notes are sealed at rest"


async def test_an_adult_needs_no_verification_or_approvals(client, runtime):
    case = await locate(client, runtime)
    await confirm(client, case["link"])
    path = f"/v1/disclosures/{(await only_disclosure(client))['id']}"
    assert (await client.post(f"{path}/approvals")).status_code == 409
    verification = {"method": "interview", "verified_on": "2026-02-03"}
    assert (await client.post(f"{path}/verification", json=verification)).status_code == 409


async def test_a_death_is_for_a_caseworker_to_deliver_never_released(client, runtime, staff):
    case = await locate(client, runtime, registration_kind="deceased")
    first, second = await staff(("reviewer",)), await staff(("reviewer",))
    await confirm(client, case["link"], first, second)
    disclosure = await only_disclosure(client)
    assert disclosure["status"] == "caseworker_delivery"
    path = f"/v1/disclosures/{disclosure['id']}"
    consent_id = await consent_to_disclosure(client, case, ["phone"])
    answer = {"answer": "consent", "consent_id": consent_id}
    assert (await client.post(f"{path}/answer", json=answer)).status_code == 409
    partner = (await staff(("partner",))).headers()
    partner_view = await enquirer_view(client, case, partner)
    assert partner_view["disclosures"][0]["outcome"] == "disclosure_pending"
    own_view = await enquirer_view(client, case)
    assert own_view["disclosures"][0]["outcome"] == "deceased_caseworker_delivery"
    delivered = await client.post(f"{path}/delivered")
    assert delivered.json()["status"] == "delivered"
    assert (await enquirer_view(client, case))["outcome"] == "deceased"
    partner_view = await enquirer_view(client, case, partner)
    assert partner_view["outcome"] is None
    assert partner_view["disclosures"][0]["outcome"] == "disclosure_pending"
    assert not leaks_whereabouts(partner_view, case)
