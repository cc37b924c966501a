"""The feed of candidates and decisions: contiguous numbers in commit order, so a polling tool
neither misses nor repeats an event, also while transactions commit out of order."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid

from matching import Matcher
from service.candidates import repository, worker
from service.candidates.service import _link_values
from tests.conftest import http_client
from tests.service.payloads import (
    REGISTERED_MOTHER,
    SOUGHT_MOTHER,
    enquirer,
    registration,
    sought_person,
    tracing_request,
)


async def poll(client, headers, after: int) -> tuple[list[dict], int]:
    response = await client.get("/v1/events", params={"after": after}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["items"], body["next_after"]


async def test_proposal_and_decision_appear_once_in_order(client, runtime, staff):
    reviewer = await staff(("reviewer",))
    headers = reviewer.headers(None)
    body = tracing_request(persons=[enquirer(), sought_person(**SOUGHT_MOTHER)])
    await client.post("/v1/tracing-requests", json=body)
    await client.post("/v1/registrations", json=registration(**REGISTERED_MOTHER))
    await worker.drain(runtime.sessions, runtime.tenant_session, Matcher(), 0.5)
    events, after = await poll(client, headers, 0)
    assert [(e["seq"], e["type"]) for e in events] == [(1, "candidate.proposed")]
    link_id = events[0]["link_id"]
    link = await client.get(f"/v1/candidate-links/{link_id}", headers=reviewer.headers("review"))
    decided = await client.post(
        f"/v1/candidate-links/{link_id}/decisions",
        json={"decision": "reject", "reason": "different_person"},
        headers={**reviewer.headers("review"), "If-Match": link.headers["etag"]},
    )
    assert decided.status_code == 200, decided.text
    events, after = await poll(client, headers, after)
    assert [(e["seq"], e["type"]) for e in events] == [
        (2, "decision.recorded"),
        (3, "candidate.rejected"),
    ]
    assert events[0]["decision_id"] == decided.json()["decisions"][0]["id"]
    assert await poll(client, headers, after) == ([], 3)
    refused = await client.get("/v1/events", headers=(await staff()).headers(None))
    assert refused.status_code == 403


async def test_concurrent_writers_never_make_a_poller_miss_or_repeat(
    committing_app, committing_staff
):
    """Writers commit out of order (random pauses inside their transactions) while a reader
    polls: it sees every event exactly once, numbers 1..n without a gap."""
    runtime = committing_app.state.runtime
    caseworker = await committing_staff()
    reviewer = await committing_staff(("reviewer",))
    async with http_client(committing_app, caseworker.headers()) as client:
        ids = []
        for index in range(9):
            created = await client.post(
                "/v1/registrations", json=registration(names=[{"full_name": f"Person {index}"}])
            )
            ids.append(uuid.UUID(created.json()["id"]))
        pairs = [tuple(sorted(pair)) for pair in itertools.combinations(ids, 2)]
        society = caseworker.society_id

        async def write(left: uuid.UUID, right: uuid.UUID) -> None:
            async with runtime.tenant_session(society) as session:
                values = _link_values(
                    society, left, right, "duplicate_registration", 0.9, 20.0, {}, "test", "f"
                )
                await repository.save_links(session, [values])
                await asyncio.sleep(random.uniform(0, 0.05))
                await session.commit()

        seen: list[int] = []
        done = asyncio.Event()

        async def read() -> None:
            after = 0
            while True:
                finished = done.is_set()
                events, after = await poll(client, reviewer.headers(None), after)
                seen.extend(event["seq"] for event in events)
                if finished and not events:
                    return
                await asyncio.sleep(0.005)

        reader = asyncio.create_task(read())
        for start in range(0, len(pairs), 6):
            await asyncio.gather(*(write(left, right) for left, right in pairs[start : start + 6]))
        done.set()
        await reader
    assert seen == list(range(1, len(pairs) + 1))
