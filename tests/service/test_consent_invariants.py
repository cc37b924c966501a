"""A stateful test of the consent rules over the API: hypothesis draws sequences of matching,
confirmations, consents, refusals, withdrawals, requests not to be traced, erasures,
verifications, approvals and disclosure answers across roles, and after every step checks the
invariants that must never break (read from the database as its owner, not from the API's own
account of itself):

1. no whereabouts or contact field reaches the enquirer side without a standing (unwithdrawn)
   consent of the located person to disclosure to that enquirer naming that field;
2. a person whose consent to tracing is withdrawn, who asked not to be traced, or who was
   erased has no blocking keys, no proposed candidate link, and is never a search hit;
3. a minor's disclosure is never released without a verification record and the approvals of
   two different reviewers.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
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

FIELDS = ["current_place", "phone", "email", "postal_address"]
CONTACT = {"phone": "+90 342 000 0000", "email": "f@example.org", "postal_address": "Box 4"}
OBTAINED = {"obtained_how": "in_person_signed", "obtained_on": "2026-02-01"}

CONFIRM = st.tuples(st.just("confirm"), st.integers(0, 1))
GIVE_DISCLOSURE = st.tuples(
    st.just("consent_disclosure"),
    st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4, unique=True),
)
ANSWER = st.tuples(
    st.just("answer"), st.sampled_from(["consent", "consent", "refuse", "no_answer"])
)
APPROVE = st.tuples(st.just("approve"), st.integers(0, 1))


def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, drawn in proportion to its weight."""
    total = sum(weight for weight, _ in choices)

    def pick(number: int) -> st.SearchStrategy:
        for weight, strategy in choices:
            if number < weight:
                return strategy
            number -= weight
        raise AssertionError(number)

    return st.integers(0, total - 1).flatmap(pick)


# Weighted towards the steps that lead to a disclosure; the steps that end one (erasure, do
# not trace, withdrawals) stay rare enough for releases to happen first.
STEPS = weighted(
    (12, CONFIRM),
    (12, GIVE_DISCLOSURE),
    (12, ANSWER),
    (10, APPROVE),
    (6, st.just(("verify",))),
    (4, st.just(("match",))),
    (4, st.just(("consent_tracing",))),
    (3, st.tuples(st.just("withdraw"), st.sampled_from(["tracing", "disclosure"]))),
    (1, st.just(("do_not_trace",))),
    (1, st.just(("erase",))),
)


@dataclass
class Case:
    """One example's records and actors."""

    request_id: str
    enquirer_id: str
    found_id: str
    minor: bool
    consents: list[tuple[str, str]] = field(default_factory=list)  # (scope, id)


async def owner(connection, statement: str, **params):
    await connection.execute(text("RESET ROLE"))
    return (await connection.execute(text(statement), params)).all()


async def new_case(client, minor: bool) -> Case:
    dates = {"birth_date": {"text": str(datetime.date.today().year - 12)}} if minor else {}
    request = await client.post(
        "/v1/tracing-requests",
        json=tracing_request(persons=[enquirer(), sought_person(**{**SOUGHT_MOTHER, **dates})]),
    )
    found = await client.post(
        "/v1/registrations",
        json=registration(
            **{
                **REGISTERED_MOTHER,
                **dates,
                "contact": CONTACT,
                "current_place": {"text": "Gaziantep", "country_code": "TR"},
            }
        ),
    )
    assert request.status_code == found.status_code == 201
    return Case(request.json()["id"], request.json()["persons"][0]["id"], found.json()["id"], minor)


async def act(step: tuple, case: Case, actors: dict, runtime) -> None:
    """Carry out one step; refusals (403, 404, 409, 422) are part of the game."""
    client, reviewers, officer = actors["client"], actors["reviewers"], actors["officer"]
    giver = {"given_by": "guardian", "giver_name": "A. Guardian"} if case.minor else {}
    kind = step[0]
    if kind == "match":
        await worker.drain(runtime.sessions, runtime.tenant_session, Matcher(), 0.5)
    elif kind == "confirm":
        who = reviewers[step[1]]
        links = (await client.get("/v1/candidate-links", params={"status": "proposed"})).json()
        for link in links.get("items", []):
            if case.found_id in (link["left_person_id"], link["right_person_id"]):
                await client.post(
                    f"/v1/candidate-links/{link['id']}/decisions",
                    json={"decision": "confirm"},
                    headers={**who.headers("review"), "If-Match": f'"v{link["version"]}"'},
                )
    elif kind in ("consent_disclosure", "consent_tracing"):
        body = {"scope": "tracing", **OBTAINED, **giver}
        if kind == "consent_disclosure":
            body |= {"scope": "disclosure", "enquirer_id": case.enquirer_id, "fields": step[1]}
        made = await client.post(f"/v1/persons/{case.found_id}/consents", json=body)
        if made.status_code == 201:
            case.consents.append((body["scope"], made.json()["id"]))
    elif kind == "withdraw":
        for scope, consent_id in reversed(case.consents):
            if scope == step[1]:
                await client.post(
                    f"/v1/persons/{case.found_id}/consents/{consent_id}/withdrawal", json={}
                )
                break
    elif kind == "do_not_trace":
        await client.post(f"/v1/persons/{case.found_id}/do-not-trace")
    elif kind == "erase":
        await client.post(
            f"/v1/persons/{case.found_id}/erasure",
            json={"reason": "requested"},
            headers=officer.headers("data-protection"),
        )
    else:
        await disclosure_step(step, case, actors)


async def disclosure_step(step: tuple, case: Case, actors: dict) -> None:
    client, reviewers = actors["client"], actors["reviewers"]
    listed = (await client.get("/v1/disclosures")).json()["items"]
    mine = [d for d in listed if d["found_person_id"] == case.found_id]
    if not mine:
        return
    path = f"/v1/disclosures/{mine[0]['id']}"
    if step[0] == "answer":
        body: dict = {"answer": step[1]}
        if step[1] == "consent":
            disclosure_consents = [c for s, c in case.consents if s == "disclosure"]
            if not disclosure_consents:
                return
            body["consent_id"] = disclosure_consents[-1]
        await client.post(f"{path}/answer", json=body)
    elif step[0] == "verify":
        await client.post(
            f"{path}/verification", json={"method": "documents", "verified_on": "2026-02-02"}
        )
    elif step[0] == "approve":
        await client.post(f"{path}/approvals", headers=reviewers[step[1]].headers("review"))


async def check_invariants(case: Case, actors: dict, connection) -> None:
    client = actors["client"]
    view = await client.get(f"/v1/tracing-requests/{case.request_id}/enquirer-view")
    assert view.status_code == 200, view.text
    assert case.found_id not in view.text, "the located person's id reached the enquirer side"
    standing = await owner(
        connection,
        "SELECT fields FROM consent_record WHERE person_id = :p AND scope = 'disclosure' "
        "AND enquirer_id = :e AND withdrawn_at IS NULL",
        p=case.found_id,
        e=case.enquirer_id,
    )
    allowed = [set(row.fields) for row in standing]
    for item in view.json()["disclosures"]:
        released = item["released"]
        if released is None:
            continue
        shown = {"current_place"} if released["current_place"] else set()
        shown |= {key for key, value in (released["contact"] or {}).items() if value}
        assert any(shown <= fields for fields in allowed), (shown, allowed)
    disclosures = await owner(
        connection,
        "SELECT status, minor, verified_by, approved_by FROM disclosure WHERE found_person_id = :p",
        p=case.found_id,
    )
    for row in disclosures:
        event(f"disclosure {row.status}{' (minor)' if row.minor else ''}")
        if row.minor and row.status == "released":
            assert row.verified_by is not None and len(set(row.approved_by)) >= 2
    (person,) = await owner(
        connection,
        "SELECT (SELECT tracing_stopped FROM person WHERE id = :p) AS stopped, "
        "EXISTS (SELECT 1 FROM erasure_tombstone WHERE person_id = :p) AS erased",
        p=case.found_id,
    )
    if person.erased or person.stopped is not None:
        event("erased" if person.erased else f"tracing stopped: {person.stopped}")
        keys = await owner(
            connection, "SELECT count(*) AS n FROM person_key WHERE person_id = :p", p=case.found_id
        )
        assert keys[0].n == 0
        proposed = await owner(
            connection,
            "SELECT count(*) AS n FROM candidate_link WHERE status = 'proposed' "
            "AND :p IN (left_person_id::text, right_person_id::text)",
            p=case.found_id,
        )
        assert proposed[0].n == 0
        hits = await client.post("/v1/search", json={"name": "Fatma Hasan", "birth_date": "1960"})
        assert case.found_id not in hits.text


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(minor=st.booleans(), steps=st.lists(STEPS, min_size=8, max_size=20))
@example(
    minor=False,
    steps=[
        ("confirm", 0),
        ("consent_disclosure", ["phone"]),
        ("answer", "consent"),
        ("withdraw", "disclosure"),
        ("consent_tracing",),
        ("do_not_trace",),
    ],
)
@example(
    minor=True,
    steps=[
        ("confirm", 0),
        ("confirm", 1),
        ("consent_disclosure", ["current_place", "email"]),
        ("answer", "consent"),
        ("approve", 0),
        ("approve", 0),
        ("verify",),
        ("approve", 1),
        ("erase",),
    ],
)
async def test_consent_invariants_hold_in_any_sequence(
    minor, steps, bare_client, staff, runtime, connection
):
    supervisor = await staff(("supervisor",), society=f"s{uuid.uuid4().hex[:8]}")
    code = supervisor.society_code
    actors = {
        "client": bare_client,
        "reviewers": [await staff(("reviewer",), society=code) for _ in range(2)],
        "officer": await staff(("data_protection_officer",), society=code),
    }
    bare_client.headers.update(supervisor.headers())
    case = await new_case(bare_client, minor)
    await worker.drain(runtime.sessions, runtime.tenant_session, Matcher(), 0.5)
    for step in steps:
        await act(step, case, actors, runtime)
        await check_invariants(case, actors, connection)
