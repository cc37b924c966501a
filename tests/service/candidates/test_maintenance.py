"""Re-matching open records without touching decided pairs, and the model's precision and
recall per probability band from reviewers' decisions."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from matching import Matcher
from service.candidates import worker
from service.candidates.calibration import NotEnoughDecisions, recalibrate, society_matcher
from service.candidates.maintenance import evaluate, rematch_society
from service.candidates.repository import Band
from tests.conftest import truncate_all
from tests.service.payloads import (
    REGISTERED_MOTHER,
    SOUGHT_MOTHER,
    enquirer,
    registration,
    sought_person,
    tracing_request,
)
from tests.service.test_cli import Done
from tests.service.test_cli import kintrace as run_kintrace


def test_precision_per_band_and_recall_above_it():
    bands = [Band(0.5, 0.8, 1, 3), Band(0.8, 0.95, 3, 1), Band(0.95, 1.0, 6, 0)]
    reports = evaluate(bands)
    assert [r.precision for r in reports] == [0.25, 0.75, 1.0]
    assert [r.recall_at_or_above for r in reports] == [1.0, 0.9, 0.6]
    assert evaluate([Band(0.5, 1.0, 0, 0)])[0].precision is None


async def test_rematch_queues_every_open_person_and_leaves_decisions_alone(
    client, runtime, staff, caseworker, connection
):
    reviewer = await staff(("reviewer",))
    body = tracing_request(persons=[enquirer(), sought_person(**SOUGHT_MOTHER)])
    await client.post("/v1/tracing-requests", json=body)
    await client.post("/v1/registrations", json=registration(**REGISTERED_MOTHER))
    await worker.drain(runtime.sessions, runtime.tenant_session, Matcher(), 0.5)
    queue = await client.get("/v1/candidate-links", headers=reviewer.headers("review"))
    link = queue.json()["items"][0]
    rejected = await client.post(
        f"/v1/candidate-links/{link['id']}/decisions",
        json={"decision": "reject", "reason": "different_person"},
        headers={**reviewer.headers("review"), "If-Match": f'"v{link["version"]}"'},
    )
    assert rejected.status_code == 200
    seen: list[int] = []
    queued = await rematch_society(runtime, caseworker.society_id, seen.append, batch=2)
    assert queued == 3
    assert seen == [2, 3]
    again = await rematch_society(runtime, caseworker.society_id)  # pending jobs are kept
    assert again == 3
    await connection.execute(text("RESET ROLE"))
    pending = "SELECT count(*) FROM match_job WHERE finished_at IS NULL"
    assert (await connection.execute(text(pending))).scalar() == 3
    done = await worker.drain(runtime.sessions, runtime.tenant_session, Matcher(), 0.5)
    assert done.jobs == 3
    await connection.execute(text("RESET ROLE"))
    status = (await connection.execute(text("SELECT status FROM candidate_link"))).scalar()
    assert status == "rejected"


async def test_the_commands_run(database_url, engine):
    """`rematch`, `model evaluate` and `model recalibrate` as commands, on one society."""

    def kintrace(*args: str) -> Done:
        return run_kintrace(*args, DATABASE_URL=database_url)

    try:
        assert kintrace("societies", "create", "cli", "--name", "CLI").returncode == 0
        for command, code, expected in (
            (["rematch"], 0, "queued for matching"),
            (["rematch", "--reindex", "--society", "cli"], 0, "queued for matching"),
            (["model", "evaluate", "--society", "cli"], 0, "[0.99, 1.00]"),
            (["model", "recalibrate", "--society", "cli"], 1, "at least 50 are needed"),
        ):
            done = kintrace(*command)
            assert done.returncode == code, done.stderr
            assert expected in done.stdout + done.stderr, command
    finally:
        await truncate_all(engine)


async def test_recalibration_is_a_new_version_for_new_scores_and_decided_links_keep_theirs(
    client, runtime, staff, caseworker, connection
):
    reviewer = await staff(("reviewer",))
    base = Matcher()
    async with runtime.tenant_session(caseworker.society_id) as session:
        with pytest.raises(NotEnoughDecisions):
            await recalibrate(session, caseworker.society_id, base, min_decisions=1)
    body = tracing_request(persons=[enquirer(), sought_person(**SOUGHT_MOTHER)])
    await client.post("/v1/tracing-requests", json=body)
    await client.post("/v1/registrations", json=registration(**REGISTERED_MOTHER))
    await worker.drain(runtime.sessions, runtime.tenant_session, base, 0.5)
    queue = await client.get("/v1/candidate-links", headers=reviewer.headers("review"))
    link = queue.json()["items"][0]
    assert link["model_version"] == base.model_version
    rejected = await client.post(
        f"/v1/candidate-links/{link['id']}/decisions",
        json={"decision": "reject", "reason": "different_person"},
        headers={**reviewer.headers("review"), "If-Match": f'"v{link["version"]}"'},
    )
    assert rejected.status_code == 200
    async with runtime.tenant_session(caseworker.society_id) as session:
        fitted = await recalibrate(session, caseworker.society_id, base, min_decisions=1)
        await session.commit()
    assert fitted.model_version == f"{base.model_version}+cal1"
    assert (fitted.confirmed, fitted.rejected) == (0, 1)
    assert fitted.loss_after < fitted.loss_before  # it explains the rejection better
    async with runtime.tenant_session(caseworker.society_id) as session:
        current = await society_matcher(session, base)
    assert current.model_version == fitted.model_version
    assert current.probability(20.0) < base.probability(20.0)

    second = tracing_request(persons=[enquirer(), sought_person(**SOUGHT_MOTHER)])
    await client.post("/v1/tracing-requests", json=second)
    await rematch_society(runtime, caseworker.society_id)
    await worker.drain(runtime.sessions, runtime.tenant_session, base, 0.5)
    await connection.execute(text("RESET ROLE"))
    rows = (
        await connection.execute(
            text("SELECT status, model_version FROM candidate_link ORDER BY created_at")
        )
    ).all()
    assert rows[0] == ("rejected", base.model_version)  # decided: keeps the version it had
    assert {row.model_version for row in rows[1:]} == {fitted.model_version}


async def test_rematch_with_reindex_computes_the_keys_again(
    client, runtime, caseworker, connection
):
    """Persons stored before a release that added a key kind get its keys from `--reindex`."""
    found = (await client.post("/v1/registrations", json=registration(**REGISTERED_MOTHER))).json()
    count = "SELECT count(*) FROM person_key WHERE person_id = :id AND kind = 'b'"
    await connection.execute(text("RESET ROLE"))
    assert (await connection.execute(text(count), {"id": found["id"]})).scalar() == 1
    await connection.execute(text("DELETE FROM person_key WHERE kind = 'b'"))
    await rematch_society(runtime, caseworker.society_id)
    await connection.execute(text("RESET ROLE"))
    assert (await connection.execute(text(count), {"id": found["id"]})).scalar() == 0
    assert await rematch_society(runtime, caseworker.society_id, reindex=True) == 1
    await connection.execute(text("RESET ROLE"))
    assert (await connection.execute(text(count), {"id": found["id"]})).scalar() == 1
