"""The outbox end to end: tombstones and candidate events reach a partner's endpoint signed,
once per event id from the receiver's point of view (it deduplicates on `webhook-id`), in order
per record, although the endpoint fails its first attempts and a sender crashes after the
endpoint accepted a message."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import pytest

from matching import Matcher
from schemas.webhooks import WEBHOOK_BODIES, CandidateEvent, WebhookEventType
from service.candidates import worker
from service.webhooks import outbox
from service.webhooks import repository as outbox_repository
from service.webhooks.signing import verify
from service.webhooks.transport import make_client
from tests.service.payloads import (
    REGISTERED_MOTHER,
    SOUGHT_MOTHER,
    enquirer,
    registration,
    sought_person,
    tracing_request,
)
from tests.service.webhooks.test_transport import Receiver


@dataclass
class FlakyReceiver(Receiver):
    """Answers `/hooks` with 500 to its first `failures` requests, then 200."""

    failures: int = 3

    async def _answer(self, path: str, writer: asyncio.StreamWriter) -> None:
        status = 500 if self.failures > 0 else 200
        self.failures -= 1
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()


@pytest.fixture
async def receiver():
    server = FlakyReceiver()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def people(staff):
    return {
        "partner": await staff(("partner",)),
        "caseworker": await staff(("caseworker",)),
        "dpo": await staff(("data_protection_officer",)),
    }


async def subscribe(client, partner, url: str, events: list[str] | None = None) -> dict:
    body = {"url": url} | ({"event_types": events} if events else {})
    response = await client.post(
        "/v1/webhook-subscriptions", json=body, headers=partner.headers("exchange")
    )
    assert response.status_code == 201, response.text
    assert response.json()["secret"].startswith("whsec_")
    return response.json()


async def pump_until_quiet(runtime, settings, rounds: int = 40) -> None:
    """Fill and deliver until nothing is pending (retries are 50-200 ms apart in the tests)."""
    codes = [(society_id, code) for society_id, code in await society_codes(runtime)]
    async with make_client(outbox.policy_of(settings)) as client:
        for _ in range(rounds):
            await outbox.pump(codes, runtime.tenant_session, client, settings)
            if not await pending(runtime, codes):
                return
            await asyncio.sleep(0.1)
    raise AssertionError("messages still pending")


async def society_codes(runtime):
    from service.db.engine import OWNER_ROLE, scoped_session
    from service.societies import repository as societies

    async with scoped_session(runtime.sessions, role=OWNER_ROLE) as session:
        return await societies.all_codes(session)


async def pending(runtime, codes) -> int:
    count = 0
    for society_id, _ in codes:
        async with runtime.tenant_session(society_id) as session:
            for subscription in await outbox_repository.enabled_subscriptions(session, lock=False):
                count += len(
                    await outbox_repository.messages_page(
                        session, subscription.id, "pending", None, 1000
                    )
                )
    return count


def processed(receiver: Receiver, secret: str) -> list[dict]:
    """What a careful receiver keeps: requests it answered 200, verified, deduplicated by id."""
    kept, seen = [], set()
    for index, request in enumerate(receiver.requests):
        if index < receiver_failures(receiver):
            continue
        message_id = verify(secret, request.headers, request.body)
        if message_id in seen:
            continue
        seen.add(message_id)
        body = json.loads(request.body)
        WEBHOOK_BODIES[WebhookEventType(body["type"])].model_validate(body)  # the documented form
        kept.append(body | {"id": message_id})
    return kept


def receiver_failures(receiver: Receiver) -> int:
    return 3  # FlakyReceiver's default: its first three answers were 500


async def test_tombstones_arrive_signed_once_each_and_in_order_per_record(
    bare_client, people, receiver, runtime, settings, monkeypatch
):
    subscription = await subscribe(
        bare_client, people["partner"], f"http://127.0.0.1:{receiver.port}/hooks"
    )
    caseworker = people["caseworker"].headers()
    first = await bare_client.post("/v1/registrations", json=registration(), headers=caseworker)
    second = await bare_client.post("/v1/registrations", json=registration(), headers=caseworker)
    first_id, second_id = first.json()["id"], second.json()["id"]
    stop = await bare_client.post(f"/v1/persons/{first_id}/do-not-trace", headers=caseworker)
    assert stop.status_code == 200, stop.text
    for person_id in (first_id, second_id):
        erased = await bare_client.post(
            f"/v1/persons/{person_id}/erasure",
            json={"reason": "the person asked to be forgotten"},
            headers=people["dpo"].headers("data-protection"),
        )
        assert erased.status_code == 200, erased.text

    crashed = {"once": False}
    record_attempt = outbox_repository.record_attempt

    async def crash_once_after_acceptance(session, message, **outcome):
        if outcome["delivered"] and not crashed["once"]:
            crashed["once"] = True
            raise RuntimeError("the sender died before recording the delivery")
        await record_attempt(session, message, **outcome)

    monkeypatch.setattr(outbox_repository, "record_attempt", crash_once_after_acceptance)
    with pytest.raises(RuntimeError):
        await pump_until_quiet(runtime, settings)
    monkeypatch.setattr(outbox_repository, "record_attempt", record_attempt)
    await pump_until_quiet(runtime, settings)

    kept = processed(receiver, subscription["secret"])
    assert [
        (m["type"], m["data"]["person_id"]) for m in kept if m["data"]["person_id"] == first_id
    ] == [
        ("person.do_not_trace", first_id),
        ("person.erased", first_id),
    ]
    assert [m["type"] for m in kept if m["data"]["person_id"] == second_id] == ["person.erased"]
    assert len(kept) == 3, "each event processed once"
    ids = [verify(subscription["secret"], r.headers, r.body) for r in receiver.requests]
    assert len(ids) > len(set(ids)), "failures and the crash made the sender repeat ids"
    deliveries = await bare_client.get(
        f"/v1/webhook-subscriptions/{subscription['id']}/deliveries",
        headers=people["partner"].headers("exchange"),
    )
    items = deliveries.json()["items"]
    assert {item["status"] for item in items} == {"delivered"}
    assert any(item["attempts"] > 1 for item in items)


async def test_candidate_events_reach_a_subscription_that_wants_them(
    bare_client, people, receiver, runtime, settings
):
    receiver.failures = 0
    subscription = await subscribe(
        bare_client,
        people["partner"],
        f"http://127.0.0.1:{receiver.port}/hooks",
        events=["candidate.proposed"],
    )
    caseworker = people["caseworker"].headers()
    await bare_client.post(
        "/v1/tracing-requests",
        json=tracing_request(persons=[enquirer(), sought_person(**SOUGHT_MOTHER)]),
        headers=caseworker,
    )
    await bare_client.post(
        "/v1/registrations", json=registration(**REGISTERED_MOTHER), headers=caseworker
    )
    await worker.drain(runtime.sessions, runtime.tenant_session, Matcher(), 0.5)
    await pump_until_quiet(runtime, settings)
    (message,) = [json.loads(r.body) for r in receiver.requests]
    assert message["type"] == "candidate.proposed" and message["data"]["link_id"]
    assert len(message["data"]["person_ids"]) == 2
    assert set(message) == {"type", "timestamp", "data"}
    CandidateEvent.model_validate(message)  # as the OpenAPI document describes it
    assert verify(subscription["secret"], receiver.requests[0].headers, receiver.requests[0].body)


async def test_a_disabled_subscription_is_sent_nothing(
    bare_client, people, receiver, runtime, settings
):
    subscription = await subscribe(
        bare_client, people["partner"], f"http://127.0.0.1:{receiver.port}/hooks"
    )
    path = f"/v1/webhook-subscriptions/{subscription['id']}/disable"
    headers = people["partner"].headers("exchange")
    assert (await bare_client.post(path, headers=headers)).status_code == 200
    assert (await bare_client.post(path, headers=headers)).status_code == 409
    created = await bare_client.post(
        "/v1/registrations", json=registration(), headers=people["caseworker"].headers()
    )
    await bare_client.post(
        f"/v1/persons/{created.json()['id']}/do-not-trace", headers=people["caseworker"].headers()
    )
    await pump_until_quiet(runtime, settings)
    assert receiver.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.7/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://192.168.1.20/hooks",
        "https://[fc00::1]/hooks",
        "https://user:secret@partner.example/hooks",
        "ftp://partner.example/hooks",
        "https://2130706433/hooks",
    ],
)
async def test_an_endpoint_inside_the_network_is_refused(bare_client, people, url):
    response = await bare_client.post(
        "/v1/webhook-subscriptions",
        json={"url": url},
        headers=people["partner"].headers("exchange"),
    )
    assert response.status_code == 422, response.text


async def test_another_societys_subscription_is_invisible(bare_client, people, staff, receiver):
    subscription = await subscribe(
        bare_client, people["partner"], f"http://127.0.0.1:{receiver.port}/hooks"
    )
    colleague = await staff(("supervisor",))
    mine = await bare_client.get(
        f"/v1/webhook-subscriptions/{subscription['id']}", headers=colleague.headers()
    )
    assert mine.status_code == 200, "a subscription belongs to the society"
    assert "secret" not in mine.text or mine.json()["secret"] is None
    other = await staff(("partner",), society="elsewhere")
    for path in ("", "/deliveries"):
        response = await bare_client.get(
            f"/v1/webhook-subscriptions/{subscription['id']}{path}",
            headers=other.headers("exchange"),
        )
        assert response.status_code == 404
    listed = await bare_client.get("/v1/webhook-subscriptions", headers=other.headers("exchange"))
    assert listed.json()["items"] == []
    for role in ("caseworker", "reviewer", "auditor"):
        who = await staff((role,))
        refused = await bare_client.get("/v1/webhook-subscriptions", headers=who.headers())
        assert refused.status_code == 403


async def test_a_retried_subscription_with_its_key_is_not_a_second_one(
    bare_client, people, receiver
):
    """A lost response retried with the same `Idempotency-Key` gets the first subscription (and
    its secret) back, so no event is delivered twice under two ids."""
    headers = people["partner"].headers("exchange") | {"Idempotency-Key": "subscribe-1"}
    body = {"url": f"http://127.0.0.1:{receiver.port}/hooks"}
    first = await bare_client.post("/v1/webhook-subscriptions", json=body, headers=headers)
    again = await bare_client.post("/v1/webhook-subscriptions", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    listed = await bare_client.get("/v1/webhook-subscriptions", headers=headers)
    assert [item["id"] for item in listed.json()["items"]] == [first.json()["id"]]
    other = await bare_client.post(
        "/v1/webhook-subscriptions", json={"url": body["url"] + "/x"}, headers=headers
    )
    assert other.status_code == 422, "the same key with another body"
