"""Encryption at rest (issue: consent and data protection, item 6): personal fields are sealed
under a data key per person or request, bound to owner and field; the database alone (every
row of every table, as a data dump holds it) shows no name, note, contact or place; the API
reads them back."""

from __future__ import annotations

import uuid

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
