"""Sensitive persons (domain rule 7): anyone recording a case may raise the flag, only two
different supervisors together may lift it, and a sensitive person exists only for roles that
may see persons at risk."""

from __future__ import annotations

from tests.service.payloads import registration


async def flagged(client) -> dict:
    created = await client.post("/v1/registrations", json=registration(sensitive=True))
    assert created.status_code == 201, created.text
    return created.json()


async def test_a_sensitive_flag_is_not_cleared_by_an_update(client):
    person = await flagged(client)
    for value in (False, None):
        response = await client.patch(
            f"/v1/persons/{person['id']}",
            json={"sensitive": value},
            headers={"If-Match": f'"v{person["version"]}"'},
        )
        assert response.status_code == 409, response.text
        assert "sensitivity-lift" in response.json()["detail"]
    raised = (await client.post("/v1/registrations", json=registration())).json()
    flag = await client.patch(
        f"/v1/persons/{raised['id']}", json={"sensitive": True}, headers={"If-Match": '"v1"'}
    )
    assert flag.status_code == 200 and flag.json()["sensitive"] is True


async def test_two_different_supervisors_lift_the_flag(client, bare_client, staff):
    person = await flagged(client)
    path = f"/v1/persons/{person['id']}/sensitivity-lift"
    first, second = await staff(("supervisor",)), await staff(("supervisor",))
    caseworker = await client.post(path)
    assert caseworker.status_code == 403
    once = await bare_client.post(path, headers=first.headers())
    assert once.status_code == 200, once.text
    assert once.json()["lifted"] is False and len(once.json()["approved_by"]) == 1
    again = await bare_client.post(path, headers=first.headers())
    assert again.status_code == 409
    assert (await client.get(f"/v1/persons/{person['id']}")).json()["sensitive"] is True
    lifted = await bare_client.post(path, headers=second.headers())
    assert lifted.json()["lifted"] is True
    assert (await client.get(f"/v1/persons/{person['id']}")).json()["sensitive"] is False
    not_flagged = await bare_client.post(path, headers=first.headers())
    assert not_flagged.status_code == 409


async def test_a_new_flag_needs_two_new_approvals(client, bare_client, staff):
    person = await flagged(client)
    path = f"/v1/persons/{person['id']}/sensitivity-lift"
    first, second = await staff(("supervisor",)), await staff(("supervisor",))
    await bare_client.post(path, headers=first.headers())
    await bare_client.post(path, headers=second.headers())
    current = (await client.get(f"/v1/persons/{person['id']}")).json()
    await client.patch(
        f"/v1/persons/{person['id']}",
        json={"sensitive": True},
        headers={"If-Match": f'"v{current["version"]}"'},
    )
    once = await bare_client.post(path, headers=first.headers())
    assert once.json() == {
        "person_id": person["id"],
        "approved_by": once.json()["approved_by"],
        "lifted": False,
    }


async def test_partners_do_not_see_persons_at_risk(client, bare_client, staff):
    person = await flagged(client)
    partner = (await staff(("partner",))).headers()
    assert (
        await bare_client.get(f"/v1/persons/{person['id']}", headers=partner)
    ).status_code == 404
    listed = await bare_client.get("/v1/registrations", headers=partner)
    assert listed.status_code == 200 and person["id"] not in listed.text
