"""Minimal views (domain rules 8 and 10): every response carrying a person has exactly the keys
the caller's roles may see (the matrix of `service/persons/views.py`, also in the README), and
a deceased registration exists only for roles that may learn of a death."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching import Matcher
from schemas.enums import StaffRole
from schemas.persons import PersonPublic
from service.auth.scopes import ROLE_SCOPES, Scope, scopes_of
from service.candidates import worker
from service.persons.views import field_matrix, withheld_fields
from tests.service.payloads import (
    REGISTERED_MOTHER,
    SOUGHT_MOTHER,
    enquirer,
    registration,
    sought_person,
    tracing_request,
)

ROOT = Path(__file__).resolve().parents[2]
READERS = [role for role in StaffRole if Scope.TRACING_READ in ROLE_SCOPES[role]]
GUARDED = {
    "current_place": {"text": "Gaziantep, Şahinbey", "country_code": "TR"},
    "contact": {"phone": "+90 342 000 0000"},
    "notes": "Scar on the left hand.",
}


def visible_keys(role: StaffRole) -> set[str]:
    return set(PersonPublic.model_fields) - withheld_fields(scopes_of([role.value]))


def test_the_readme_carries_the_current_field_matrix():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- field-matrix:start -->\n", "\n<!-- field-matrix:end -->"
    documented = readme.split(start, 1)[1].split(end, 1)[0]
    assert documented == field_matrix(), "run `uv run python -m service.persons.views`"


def test_whereabouts_and_contact_are_the_most_guarded():
    assert [role for role in READERS if "contact" in visible_keys(role)] == [
        StaffRole.CASEWORKER,
        StaffRole.SUPERVISOR,
        StaffRole.DATA_PROTECTION_OFFICER,
    ]
    assert visible_keys(StaffRole.PARTNER).isdisjoint(GUARDED)


@pytest.mark.parametrize("role", READERS, ids=lambda role: role.value)
async def test_every_person_response_has_exactly_the_keys_the_role_may_see(
    client, bare_client, staff, runtime, role
):
    request = await client.post(
        "/v1/tracing-requests",
        json=tracing_request(persons=[enquirer(), sought_person(**SOUGHT_MOTHER, **GUARDED)]),
    )
    found = await client.post(
        "/v1/registrations", json=registration(**REGISTERED_MOTHER, **GUARDED)
    )
    assert request.status_code == found.status_code == 201
    await worker.drain(runtime.sessions, runtime.tenant_session, Matcher(), 0.5)
    caller = await staff((role.value,))
    headers = caller.headers()
    expected = visible_keys(role)
    request_id, person_id = request.json()["id"], found.json()["id"]
    people = [
        (await bare_client.get(f"/v1/persons/{person_id}", headers=headers)).json(),
        *(await bare_client.get("/v1/registrations", headers=headers)).json()["items"],
        *(await bare_client.get(f"/v1/tracing-requests/{request_id}", headers=headers)).json()[
            "persons"
        ],
        *(
            await bare_client.get(f"/v1/tracing-requests/{request_id}/persons", headers=headers)
        ).json(),
        *[
            hit["person"]
            for hit in (
                await bare_client.post(
                    "/v1/search",
                    json={"name": "Fatma Hasan", "birth_date": "1960"},
                    headers=headers,
                )
            ).json()["hits"]
        ],
    ]
    if Scope.REVIEW in ROLE_SCOPES[role]:
        review = caller.headers("review")
        (link,) = (await bare_client.get("/v1/candidate-links", headers=review)).json()["items"]
        detail = (await bare_client.get(f"/v1/candidate-links/{link['id']}", headers=review)).json()
        people += [detail["left"], detail["right"]]
    assert len(people) >= 6
    for person in people:
        assert set(person) == expected, (role, set(person) ^ expected)


async def test_a_deceased_registration_exists_only_for_roles_that_may_learn_of_a_death(
    client, bare_client, staff
):
    dead = await client.post(
        "/v1/registrations", json=registration(**REGISTERED_MOTHER, registration_kind="deceased")
    )
    person_id = dead.json()["id"]
    partner = (await staff(("partner",))).headers()
    reviewer = (await staff(("reviewer",))).headers()
    assert (await bare_client.get(f"/v1/persons/{person_id}", headers=partner)).status_code == 404
    assert (await bare_client.get(f"/v1/persons/{person_id}", headers=reviewer)).status_code == 200
    for kind in ({}, {"kind": "deceased"}):
        listed = await bare_client.get("/v1/registrations", params=kind, headers=partner)
        assert person_id not in listed.text
    search = {"name": "Fatma Hasan", "birth_date": "1960"}
    hits = await bare_client.post("/v1/search", json=search, headers=partner)
    assert hits.status_code == 200 and person_id not in hits.text
    change = await bare_client.patch(
        f"/v1/persons/{person_id}",
        json={"notes": "x"},
        headers={**partner, "If-Match": '"v1"'},
    )
    assert change.status_code == 404
