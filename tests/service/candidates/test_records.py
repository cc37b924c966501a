"""What matching across societies may compare and look up of a record (pure functions)."""

from __future__ import annotations

import datetime
import uuid

import pytest

from matching import FuzzyDate, PersonName, PersonRecord, lookup_keys
from service.candidates.records import granted_record
from service.candidates.service import probe_for
from service.db.models import SharingGrant

RECORD = PersonRecord(
    id="p",
    names=(PersonName(full="Fatma Hasan"),),
    sex="F",
    birth_date=FuzzyDate(year=1960, month=3, day=7),
    birth_place="Aleppo",
    nationality="SY",
    father_name="Hassan Mahmoud",
    mother_name="Amina",
    last_known_place="Idlib",
)
WITHHELD_BY_DEFAULT = {
    "sex",
    "birth_date",
    "birth_place",
    "nationality",
    "father_name",
    "mother_name",
    "last_known_place",
}


@pytest.mark.parametrize(
    ("fields", "kept"),
    [
        ({"names"}, set()),
        ({"names", "birth_date"}, {"birth_date"}),
        ({"names", "nationalities", "father_name"}, {"nationality", "father_name"}),
        ({"names", "notes", "languages", "tribe_clan"}, set()),
        (
            {"names", "sex", "birth_date", "birth_place", "nationalities", "father_name"}
            | {"mother_name", "last_known_place"},
            WITHHELD_BY_DEFAULT,
        ),
    ],
)
def test_only_granted_fields_are_compared(fields: set[str], kept: set[str]) -> None:
    shown = granted_record(RECORD, fields)
    assert shown is not None and shown.names == RECORD.names
    for name in WITHHELD_BY_DEFAULT:
        assert (getattr(shown, name) is not None) == (name in kept), name


def test_without_names_nothing_is_compared() -> None:
    assert granted_record(RECORD, {"sex", "birth_date", "father_name"}) is None


def grant(*fields: str) -> SharingGrant:
    return SharingGrant(
        society_id=uuid.uuid4(),
        recipient_society_id=uuid.uuid4(),
        record_kinds=["registration"],
        fields=list(fields),
        purpose="restoring_family_links",
        legal_basis="vital_interest",
        valid_until=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
        created_by="user:x",
    )


def test_a_probe_looks_up_no_key_of_what_a_grant_does_not_share() -> None:
    """Keys pair names with birth years (`@1960`), and years and fathers have keys of their own:
    a probe of a society that shares no birth date (in one of its grants) looks none of those
    up, so the unshared year does not decide who is found."""
    full = lookup_keys(RECORD)
    assert any(key.startswith("y:") or "@" in key for key in full)
    assert any(key.startswith("f:") for key in full)
    probing = probe_for(RECORD, [grant("names", "birth_date"), grant("names", "father_name")])
    assert probing is not None
    keys = lookup_keys(probing)
    assert keys and not [k for k in keys if k.startswith(("y:", "f:")) or "@" in k]
    both = probe_for(RECORD, [grant("names", "birth_date", "father_name")])
    assert both is not None and any("@" in key for key in lookup_keys(both))


def test_no_grant_of_names_no_probe() -> None:
    assert probe_for(RECORD, [grant("sex", "birth_date")]) is None
    assert probe_for(RECORD, []) is None
