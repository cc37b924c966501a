"""Wire models and table models agree on the fields they share."""

from __future__ import annotations

import dataclasses

from schemas.persons import NameParts, PersonFields, PersonPublic
from schemas.tracing import TracingRequestSummary
from service.db.models import Person, PersonName, TracingRequest
from service.persons.records import PersonalFields, PersonRecord


def test_personal_fields_exist_on_the_wire_the_record_and_the_table():
    wire = set(PersonFields.model_fields)
    record = {field.name for field in dataclasses.fields(PersonalFields)}
    table = set(Person.__table__.columns.keys())
    assert wire == record | {"legal_basis"}, "the legal basis is on the person, not personal"
    assert {"legal_basis"} | record <= table


def test_person_public_covers_the_stored_person():
    public = set(PersonPublic.model_fields)
    stored = {f.name for f in dataclasses.fields(PersonRecord)} - {"personal", "society_id"}
    assert stored | {f.name for f in dataclasses.fields(PersonalFields)} == public


def test_name_parts_map_to_name_columns():
    columns = set(PersonName.__table__.columns.keys())
    for part in NameParts.model_fields:
        assert f"{part}_name" in columns


def test_tracing_request_summary_covers_the_table():
    table = set(TracingRequest.__table__.columns.keys()) - {"society_id"}
    summary = set(TracingRequestSummary.model_fields) - {"society_code"}
    assert table == summary
