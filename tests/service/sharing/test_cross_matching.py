"""Matching across societies under sharing grants (domain rules 7 and 9): only within a grant in
force, never a sensitive or stopped person; a cross-society candidate shows each side its own
person and of the other only the reference, probability and an explanation without the other's
names, until reviewers of both societies confirm; then the recipient sees the granted fields."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from matching import Matcher
from service.candidates import review, worker
from service.webhooks import outbox
from tests.service.payloads import (
    REGISTERED_MOTHER,
    SOUGHT_MOTHER,
    enquirer,
    registration,
    sought_person,
    tracing_request,
)
from tests.service.sharing.test_sharing import DE, LU, grant, later

THRESHOLD = 0.5
# What Luxembourg shares of its requests in most tests: enough to tell the mother apart.
MATCHING_FIELDS = ["names", "sex", "birth_date", "birth_place", "father_name"]


@pytest.fixture
async def lux(staff):
    """Luxembourg: a supervisor (records, grants, review), a reviewer and its data-protection
    officer."""
    return {
        "supervisor": await staff(("supervisor",), society=LU),
        "reviewer": await staff(("reviewer",), society=LU),
        "dpo": await staff(("data_protection_officer",), society=LU),
    }


@pytest.fixture
async def drk(staff):
    """The German Red Cross: a supervisor, two reviewers and its partner system."""
    return {
        "supervisor": await staff(("supervisor",), society=DE),
        "reviewer": await staff(("reviewer",), society=DE),
        "second": await staff(("reviewer",), society=DE),
        "partner": await staff(("partner",), society=DE),
    }


async def seek_mother(client, lux, **overrides) -> dict:
    """Luxembourg: a son seeks his mother (her name in Arabic script)."""
    body = tracing_request(persons=[enquirer(), sought_person(**SOUGHT_MOTHER | overrides)])
    response = await client.post(
        "/v1/tracing-requests", json=body, headers=lux["supervisor"].headers()
    )
    assert response.status_code == 201, response.text
    return next(p for p in response.json()["persons"] if p["role"] == "sought_person")


async def register_mother(client, drk, **overrides) -> dict:
    """Germany: a woman registered safe and well (her name in Latin script)."""
    response = await client.post(
        "/v1/registrations",
        json=registration(**REGISTERED_MOTHER | overrides),
        headers=drk["supervisor"].headers(),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def drain(runtime) -> None:
    await worker.drain(runtime.sessions, runtime.tenant_session, Matcher(), THRESHOLD)


async def queue(client, who) -> list[dict]:
    response = await client.get("/v1/candidate-links", headers=who.headers("review"))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def share_requests(client, lux, fields=MATCHING_FIELDS) -> dict:
    return await grant(client, lux, record_kinds=["tracing_request"], fields=fields)


@dataclass(frozen=True)
class Matched:
    """What `matched_across` made."""

    sought: dict
    found: dict
    grant: dict


async def matched_across(client, runtime, lux, drk, fields=MATCHING_FIELDS, **sought) -> Matched:
    """Luxembourg seeks the mother and shares its requests; Germany registers her; the worker
    runs."""
    person = await seek_mother(client, lux, **sought)
    given = await share_requests(client, lux, fields)
    found = await register_mother(client, drk)
    await drain(runtime)
    return Matched(person, found, given)


async def test_without_a_grant_nothing_is_matched_across(bare_client, runtime, lux, drk):
    await seek_mother(bare_client, lux)
    await register_mother(bare_client, drk)
    await drain(runtime)
    assert await queue(bare_client, drk["reviewer"]) == []
    assert await queue(bare_client, lux["reviewer"]) == []


async def test_a_new_record_probes_the_shared_ones(bare_client, runtime, lux, drk):
    """Germany's registration, recorded after the grant, probes Luxembourg's keys."""
    sought = await seek_mother(bare_client, lux)
    await share_requests(bare_client, lux)
    await drain(runtime)
    found = await register_mother(bare_client, drk)
    await drain(runtime)
    (link,) = await queue(bare_client, drk["reviewer"])
    assert {link["left_person_id"], link["right_person_id"]} == {sought["id"], found["id"]}
    assert link["partner_society"] == LU and link["kind"] == "sought_registration"
    assert link["probability"] >= THRESHOLD and link["confirmed_by"] == []
    assert [item["id"] for item in await queue(bare_client, lux["reviewer"])] == [link["id"]]


async def test_a_grant_queues_the_shared_records_for_the_recipient(bare_client, runtime, lux, drk):
    """Records on both sides before the grant: the grant queues Luxembourg's covered persons in
    Germany's match queue, where they probe Germany's own keys."""
    sought = await seek_mother(bare_client, lux)
    found = await register_mother(bare_client, drk)
    await drain(runtime)
    assert await queue(bare_client, drk["reviewer"]) == []
    await share_requests(bare_client, lux)
    await drain(runtime)
    (link,) = await queue(bare_client, drk["reviewer"])
    assert {link["left_person_id"], link["right_person_id"]} == {sought["id"], found["id"]}


async def test_each_side_sees_its_own_person_and_only_a_reference_to_the_other(
    bare_client, runtime, lux, drk
):
    matched = await matched_across(bare_client, runtime, lux, drk)
    sought = matched.sought
    found = matched.found
    (link,) = await queue(bare_client, drk["reviewer"])
    path = f"/v1/candidate-links/{link['id']}"
    german = (await bare_client.get(path, headers=drk["reviewer"].headers("review"))).json()
    luxembourgish = (await bare_client.get(path, headers=lux["reviewer"].headers("review"))).json()
    for view, own, other in ((german, found, sought), (luxembourgish, sought, found)):
        side = "left" if view["left_person_id"] == own["id"] else "right"
        across = "right" if side == "left" else "left"
        assert view[side]["id"] == own["id"] and view[across] is None
        assert view[f"{across}_person_id"] == other["id"], "the reference is shown"
        assert view["partner_person"] is None
        names = view["explanation"]["fields"]["name"]["parts"]
        withheld = 1 if side == "left" else 0
        assert names and all(part[withheld] is None for part in names)
        assert all(part[1 - withheld] is not None for part in names)
    text_de, text_lu = str(german), str(luxembourgish)
    for token in ("فاطمة", "حسن", "محمود", "حلب", "Idlib"):
        assert token not in text_de, f"Germany must not read Luxembourg's {token}"
    for token in ("Fatma", "Hasan", "Mahmoud", "Aleppo", "Gaziantep"):
        assert token not in text_lu, f"Luxembourg must not read Germany's {token}"


async def test_both_societies_confirm_before_the_recipient_sees_the_granted_fields(
    bare_client, runtime, lux, drk
):
    matched = await matched_across(bare_client, runtime, lux, drk)
    sought = matched.sought
    (link,) = await queue(bare_client, drk["reviewer"])
    path = f"/v1/candidate-links/{link['id']}"

    async def decide(who, version: int, decision: str = "confirm"):
        return await bare_client.post(
            f"{path}/decisions",
            json={"decision": decision},
            headers={**who.headers("review"), "If-Match": f'"v{version}"'},
        )

    first = await decide(drk["reviewer"], link["version"])
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "proposed" and first.json()["confirmed_by"] == [DE]
    again = await decide(drk["second"], first.json()["version"])
    assert again.status_code == 409, "Germany's side is confirmed; Luxembourg must confirm"
    luxembourg = await bare_client.get(path, headers=lux["reviewer"].headers("review"))
    assert luxembourg.json()["decisions"] == [], "a partner's decisions stay with it"
    both = await decide(lux["reviewer"], first.json()["version"])
    assert both.status_code == 200, both.text
    assert both.json()["status"] == "confirmed"
    assert sorted(both.json()["confirmed_by"]) == sorted([DE, LU])
    assert both.json()["partner_person"] is None, "Germany shares nothing with Luxembourg"
    german = (await bare_client.get(path, headers=drk["reviewer"].headers("review"))).json()
    shown = german["partner_person"]
    assert shown["id"] == sought["id"] and shown["society"] == LU
    assert shown["fields"] == MATCHING_FIELDS and "last_known_place" not in shown
    assert shown["names"][0]["full_name"] == "فاطمة حسن"
    request = await bare_client.get(
        f"/v1/tracing-requests/{sought['tracing_request_id']}",
        headers=lux["supervisor"].headers(),
    )
    assert request.json()["status"] == "located", "the confirming side's request is located"
    ledger = await bare_client.get(
        "/v1/transfers?direction=sent", headers=lux["dpo"].headers("data-protection")
    )
    assert [entry["record_id"] for entry in ledger.json()["items"]] == [sought["id"]]


async def test_either_side_rejects_the_pair(bare_client, runtime, lux, drk):
    await matched_across(bare_client, runtime, lux, drk)
    (link,) = await queue(bare_client, lux["reviewer"])
    rejected = await bare_client.post(
        f"/v1/candidate-links/{link['id']}/decisions",
        json={"decision": "reject", "reason": "different_person"},
        headers={**lux["reviewer"].headers("review"), "If-Match": f'"v{link["version"]}"'},
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert await queue(bare_client, drk["reviewer"]) == []


async def test_a_partner_system_reads_cross_links_but_does_not_decide(
    bare_client, runtime, lux, drk
):
    await matched_across(bare_client, runtime, lux, drk)
    (link,) = await queue(bare_client, drk["partner"])
    refused = await bare_client.post(
        f"/v1/candidate-links/{link['id']}/decisions",
        json={"decision": "confirm"},
        headers={**drk["partner"].headers("review"), "If-Match": f'"v{link["version"]}"'},
    )
    assert refused.status_code == 403


@pytest.mark.parametrize("side", ["shared", "own"])
async def test_sensitive_persons_are_never_matched_across(bare_client, runtime, lux, drk, side):
    if side == "shared":
        await seek_mother(bare_client, lux, sensitive=True)
        await register_mother(bare_client, drk)
    else:
        await seek_mother(bare_client, lux)
        await register_mother(bare_client, drk, sensitive=True)
    await share_requests(bare_client, lux)
    await drain(runtime)
    assert await queue(bare_client, drk["supervisor"]) == []
    assert await queue(bare_client, lux["supervisor"]) == []


async def test_flagging_sensitive_withdraws_the_open_cross_link(bare_client, runtime, lux, drk):
    matched = await matched_across(bare_client, runtime, lux, drk)
    sought = matched.sought
    assert len(await queue(bare_client, drk["reviewer"])) == 1
    flagged = await bare_client.patch(
        f"/v1/persons/{sought['id']}",
        json={"sensitive": True},
        headers={**lux["supervisor"].headers(), "If-Match": f'"v{sought["version"]}"'},
    )
    assert flagged.status_code == 200, flagged.text
    await drain(runtime)
    assert await queue(bare_client, drk["reviewer"]) == []


async def test_revoking_the_grant_withdraws_open_cross_links(bare_client, runtime, lux, drk):
    matched = await matched_across(bare_client, runtime, lux, drk)
    given = matched.grant
    assert len(await queue(bare_client, drk["reviewer"])) == 1
    revoked = await bare_client.post(
        f"/v1/sharing-grants/{given['id']}/revocation",
        json={"reason": "purpose fulfilled"},
        headers=lux["supervisor"].headers() | {"If-Match": '"v1"'},
    )
    assert revoked.status_code == 200, revoked.text
    assert await queue(bare_client, drk["reviewer"]) == []
    await drain(runtime)
    assert await queue(bare_client, drk["reviewer"]) == [], "and nothing is proposed again"


async def test_mutual_grants_propose_the_pair_once(bare_client, runtime, lux, drk):
    await seek_mother(bare_client, lux)
    await share_requests(bare_client, lux)
    back = await bare_client.post(
        "/v1/sharing-grants",
        json={
            "recipient_society": LU,
            "legal_basis": "vital_interest",
            "valid_until": later(),
            "record_kinds": ["registration"],
            "fields": ["names"],
        },
        headers=drk["supervisor"].headers(),
    )
    assert back.status_code == 201, back.text
    await register_mother(bare_client, drk)
    await drain(runtime)
    await drain(runtime)
    german, luxembourgish = (
        await queue(bare_client, drk["reviewer"]),
        await queue(bare_client, lux["reviewer"]),
    )
    assert len(german) == 1 and [link["id"] for link in luxembourgish] == [german[0]["id"]]


async def test_the_sharing_society_hears_of_a_candidate_on_its_record(
    bare_client, runtime, lux, drk
):
    subscribed = await bare_client.post(
        "/v1/webhook-subscriptions",
        json={"url": "http://127.0.0.1:9/hooks", "event_types": ["candidate.proposed"]},
        headers=lux["supervisor"].headers(),
    )
    assert subscribed.status_code == 201, subscribed.text
    matched = await matched_across(bare_client, runtime, lux, drk)
    sought = matched.sought
    feed = await bare_client.get("/v1/events", headers=lux["reviewer"].headers(None))
    assert [event["type"] for event in feed.json()["items"]] == ["candidate.proposed"]
    await outbox.fill_society(runtime.tenant_session, lux["supervisor"].society_id, LU)
    deliveries = await bare_client.get(
        f"/v1/webhook-subscriptions/{subscribed.json()['id']}/deliveries",
        headers=lux["supervisor"].headers(),
    )
    (message,) = deliveries.json()["items"]
    assert message["event_type"] == "candidate.proposed"
    (link,) = await queue(bare_client, lux["reviewer"])
    assert message["subject_id"] == link["id"] and sought["id"] in link.values()


async def test_row_security_admits_only_covered_keys(bare_client, runtime, lux, drk):
    """Below the code: with shared reading on, Germany reads Luxembourg's blocking keys only
    for the persons a grant in force covers."""
    await seek_mother(bare_client, lux)
    registered = await bare_client.post(
        "/v1/registrations", json=registration(), headers=lux["supervisor"].headers()
    )
    assert registered.status_code == 201

    async def visible_owners() -> set[str]:
        async with runtime.tenant_session(drk["supervisor"].society_id) as session:
            await session.exec(text("SELECT set_config('kintrace.shared_read', 'on', true)"))
            rows = await session.exec(
                text("SELECT DISTINCT person_role FROM person_key WHERE society_id <> :own"),
                params={"own": drk["supervisor"].society_id},
            )
            return {row[0] for row in rows}

    assert await visible_owners() == set()
    await share_requests(bare_client, lux)
    assert await visible_owners() == {"enquirer", "sought_person"}


async def test_a_society_cannot_queue_another_societys_person(bare_client, runtime, lux, drk):
    """Row security refuses a match job for a person no grant of the queuing society covers."""
    registered = await register_mother(bare_client, drk)
    async with runtime.tenant_session(lux["supervisor"].society_id) as session:
        with pytest.raises(Exception, match="row-level security"):
            await session.exec(
                text("INSERT INTO match_job (society_id, person_id) VALUES (:s, :p)"),
                params={"s": drk["supervisor"].society_id, "p": uuid.UUID(registered["id"])},
            )


async def test_only_the_granted_fields_are_compared(bare_client, runtime, lux, drk):
    """A compared field would show itself in the explanation and the score: with names, sex and
    father's name granted, the shared person's birth date and place are not compared."""
    latin = [{"full_name": "Fatma Hasan", "kind": "primary"}]
    fields = ["names", "sex", "father_name"]
    await matched_across(
        bare_client, runtime, lux, drk, fields, names=latin, father_name="Hassan Mahmoud"
    )
    (link,) = await queue(bare_client, drk["reviewer"])
    detail = await bare_client.get(
        f"/v1/candidate-links/{link['id']}", headers=drk["reviewer"].headers("review")
    )
    levels = {
        name: entry["level"] for name, entry in detail.json()["explanation"]["fields"].items()
    }
    compared = {name for name, level in levels.items() if level != "missing"}
    assert compared == {"name", "sex", "father_name"}, levels


async def test_each_side_marks_its_own_request_located(bare_client, runtime, lux, drk):
    """Luxembourg's reviewer confirms first, Germany's last: Luxembourg's request (out of
    Germany's reach) is marked located by Luxembourg's side of the worker."""
    matched = await matched_across(bare_client, runtime, lux, drk)
    sought = matched.sought
    (link,) = await queue(bare_client, lux["reviewer"])
    version = link["version"]
    for who in (lux["reviewer"], drk["reviewer"]):
        decided = await bare_client.post(
            f"/v1/candidate-links/{link['id']}/decisions",
            json={"decision": "confirm"},
            headers={**who.headers("review"), "If-Match": f'"v{version}"'},
        )
        assert decided.status_code == 200, decided.text
        version = decided.json()["version"]
    assert decided.json()["status"] == "confirmed"
    path = f"/v1/tracing-requests/{sought['tracing_request_id']}"
    before = await bare_client.get(path, headers=lux["supervisor"].headers())
    assert before.json()["status"] != "located"
    await drain(runtime)
    after = await bare_client.get(path, headers=lux["supervisor"].headers())
    assert after.json()["status"] == "located"
    for society in (lux, drk):
        society_id = society["reviewer"].society_id
        async with runtime.tenant_session(society_id) as session:
            assert await review.locate_across(session, society_id) == 0, "each side once"
