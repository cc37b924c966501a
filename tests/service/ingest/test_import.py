"""`kintrace import`: CSV and JSON Lines through the API's services, per-row reports, one audit
row per batch, and resuming a file where an interrupted run stopped."""

from __future__ import annotations

import dataclasses
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from schemas.persons import RegistrationCreate
from service.auth.scopes import scopes_of
from service.ingest import run
from service.ingest.formats import Parsed, count_items, read_items
from service.ingest.run import import_file
from service.persons import service as persons
from service.principal import Principal, PrincipalKind
from tests.conftest import truncate_all
from tests.service.payloads import registration
from tests.service.test_cli import Done
from tests.service.test_cli import kintrace as run_kintrace

HEADER = (
    "id,full_name,given_name,family_name,father_name,other_names,sex,birth_date,birth_place,nat"
    "ionality,record_type,request_ref,relationship_to_enquirer,registration_kind"
)
CSV = (
    HEADER
    + """
r1,Fatma Hasan,,,Hassan Mahmoud,فاطمة حسن,f,07/03/1960,Aleppo,SY,,,,safe_and_well
r2,,Yusuf,Haddad,,,m,1985,,,registration,,,found
e1,أحمد يوسف,,,,,m,1988-05-02,,,enquirer,REQ-1,,
s1,كريم يوسف,,,,,m,1992-11-20,,,sought_person,REQ-1,brother,
bad1,Someone,,,,,q,1990,,,,,,
bad2,Someone Else,,,,,,not a date,,,,,,
bad3,No Request,,,,,,,,,sought_person,,,
bad4,Unknown Kind,,,,,,,,,cousin,,,
"""
)


def jsonl_lines() -> list[str]:
    registration = {
        "type": "registration",
        "registration_kind": "found",
        "names": [{"full_name": "Ayan Warsame"}],
        "sex": "female",
    }
    request = {
        "type": "tracing_request",
        "persons": [
            {"role": "enquirer", "names": [{"full_name": "Hodan Warsame"}]},
            {
                "role": "sought_person",
                "names": [{"full_name": "Ayan Warsame"}],
                "relationship_to_enquirer": "sister",
            },
        ],
    }
    return [
        json.dumps(registration, ensure_ascii=False),
        json.dumps(request, ensure_ascii=False),
        "",
        json.dumps({"type": "registration", "names": []}),
        "[1, 2]",
        json.dumps({"type": "person"}),
        "{not json",
    ]


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "records.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


@pytest.fixture
def jsonl_file(tmp_path: Path) -> Path:
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(jsonl_lines()) + "\n", encoding="utf-8")
    return path


def test_csv_rows_become_items_and_bad_rows_are_reported(csv_file):
    parsed = read_items(csv_file)
    good = [p for p in parsed if p.item is not None]
    bad = {p.line: p.problem for p in parsed if p.item is None}
    # two registrations, one request with its two persons, and a registration whose date text
    # only the service can judge (it is refused at import, see below)
    assert len(good) == 4
    request = next(p.item for p in good if hasattr(p.item, "persons"))
    assert [person.role.value for person in request.persons] == ["enquirer", "sought_person"]
    assert sorted(bad) == [6, 8, 9]
    assert count_items(csv_file) == len(parsed)
    assert parsed[-1].item is request  # requests come last: complete only at the end of file
    assert "sex" in bad[6]
    assert "request_ref" in bad[8]
    assert "record_type" in bad[9]


def test_jsonl_lines_become_items_and_bad_lines_are_reported(jsonl_file):
    parsed = read_items(jsonl_file)
    assert [p.line for p in parsed if p.item is not None] == [1, 2]
    assert sorted(p.line for p in parsed if p.item is None) == [4, 5, 6, 7]
    assert count_items(jsonl_file) == len(parsed)


async def test_import_goes_through_the_services_with_one_audit_row_per_batch(
    runtime, caseworker, csv_file, connection
):
    report = await import_file(
        runtime, csv_file, caseworker.society_id, caseworker.society_code, batch_size=2
    )
    assert (report.total, report.imported, report.failed) == (7, 3, 4)
    assert len(report.problems) == 4
    await connection.execute(text("RESET ROLE"))
    persons = (await connection.execute(text("SELECT count(*) FROM person"))).scalar()
    keys = await connection.execute(text("SELECT count(DISTINCT person_id) FROM person_key"))
    jobs = (await connection.execute(text("SELECT count(*) FROM match_job"))).scalar()
    audits = (
        await connection.execute(
            text("SELECT count(*) FROM audit_event WHERE action = 'import.batch'")
        )
    ).scalar()
    assert persons == 4
    assert keys.scalar() == 4
    assert jobs == 4
    assert audits == 2  # the two registrations, then the request (last); the rest only rejected


async def test_an_interrupted_import_resumes_without_duplicates(
    runtime, caseworker, jsonl_file, connection
):
    first = await import_file(
        runtime,
        jsonl_file,
        caseworker.society_id,
        caseworker.society_code,
        batch_size=1,
        stop_after_batches=1,
    )
    assert first.imported == 1
    second = await import_file(
        runtime, jsonl_file, caseworker.society_id, caseworker.society_code, batch_size=1
    )
    assert second.skipped_already_done == 1
    assert (second.imported, second.failed) == (1, 4)
    await connection.execute(text("RESET ROLE"))
    persons = (await connection.execute(text("SELECT count(*) FROM person"))).scalar()
    assert persons == 3  # one registration, one request with two persons
    run = (
        await connection.execute(
            text("SELECT next_item, imported, failed, finished_at FROM import_run")
        )
    ).one()
    assert (run.next_item, run.imported, run.failed) == (6, 2, 4)
    assert run.finished_at is not None


async def test_the_import_command(database_url, engine, csv_file, tmp_path):
    def kintrace(*args: str) -> Done:
        return run_kintrace(*args, DATABASE_URL=database_url)

    try:
        assert kintrace("societies", "create", "imports", "--name", "Imports").returncode == 0
        report = tmp_path / "rejected.txt"
        done = kintrace("import", str(csv_file), "--society", "imports", "--report", str(report))
        assert done.returncode == 1, done.stderr
        assert "3 record(s) imported, 4 rejected of 7" in done.stdout
        assert report.read_text(encoding="utf-8").count("line ") == 4
        again = kintrace("import", str(csv_file), "--society", "imports")
        assert again.returncode == 0, again.stderr
        assert "0 record(s) imported, 0 rejected of 7, 7 done before" in again.stdout
        missing = kintrace("import", str(csv_file), "--society", "nowhere")
        assert missing.returncode == 2
    finally:
        await truncate_all(engine)


async def test_a_row_the_database_refuses_is_reported_and_the_rest_of_its_batch_kept(
    runtime, caseworker, connection
):
    """Registrations are stored a batch at a time; when the database refuses the batch, they
    are stored again one by one so that only the refused one is lost (and reported)."""
    roles = frozenset({"caseworker"})
    principal = Principal(
        "importer", PrincipalKind.USER, caseworker.society_id, "local", roles, scopes_of(roles)
    )
    good = [
        persons.new_registration(principal, RegistrationCreate.model_validate(registration()))
        for _ in range(3)
    ]
    # Validation cannot produce this (a registration needs a kind): the database's own check
    # stands in for any refusal the schemas do not foresee.
    refused = dataclasses.replace(good[1], registration_kind=None, id=uuid.uuid4())
    batch = [(Parsed(2, None), good[0]), (Parsed(3, None), refused), (Parsed(4, None), good[2])]
    problems: list[str] = []
    async with runtime.tenant_session(caseworker.society_id) as session:
        created = await run._store_registrations(session, batch, problems)
        await session.commit()
    assert created == [good[0].id, good[2].id]
    assert problems == ["line 3: refused by the database (CheckViolationError)"]
    await connection.execute(text("RESET ROLE"))
    stored = (await connection.execute(text("SELECT count(*) FROM person"))).scalar()
    assert stored == 2
