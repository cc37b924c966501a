"""Review of candidate links: the queue, decisions with If-Match, four-eyes confirmation for
minors, persons flagged sensitive and deceased registrations, no re-proposal of a rejected pair
unless a compared field changes, and a confirmed link setting the tracing request to `located`."""

from __future__ import annotations

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

REVIEW = "review"
REJECT = {"decision": "reject", "reason": "different_person"}
CONFIRM = {"decision": "confirm"}


async def drain(runtime) -> None:
    await worker.drain(runtime.sessions, runtime.tenant_session, Matcher(), 0.5)


@pytest.fixture
async def reviewer(staff):
    return await staff(("reviewer",))


@pytest.fixture
async def second_reviewer(staff):
    return await staff(("reviewer",))


async def propose(client, runtime, reviewer, sought=None, found=None) -> dict:
    """Record a sought mother and her registration, run the worker, return the link's detail."""
    body = tracing_request(persons=[enquirer(), sought or sought_person(**SOUGHT_MOTHER)])
    created = await client.post("/v1/tracing-requests", json=body)
    assert created.status_code == 201, created.text
    registered = await client.post(
        "/v1/registrations", json=found or registration(**REGISTERED_MOTHER)
    )
    assert registered.status_code == 201, registered.text
    await drain(runtime)
    queue = await client.get("/v1/candidate-links", headers=reviewer.headers(REVIEW))
    assert queue.status_code == 200, queue.text
    (item,) = queue.json()["items"]
    detail = await client.get(f"/v1/candidate-links/{item['id']}", headers=reviewer.headers(REVIEW))
    assert detail.status_code == 200, detail.text
    return {
        **detail.json(),
        "etag": detail.headers["etag"],
        "request": created.json(),
        "registration": registered.json(),
    }


async def decide(client, who, link, body, etag=None):
    headers = {**who.headers(REVIEW), "If-Match": etag or link["etag"]}
    return await client.post(
        f"/v1/candidate-links/{link['id']}/decisions", json=body, headers=headers
    )


async def test_the_detail_shows_both_persons_and_the_explanation(client, runtime, reviewer):
    link = await propose(client, runtime, reviewer)
    assert link["status"] == "proposed"
    assert {link["left"]["id"], link["right"]["id"]} == {
        link["left_person_id"],
        link["right_person_id"],
    }
    assert link["explanation"]["fields"]["name"]["level"]
    assert link["decisions"] == []
    assert link["reviews_required"] == 1


async def test_confirming_sets_the_request_located(client, runtime, reviewer):
    link = await propose(client, runtime, reviewer)
    confirmed = await decide(client, reviewer, link, CONFIRM)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.headers["etag"] != link["etag"]
    request = await client.get(f"/v1/tracing-requests/{link['request']['id']}")
    assert request.json()["status"] == "located"
    again = await decide(client, reviewer, link, REJECT, etag=confirmed.headers["etag"])
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"decision": "reject"}, 422),
        ({"decision": "reject", "reason": "other"}, 422),
        ({"decision": "confirm", "reason": "different_person"}, 422),
        ({"decision": "maybe"}, 422),
        ({"decision": "reject", "reason": "other", "note": "Different mother's name."}, 200),
    ],
    ids=["no reason", "other without note", "reason on confirm", "unknown", "other with note"],
)
async def test_a_rejection_needs_a_reason(client, runtime, reviewer, body, status):
    link = await propose(client, runtime, reviewer)
    assert (await decide(client, reviewer, link, body)).status_code == status


async def test_decisions_need_the_current_etag(client, runtime, reviewer):
    link = await propose(client, runtime, reviewer)
    headers = reviewer.headers(REVIEW)
    missing = await client.post(
        f"/v1/candidate-links/{link['id']}/decisions", json=CONFIRM, headers=headers
    )
    assert missing.status_code == 428
    assert (await decide(client, reviewer, link, CONFIRM, etag='"v999"')).status_code == 412


async def test_a_rejected_pair_returns_only_when_a_compared_field_changes(
    client, runtime, reviewer
):
    link = await propose(client, runtime, reviewer)
    rejected = await decide(client, reviewer, link, REJECT)
    assert rejected.json()["status"] == "rejected"
    registration_id = link["registration"]["id"]

    person = await client.get(f"/v1/persons/{registration_id}")
    noted = await client.patch(  # not a compared field: nothing is proposed again
        f"/v1/persons/{registration_id}",
        json={"notes": "Seen at the clinic."},
        headers={"If-Match": person.headers["etag"]},
    )
    assert noted.status_code == 200, noted.text
    await drain(runtime)
    queue = await client.get("/v1/candidate-links", headers=reviewer.headers(REVIEW))
    assert queue.json()["items"] == []

    person = await client.get(f"/v1/persons/{registration_id}")
    changed = await client.patch(
        f"/v1/persons/{registration_id}",
        json={"mother_name": "Aisha"},
        headers={"If-Match": person.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    await drain(runtime)
    queue = await client.get("/v1/candidate-links", headers=reviewer.headers(REVIEW))
    (again,) = queue.json()["items"]
    assert again["id"] == link["id"]
    assert again["status"] == "proposed"
    detail = await client.get(f"/v1/candidate-links/{link['id']}", headers=reviewer.headers(REVIEW))
    assert [d["decision"] for d in detail.json()["decisions"]] == ["reject"]


@pytest.mark.parametrize(
    ("sought", "found"),
    [
        (
            sought_person(**{**SOUGHT_MOTHER, "birth_date": {"text": "2015-03-07"}}),
            registration(**{**REGISTERED_MOTHER, "birth_date": {"text": "07/03/2015"}}),
        ),
        (
            sought_person(**SOUGHT_MOTHER),
            registration(**REGISTERED_MOTHER, registration_kind="deceased"),
        ),
        (
            sought_person(**SOUGHT_MOTHER, sensitive=True),
            registration(**REGISTERED_MOTHER),
        ),
    ],
    ids=["minor", "deceased", "sensitive"],
)
async def test_four_eyes_for_minors_the_deceased_and_the_sensitive(
    client, runtime, reviewer, second_reviewer, sought, found
):
    link = await propose(client, runtime, reviewer, sought, found)
    assert link["reviews_required"] == 2
    first = await decide(client, reviewer, link, CONFIRM)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "proposed"
    etag = first.headers["etag"]
    twice = await decide(client, reviewer, link, CONFIRM, etag=etag)
    assert twice.status_code == 409
    second = await decide(client, second_reviewer, link, CONFIRM, etag=etag)
    assert second.status_code == 200, second.text
    assert second.json()["status"] == "confirmed"
    assert len(second.json()["decisions"]) == 2


async def test_flagging_a_person_sensitive_later_raises_the_reviews_an_open_link_needs(
    client, runtime, reviewer
):
    link = await propose(client, runtime, reviewer)
    assert link["reviews_required"] == 1
    person_id = link["registration"]["id"]
    person = await client.get(f"/v1/persons/{person_id}")
    flagged = await client.patch(
        f"/v1/persons/{person_id}",
        json={"sensitive": True},
        headers={"If-Match": person.headers["etag"]},
    )
    assert flagged.status_code == 200, flagged.text
    assert flagged.json()["sensitive"] is True
    await drain(runtime)
    again = await client.get(f"/v1/candidate-links/{link['id']}", headers=reviewer.headers(REVIEW))
    assert (again.json()["status"], again.json()["reviews_required"]) == ("proposed", 2)


async def test_caseworkers_do_not_decide(client, runtime, reviewer, caseworker):
    link = await propose(client, runtime, reviewer)
    refused = await decide(client, caseworker, link, CONFIRM)
    assert refused.status_code == 403


async def test_reading_and_deciding_are_audited(client, runtime, reviewer, connection):
    link = await propose(client, runtime, reviewer)
    await decide(client, reviewer, link, REJECT)
    await connection.execute(text("RESET ROLE"))
    rows = (
        await connection.execute(
            text(
                "SELECT action, record_ids, purpose FROM audit_event"
                " WHERE actor = :actor ORDER BY position"
            ),
            {"actor": f"user:{reviewer.user_id}"},
        )
    ).all()
    pair = {link["id"], link["left_person_id"], link["right_person_id"]}
    assert [row.action for row in rows] == [
        "candidate_link.list",
        "candidate_link.read",
        "candidate_link.reject",
    ]
    assert {str(record) for record in rows[2].record_ids} == pair
    assert {row.purpose for row in rows} == {REVIEW}
