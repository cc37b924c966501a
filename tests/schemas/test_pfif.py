"""PFIF 1.4 import and export: safe parsing, per-record problems, round trips, mapping."""

from __future__ import annotations

import datetime
import time
import uuid
from pathlib import Path
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.enums import (
    Calendar,
    LegalBasis,
    NameKind,
    PersonRole,
    PersonStatus,
    RegistrationKind,
    Sex,
    TracingStop,
)
from schemas.persons import Contact, NameParts, NamePublic, PersonPublic, RegistrationCreate
from schemas.pfif import (
    NOTES_MAX_LENGTH,
    PFIF_NAMESPACE,
    PfifError,
    PfifNote,
    PfifPerson,
    PfifProblem,
    PfifStatus,
    age_range,
    parse_pfif,
    person_to_pfif,
    registration_kind,
    serialize_pfif,
    to_registration,
)
from schemas.values import FuzzyDatePublic, GregorianInterpretation, Place

UTC = datetime.UTC
T = datetime.datetime


def when(day: int, month: int = 1, year: int = 2024) -> datetime.datetime:
    return T(year, month, day, 12, 0, tzinfo=UTC)


def note(n: str, person: str, **fields: Any) -> PfifNote:
    return PfifNote(note_record_id=f"example.org/{n}", person_record_id=person, **fields)


def pfif(*records: str, namespace: str = PFIF_NAMESPACE) -> bytes:
    return f'<pfif xmlns="{namespace}">{"".join(records)}</pfif>'.encode()


def person_xml(record_id: str | None, *fields: str) -> str:
    id_element = f"<person_record_id>{record_id}</person_record_id>" if record_id else ""
    return f"<person>{id_element}{''.join(fields)}</person>"


# Round trips

P1 = "example.org/p1"
P2 = "kintrace.example/f47ac10b"
P3 = "example.org/p3"
P4 = "example.org/p4"

PERSONS = [
    PfifPerson(
        person_record_id=P1,
        entry_date=when(5),
        source_name="Aleppo hospital list",
        source_date=when(4),
        full_name="محمد أحمد الحسن",
        given_name="محمد",
        family_name="الحسن",
        alternate_names=("Mohamed Ahmed al-Hassan", "Muhammad al Hasan"),
        description="Scar on the left hand.\nSpeaks Arabic and Kurdish.",
        sex="male",
        date_of_birth="1990",
        home_city="Aleppo",
        home_country="SY",
        notes=(
            note("n1", P1, entry_date=when(6), status="believed_alive", text="Seen at the camp"),
            note("n2", P1, source_date=when(7), author_made_contact=False, text="Asked again"),
        ),
    ),
    PfifPerson(
        person_record_id=P2,
        full_name="Ольга Сергеевна Иванова",
        given_name="Ольга",
        family_name="Иванова",
        alternate_names=("Olga Ivanova",),
        sex="female",
        date_of_birth="1985-03",
        age="38-40",
        profile_urls=("https://example.org/olga", "https://example.net/o.ivanova"),
    ),
    PfifPerson(
        person_record_id=P3,
        full_name="ኃይለ ማርያም ተስፋዬ",
        alternate_names=("Hailemariam Tesfaye",),
        sex="other",
        date_of_birth="1975-11-02",
        home_street="Churchill Road 5",
        home_neighborhood="Piassa",
        home_state="Addis Ababa",
        home_postal_code="1000",
        photo_url="https://example.org/photo.jpg",
        expiry_date=when(1, year=2025),
        notes=(
            note(
                "n3",
                P3,
                linked_person_record_id="other.example/44",
                author_name="Red Cross volunteer",
                status="believed_dead",
                last_known_location="Mekelle",
                text="Reported by a neighbour",
                author_made_contact=True,
            ),
        ),
    ),
    PfifPerson(person_record_id=P4, full_name="A"),
]


def test_round_trip_of_persons_with_notes_and_names_in_several_scripts():
    assert parse_pfif(serialize_pfif(PERSONS)).persons == PERSONS


def test_a_serialised_file_has_no_problems_and_is_pfif_1_4():
    data = serialize_pfif(PERSONS)
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert f'xmlns="{PFIF_NAMESPACE}"'.encode() in data
    assert "محمد أحمد الحسن".encode() in data
    document = parse_pfif(data)
    assert (document.version, document.problems) == ("1.4", [])


PFIF_1_4_PERSON_ORDER = [
    "person_record_id",
    "entry_date",
    "expiry_date",
    "author_name",
    "source_name",
    "source_date",
    "source_url",
    "full_name",
    "given_name",
    "family_name",
    "alternate_names",
    "description",
    "sex",
    "date_of_birth",
    "age",
    "home_street",
    "home_neighborhood",
    "home_city",
    "home_state",
    "home_postal_code",
    "home_country",
    "photo_url",
    "profile_urls",
    "note",
]
PFIF_1_4_NOTE_ORDER = [
    "note_record_id",
    "person_record_id",
    "linked_person_record_id",
    "entry_date",
    "author_name",
    "source_date",
    "author_made_contact",
    "status",
    "last_known_location",
    "text",
]


def test_elements_are_written_in_pfif_1_4_order():
    import xml.etree.ElementTree as ET

    full = PfifPerson(
        person_record_id=P1,
        **{name: when(1) for name in ("entry_date", "expiry_date", "source_date")},
        **{
            name: "x"
            for name in PFIF_1_4_PERSON_ORDER
            if name.startswith(("home_", "author_", "source_n", "source_u", "photo"))
            or name in ("full_name", "given_name", "family_name", "description")
        },
        alternate_names=("y",),
        sex="female",
        date_of_birth="1990",
        age="30",
        profile_urls=("https://example.org/x",),
        notes=(
            note(
                "n1",
                P1,
                linked_person_record_id="example.org/p2",
                entry_date=when(1),
                author_name="x",
                source_date=when(1),
                author_made_contact=True,
                status="believed_alive",
                last_known_location="x",
                text="x",
            ),
        ),
    )
    root = ET.fromstring(serialize_pfif([full]))
    person = root[0]
    local = [child.tag.split("}")[1] for child in person]
    assert local == PFIF_1_4_PERSON_ORDER
    assert [child.tag.split("}")[1] for child in person[-1]] == PFIF_1_4_NOTE_ORDER


def test_values_are_normalised_on_construction_so_they_read_back_equal():
    person = PfifPerson(
        person_record_id=" example.org/p1 ",
        full_name="  Ana\r\nMaria  ",
        description="",
        alternate_names=["Ana", " ", "Anita\r"],  # type: ignore[arg-type]
        entry_date=T(
            2024, 1, 1, 14, 30, 15, 999_999, tzinfo=datetime.timezone(-datetime.timedelta(hours=2))
        ),
    )
    assert person.person_record_id == "example.org/p1"
    assert person.full_name == "Ana\nMaria"
    assert person.description is None
    assert person.alternate_names == ("Ana", "Anita")
    assert person.entry_date == T(2024, 1, 1, 16, 30, 15, tzinfo=UTC)
    assert parse_pfif(serialize_pfif([person])).persons == [person]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"person_record_id": ""}, "person_record_id is missing"),
        ({"person_record_id": "no-slash"}, "domain/local-id"),
        ({"sex": "f"}, "sex"),
        ({"date_of_birth": "1990-13"}, "date_of_birth"),
        ({"date_of_birth": "03/1990"}, "date_of_birth"),
        ({"age": "35-30"}, "age"),
        ({"age": "about 30"}, "age"),
        ({"full_name": "bell\x07"}, "control character"),
        ({"alternate_names": ("two\nlines",)}, "line break"),
        ({"entry_date": T(2024, 1, 1)}, "time zone"),
        ({"notes": (note("n1", "example.org/other"),)}, "not example.org/p1"),
        ({"notes": (note("n1", P1), note("n1", P1))}, "appears twice"),
    ],
)
def test_invalid_records_cannot_be_made(fields, message):
    with pytest.raises(PfifError, match=message):
        PfifPerson(**{"person_record_id": P1, **fields})


def test_serialising_two_persons_with_one_id_is_refused():
    with pytest.raises(PfifError, match="appears twice"):
        serialize_pfif([PERSONS[0], PERSONS[0]])


# Hostile and broken files

PASSWD = Path("/etc/passwd")
XXE = (
    '<?xml version="1.0"?><!DOCTYPE pfif [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    f'<pfif xmlns="{PFIF_NAMESPACE}"><person><person_record_id>example.org/1</person_record_id>'
    "<full_name>&e;</full_name></person></pfif>"
).encode()
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + f']><pfif xmlns="{PFIF_NAMESPACE}"><person><full_name>&lol9;</full_name></person></pfif>'
).encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (XXE, "DTD"),
        (LAUGHS, "DTD"),
        (b'<!DOCTYPE pfif SYSTEM "http://example.org/pfif.dtd"><pfif/>', "DTD"),
        (b"<!DOCTYPE pfif><pfif/>", "DTD"),
        (b'<pfif xmlns="http://zesty.ca/pfif/1.4"><person>', "not well-formed"),
        (b"<pfif><person></pfif>", "not well-formed"),
        (b"", "not well-formed"),
        (b"\xff\xfe not xml", "not well-formed"),
        (b'<pfif xmlns="http://zesty.ca/pfif/1.1"/>', "not a PFIF 1.2-1.4 file"),
        (b"<persons/>", "not a PFIF 1.2-1.4 file"),
    ],
)
def test_hostile_or_broken_files_are_refused(data, message):
    with pytest.raises(PfifError, match=message):
        parse_pfif(data)


def test_an_external_entity_never_reads_the_file():
    with pytest.raises(PfifError) as refused:
        parse_pfif(XXE)
    assert isinstance(refused.value, ValueError)
    secret = PASSWD.read_text().splitlines()[0] if PASSWD.exists() else "root:x:0:0"
    assert secret not in str(refused.value)
    assert refused.value.__cause__ is None


def test_billion_laughs_is_refused_before_any_expansion():
    started = time.perf_counter()
    with pytest.raises(PfifError):
        parse_pfif(LAUGHS)
    assert time.perf_counter() - started < 0.5


def test_too_large_a_file_is_refused():
    data = serialize_pfif(PERSONS)
    with pytest.raises(PfifError, match="larger than"):
        parse_pfif(data, max_bytes=len(data) - 1)
    assert len(parse_pfif(data, max_bytes=len(data)).persons) == len(PERSONS)


def test_too_many_persons_are_refused_as_a_whole():
    data = serialize_pfif(PERSONS)
    with pytest.raises(PfifError, match=f"more than {len(PERSONS) - 1} persons"):
        parse_pfif(data, max_persons=len(PERSONS) - 1)


# Per-record problems


def test_a_bad_person_among_good_ones_is_reported_and_the_rest_is_read():
    data = pfif(
        person_xml("example.org/good1", "<full_name>Good One</full_name>"),
        person_xml(None, "<full_name>No Id</full_name>", "<note><text>x</text></note>"),
        person_xml("example.org/good2", "<full_name>Good Two</full_name>"),
        person_xml("example.org/bad-date", "<entry_date>yesterday</entry_date>"),
        person_xml("example.org/good1", "<full_name>Again</full_name>"),
    )
    document = parse_pfif(data)
    assert [p.full_name for p in document.persons] == ["Good One", "Good Two"]
    assert [(p.position, p.record, p.record_id) for p in document.problems] == [
        (2, "person", None),
        (4, "person", "example.org/bad-date"),
        (5, "person", "example.org/good1"),
    ]
    assert "person_record_id is missing" in document.problems[0].reason
    assert "entry_date" in document.problems[1].reason
    assert "twice" in document.problems[2].reason


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ("<sex>unknown</sex>", "sex"),
        ("<date_of_birth>1990-02-30</date_of_birth>", "date_of_birth"),
        ("<age>-3</age>", "age"),
        ("<full_name>a</full_name><full_name>b</full_name>", "full_name is given twice"),
        ("<note><note_record_id>x</note_record_id></note>", "note x: note_record_id"),
        (
            "<note><note_record_id>example.org/n</note_record_id><status>found</status></note>",
            "note example.org/n: status",
        ),
        (
            "<note><note_record_id>example.org/n</note_record_id>"
            "<person_record_id>example.org/other</person_record_id></note>",
            "nested in a person it is not about",
        ),
    ],
)
def test_each_kind_of_bad_person_is_a_problem(fields, reason):
    document = parse_pfif(pfif(person_xml("example.org/p", fields), person_xml("example.org/ok")))
    assert [p.person_record_id for p in document.persons] == ["example.org/ok"]
    [problem] = document.problems
    assert (problem.position, problem.record_id) == (1, "example.org/p")
    assert reason in problem.reason


def test_top_level_notes_are_attached_to_their_person():
    data = pfif(
        "<note><note_record_id>example.org/early</note_record_id>"
        "<person_record_id>example.org/p</person_record_id><status>believed_alive</status></note>",
        person_xml(
            "example.org/p",
            "<note><note_record_id>example.org/nested</note_record_id><text>hi</text></note>",
        ),
        "<note><note_record_id>example.org/late</note_record_id>"
        "<person_record_id>example.org/p</person_record_id></note>",
    )
    document = parse_pfif(data)
    assert document.problems == []
    [person] = document.persons
    assert [n.note_record_id for n in person.notes] == [
        "example.org/nested",
        "example.org/early",
        "example.org/late",
    ]
    assert {n.person_record_id for n in person.notes} == {"example.org/p"}


def test_a_note_without_its_person_is_a_problem():
    data = pfif(
        person_xml("example.org/p"),
        "<note><note_record_id>example.org/n</note_record_id>"
        "<person_record_id>example.org/elsewhere</person_record_id></note>",
    )
    document = parse_pfif(data)
    assert len(document.persons) == 1
    assert document.problems == [
        PfifProblem(
            2,
            "note",
            "example.org/n",
            "its person example.org/elsewhere is not in the file (or was not read)",
        )
    ]


def test_a_bad_top_level_note_also_holds_back_its_person():
    data = pfif(
        person_xml("example.org/p", "<full_name>P</full_name>"),
        "<note><note_record_id>example.org/n</note_record_id>"
        "<person_record_id>example.org/p</person_record_id><status>dead</status></note>",
        person_xml("example.org/q"),
    )
    document = parse_pfif(data)
    assert [p.person_record_id for p in document.persons] == ["example.org/q"]
    assert [(p.position, p.record, p.record_id) for p in document.problems] == [
        (1, "person", "example.org/p"),
        (2, "note", "example.org/n"),
    ]


def test_older_versions_and_unknown_elements_are_read():
    data = pfif(
        person_xml(
            "example.org/p",
            "<first_name>Amina</first_name><last_name>Yusuf</last_name><other>tall</other>",
            "<unknown_field>ignored</unknown_field>",
            '<author_email>amina@example.org</author_email><x:full_name xmlns:x="urn:x">no'
            "</x:full_name>",
        ),
        "<comment_like>ignored</comment_like>",
        namespace="http://zesty.ca/pfif/1.3",
    )
    document = parse_pfif(data)
    assert document.version == "1.3"
    assert document.persons == [
        PfifPerson(
            person_record_id="example.org/p",
            given_name="Amina",
            family_name="Yusuf",
            description="tall",
        )
    ]


def test_values_are_read_leniently_where_pfif_producers_differ():
    data = pfif(
        person_xml(
            "example.org/p",
            "<entry_date>2024-01-02T03:04:05</entry_date>",
            "<source_date>2024-01-02T05:04:05.123+02:00</source_date>",
            "<sex>Female</sex>",
            "<alternate_names>\n  Amina \n\n Aminah\n</alternate_names>",
            "<note><note_record_id>example.org/n</note_record_id>"
            "<author_made_contact>TRUE</author_made_contact>"
            "<status>Believed_Alive</status></note>",
        )
    )
    [person] = parse_pfif(data).persons
    assert person.entry_date == person.source_date == T(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert person.sex == "female"
    assert person.alternate_names == ("Amina", "Aminah")
    assert person.notes[0].author_made_contact is True
    assert person.notes[0].status == "believed_alive"


# Mapping to a registration


def test_a_full_person_maps_to_a_valid_registration():
    registration = to_registration(PERSONS[0])
    assert isinstance(registration, RegistrationCreate)
    body = registration.model_dump(mode="json", exclude_unset=True)
    assert body["names"] == [
        {
            "kind": "primary",
            "full_name": "محمد أحمد الحسن",
            "parts": {"given": "محمد", "family": "الحسن"},
        },
        {"kind": "alias", "full_name": "Mohamed Ahmed al-Hassan"},
        {"kind": "alias", "full_name": "Muhammad al Hasan"},
    ]
    assert body["sex"] == "male"
    assert body["birth_date"] == {"text": "1990"}
    assert body["last_known_place"] == {"text": "Aleppo, SY", "country_code": "SY"}
    assert body["registration_kind"] == "safe_and_well"
    assert body["registration_source"] == "Aleppo hospital list"
    assert body["registration_date"] == "2024-01-04"
    assert body["notes"].splitlines() == [
        f"PFIF record {P1}",
        "Scar on the left hand.",
        "Speaks Arabic and Kurdish.",
        "- 2024-01-07: Asked again",
        "- 2024-01-06, believed_alive: Seen at the camp",
    ]
    assert RegistrationCreate.model_validate(body) == registration


def status_person(*statuses: tuple[PfifStatus | None, datetime.datetime | None]) -> PfifPerson:
    return PfifPerson(
        person_record_id=P1,
        full_name="X",
        notes=tuple(
            note(f"n{i}", P1, status=status, source_date=date)
            for i, (status, date) in enumerate(statuses)
        ),
    )


@pytest.mark.parametrize(
    ("statuses", "kind"),
    [
        ((), RegistrationKind.FOUND),
        (((None, when(1)),), RegistrationKind.FOUND),
        ((("believed_dead", when(1)),), RegistrationKind.DECEASED),
        ((("believed_alive", None),), RegistrationKind.SAFE_AND_WELL),
        ((("is_note_author", None),), RegistrationKind.SAFE_AND_WELL),
        ((("believed_dead", when(1)), ("believed_alive", when(2))), RegistrationKind.SAFE_AND_WELL),
        ((("believed_dead", when(2)), ("believed_alive", when(1))), RegistrationKind.DECEASED),
        ((("believed_dead", when(1)), (None, when(2))), RegistrationKind.DECEASED),
        ((("believed_missing", None), ("believed_dead", when(1))), RegistrationKind.DECEASED),
        ((("believed_alive", None), ("believed_dead", None)), RegistrationKind.DECEASED),
    ],
)
def test_the_latest_status_gives_the_registration_kind(statuses, kind):
    person = status_person(*statuses)
    assert registration_kind(person) is kind
    assert to_registration(person).registration_kind is kind


@pytest.mark.parametrize("status", ["information_sought", "believed_missing"])
def test_a_person_reported_missing_is_not_a_registration(status):
    person = status_person(("believed_alive", when(1)), (status, when(2)))
    with pytest.raises(PfifError, match=f"reported as {status}.*sought person"):
        to_registration(person)


def test_the_kind_without_a_status_can_be_chosen_by_the_caller():
    registration = to_registration(PERSONS[1], default_kind=RegistrationKind.HOSPITALISED)
    assert registration.registration_kind is RegistrationKind.HOSPITALISED


@pytest.mark.parametrize(
    ("fields", "birth_date", "age_in_notes"),
    [
        (
            {"age": "30", "source_date": when(2)},
            {"age": 30, "age_reference_date": "2024-01-02"},
            False,
        ),
        (
            {"age": "30-35", "entry_date": when(3)},
            {
                "age": 32,
                "age_reference_date": "2024-01-03",
                "approximate": True,
                "uncertainty_years": 3,
            },
            False,
        ),
        ({"age": "30"}, None, True),
        (
            {"age": "30", "date_of_birth": "1994-05", "source_date": when(2)},
            {"text": "1994-05"},
            True,
        ),
    ],
)
def test_an_age_becomes_an_age_at_the_source_date(fields, birth_date, age_in_notes):
    registration = to_registration(PfifPerson(person_record_id=P1, full_name="X", **fields))
    dumped = (
        registration.birth_date.model_dump(exclude_unset=True) if registration.birth_date else None
    )
    if dumped is not None and "age_reference_date" in dumped:
        dumped["age_reference_date"] = dumped["age_reference_date"].isoformat()
    assert dumped == birth_date
    assert (f"Age: {fields['age']}" in (registration.notes or "")) is age_in_notes


def test_an_age_range_covers_every_age_it_allows():
    for text in ("0", "30", "30-31", "30-35", "0-150"):
        low, high = age_range(text)
        registration = to_registration(
            PfifPerson(person_record_id=P1, full_name="X", age=text, source_date=when(1))
        )
        date = registration.birth_date
        assert date is not None and date.age is not None
        spread = date.uncertainty_years or 0
        assert date.age - spread <= low and high <= date.age + spread


@pytest.mark.parametrize(
    ("fields", "place"),
    [
        (
            {"home_city": "Aleppo", "home_country": "sy"},
            {"text": "Aleppo, sy", "country_code": "SY"},
        ),
        ({"home_city": "Aleppo", "home_country": "Syria"}, {"text": "Aleppo, Syria"}),
        ({"home_country": "UK"}, {"text": "UK"}),
        (
            {
                "home_street": "Main St 1",
                "home_neighborhood": "Old Town",
                "home_city": "Mosul",
                "home_state": "Nineveh",
                "home_postal_code": "41001",
                "home_country": "IQ",
            },
            {"text": "Main St 1, Old Town, Mosul, Nineveh, 41001, IQ", "country_code": "IQ"},
        ),
        (
            {
                "notes": (
                    note("n1", P1, source_date=when(2), last_known_location="Camp B"),
                    note("n2", P1, source_date=when(1), last_known_location="Camp A"),
                )
            },
            {"text": "Camp B"},
        ),
        ({}, None),
    ],
)
def test_the_home_address_or_the_latest_location_is_the_last_known_place(fields, place):
    registration = to_registration(PfifPerson(person_record_id=P1, full_name="X", **fields))
    got = registration.last_known_place
    assert (got.model_dump(exclude_none=True) if got else None) == place


def test_notes_are_cut_to_the_schema_limit_oldest_first():
    person = PfifPerson(
        person_record_id=P1,
        full_name="X",
        description="d" * 6_000,
        notes=(
            note("old", P1, source_date=when(1), text="o" * 6_000),
            note("new", P1, source_date=when(2), text="NEWEST"),
        ),
    )
    notes = to_registration(person).notes
    assert notes is not None and len(notes) == NOTES_MAX_LENGTH
    assert notes.startswith(f"PFIF record {P1}") and "NEWEST" in notes
    assert notes.endswith("o\u2026")


def test_the_notes_limit_is_the_schema_limit():
    body = {"registration_kind": "found", "notes": "x" * NOTES_MAX_LENGTH}
    RegistrationCreate.model_validate(body)
    with pytest.raises(ValidationError):
        RegistrationCreate.model_validate({**body, "notes": "x" * (NOTES_MAX_LENGTH + 1)})


def test_a_person_that_is_no_valid_registration_raises_with_the_fields():
    person = PfifPerson(
        person_record_id=P1,
        full_name="x" * 201,
        home_city="y" * 501,
        age="151",
        source_date=when(1),
    )
    with pytest.raises(PfifError) as refused:
        to_registration(person)
    for field in ("names.0.full_name", "last_known_place.text", "birth_date.age"):
        assert field in str(refused.value)


def test_a_person_with_only_alternate_names_gets_aliases_and_the_source_domain():
    registration = to_registration(
        PfifPerson(person_record_id=P2, alternate_names=("Olga", "Olya"))
    )
    assert [(n.kind, n.full_name) for n in registration.names] == [
        (NameKind.ALIAS, "Olga"),
        (NameKind.ALIAS, "Olya"),
    ]
    assert registration.registration_source == "kintrace.example"
    assert registration.sex is Sex.UNKNOWN


# Export of Kintrace persons

NOW = T(2024, 6, 1, 9, 30, 15, 123_000, tzinfo=UTC)


def fuzzy(
    text: str,
    year: int,
    month: int | None,
    day: int | None,
    approximate: bool = False,
    earliest: datetime.date | None = None,
    latest: datetime.date | None = None,
    calendar: Calendar = Calendar.GREGORIAN,
) -> FuzzyDatePublic:
    return FuzzyDatePublic(
        text=text,
        canonical=text,
        calendar=calendar,
        year=year,
        month=month,
        day=day,
        approximate=approximate,
        uncertainty_years=2 if approximate else 0,
        age=None,
        age_reference_date=None,
        gregorian=GregorianInterpretation(
            year=year if calendar is Calendar.GREGORIAN else 1990,
            month=month if calendar is Calendar.GREGORIAN else 3,
            day=day if calendar is Calendar.GREGORIAN else 12,
            approximate=approximate,
            uncertainty_years=2 if approximate else 0,
            earliest=earliest,
            latest=latest,
        ),
    )


def name(kind: NameKind, full_name: str | None, **parts: str) -> NamePublic:
    return NamePublic(
        id=uuid.uuid4(),
        kind=kind,
        full_name=full_name,
        script=None,
        parts=NameParts(**parts),
        created_at=NOW,
    )


def public_person(**fields: Any) -> PersonPublic:
    defaults: dict[str, Any] = {
        "id": uuid.UUID("f47ac10b-58cc-4372-a567-0e02b2c3d479"),
        "tracing_request_id": None,
        "role": PersonRole.REGISTRATION,
        "status": PersonStatus.ACTIVE,
        "registration_kind": RegistrationKind.FOUND,
        "registration_source": "Mekelle hospital",
        "registration_date": datetime.date(2024, 5, 30),
        "names": [
            name(NameKind.MAIDEN, "ሳባ ገብሩ"),
            name(NameKind.PRIMARY, "ሳባ ተስፋዬ ገብረ", given="ሳባ", father="ተስፋዬ", family="ገብረ"),
            name(NameKind.ALIAS, None, given="Saba", family="Gebre"),
        ],
        "sex": Sex.FEMALE,
        "birth_date": fuzzy("1990-03-12", 1990, 3, 12),
        "birth_place": Place(text="Adigrat"),
        "nationalities": ["ET"],
        "languages": ["ti"],
        "father_name": "ተስፋዬ",
        "mother_name": "Secret Mother",
        "tribe_clan": "Secret Clan",
        "last_known_place": Place(text="Mekelle", country_code="ET"),
        "last_known_date": None,
        "notes": "Caseworker note: secret",
        "current_place": Place(text="Secret shelter"),
        "contact": Contact(phone="+251 91 123 4567", email="saba@example.org"),
        "legal_basis": LegalBasis.VITAL_INTEREST,
        "sensitive": False,
        "tracing_stopped": None,
        "tracing_stopped_at": None,
        "closed_at": None,
        "close_reason": None,
        "version": 3,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return PersonPublic(**{**defaults, **fields})


def test_a_kintrace_person_is_exported_with_its_status_note():
    exported = person_to_pfif("kintrace.example", public_person())
    record_id = "kintrace.example/f47ac10b-58cc-4372-a567-0e02b2c3d479"
    assert exported == PfifPerson(
        person_record_id=record_id,
        entry_date=T(2024, 6, 1, 9, 30, 15, tzinfo=UTC),
        source_name="Mekelle hospital",
        source_date=T(2024, 5, 30, tzinfo=UTC),
        full_name="ሳባ ተስፋዬ ገብረ",
        given_name="ሳባ",
        family_name="ገብረ",
        alternate_names=("ሳባ ገብሩ", "Saba Gebre"),
        sex="female",
        date_of_birth="1990-03-12",
        notes=(
            PfifNote(
                note_record_id="kintrace.example/note.f47ac10b-58cc-4372-a567-0e02b2c3d479.3",
                person_record_id=record_id,
                entry_date=T(2024, 6, 1, 9, 30, 15, tzinfo=UTC),
                source_date=T(2024, 6, 1, 9, 30, 15, tzinfo=UTC),
                status="believed_alive",
                last_known_location="Mekelle (ET)",
            ),
        ),
    )


def test_an_export_never_carries_contact_whereabouts_notes_or_family_details():
    data = serialize_pfif([person_to_pfif("kintrace.example", public_person())])
    for secret in ("251", "saba@", "Secret", "Adigrat", "ተስፋዬ</"):
        assert secret.encode() not in data


def test_an_export_then_import_keeps_names_sex_and_birth_date():
    source = public_person()
    registration = to_registration(
        parse_pfif(serialize_pfif([person_to_pfif("k.example", source)])).persons[0]
    )
    assert [(n.kind, n.full_name) for n in registration.names] == [
        (NameKind.PRIMARY, "ሳባ ተስፋዬ ገብረ"),
        (NameKind.ALIAS, "ሳባ ገብሩ"),
        (NameKind.ALIAS, "Saba Gebre"),
    ]
    assert registration.names[0].parts == NameParts(given="ሳባ", family="ገብረ")
    assert registration.sex is Sex.FEMALE
    assert registration.birth_date is not None and registration.birth_date.text == "1990-03-12"
    assert registration.registration_kind is RegistrationKind.SAFE_AND_WELL
    assert registration.last_known_place == Place(text="Mekelle (ET)")


@pytest.mark.parametrize(
    ("kind", "role", "status"),
    [
        (RegistrationKind.DECEASED, PersonRole.REGISTRATION, "believed_dead"),
        (RegistrationKind.DETAINED, PersonRole.REGISTRATION, "believed_alive"),
        (RegistrationKind.HOSPITALISED, PersonRole.REGISTRATION, "believed_alive"),
        (RegistrationKind.SAFE_AND_WELL, PersonRole.REGISTRATION, "believed_alive"),
        (None, PersonRole.SOUGHT_PERSON, "information_sought"),
    ],
)
def test_the_registration_kind_becomes_a_note_status(kind, role, status):
    exported = person_to_pfif("k.example", public_person(registration_kind=kind, role=role))
    assert [n.status for n in exported.notes] == [status]
    assert b"detained" not in serialize_pfif([exported])


@pytest.mark.parametrize(
    ("birth_date", "date_of_birth", "age"),
    [
        (fuzzy("1990-03", 1990, 3, None), "1990-03", None),
        (fuzzy("hijri:1410-08-15", 1410, 8, 15, calendar=Calendar.HIJRI), "1990-03-12", None),
        (
            fuzzy(
                "ca. 1985",
                1985,
                None,
                None,
                True,
                datetime.date(1983, 1, 1),
                datetime.date(1987, 12, 31),
            ),
            None,
            "36-41",
        ),
        (None, None, None),
    ],
)
def test_uncertain_birth_dates_are_exported_as_age_ranges(birth_date, date_of_birth, age):
    exported = person_to_pfif("k.example", public_person(birth_date=birth_date))
    assert (exported.date_of_birth, exported.age) == (date_of_birth, age)


def test_withheld_fields_are_not_exported():
    person = public_person().withholding(
        frozenset({"birth_date", "last_known_place", "registration_source", "names"})
    )
    exported = person_to_pfif("k.example", person)
    assert exported.date_of_birth is exported.source_name is exported.full_name is None
    assert exported.alternate_names == ()
    assert [n.last_known_location for n in exported.notes] == [None]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": PersonRole.ENQUIRER, "registration_kind": None}, "enquirer"),
        ({"tracing_stopped": TracingStop.DO_NOT_TRACE, "tracing_stopped_at": NOW}, "stopped"),
        ({"sensitive": True}, "sensitive"),
    ],
)
def test_persons_who_must_not_leave_are_refused(fields, message):
    with pytest.raises(PfifError, match=message):
        person_to_pfif("k.example", public_person(**fields))


# Property: any valid persons survive a round trip

XML_TEXT = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Cn"), include_characters="\n\t\r"),
    max_size=12,
)
ONE_LINE = XML_TEXT.map(lambda text: " ".join(text.split()))
TIMES = st.none() | st.datetimes(timezones=st.just(UTC))


@st.composite
def dates_of_birth(draw: st.DrawFn) -> str:
    day = draw(st.dates())
    return day.isoformat()[: draw(st.sampled_from([4, 7, 10]))]


@st.composite
def ages(draw: st.DrawFn) -> str:
    low = draw(st.integers(0, 120))
    high = draw(st.none() | st.integers(low, 130))
    return str(low) if high is None else f"{low}-{high}"


@st.composite
def pfif_persons(draw: st.DrawFn, index: int) -> PfifPerson:
    record_id = f"example.org/p{index}"
    optional = st.none() | XML_TEXT
    notes = tuple(
        PfifNote(
            note_record_id=f"example.org/p{index}.n{n}",
            person_record_id=record_id,
            linked_person_record_id=draw(st.none() | st.just("other.example/x")),
            entry_date=draw(TIMES),
            author_name=draw(optional),
            source_date=draw(TIMES),
            author_made_contact=draw(st.none() | st.booleans()),
            status=draw(st.none() | st.sampled_from(get_args(PfifStatus))),
            last_known_location=draw(optional),
            text=draw(optional),
        )
        for n in range(draw(st.integers(0, 3)))
    )
    return PfifPerson(
        person_record_id=record_id,
        entry_date=draw(TIMES),
        expiry_date=draw(TIMES),
        author_name=draw(optional),
        source_name=draw(optional),
        source_date=draw(TIMES),
        full_name=draw(optional),
        given_name=draw(optional),
        family_name=draw(optional),
        alternate_names=tuple(draw(st.lists(ONE_LINE, max_size=3))),
        description=draw(optional),
        sex=draw(st.none() | st.sampled_from(["female", "male", "other"])),
        date_of_birth=draw(st.none() | dates_of_birth()),
        age=draw(st.none() | ages()),
        home_city=draw(optional),
        home_country=draw(optional),
        profile_urls=tuple(draw(st.lists(ONE_LINE, max_size=2))),
        notes=notes,
    )


@st.composite
def pfif_files(draw: st.DrawFn) -> list[PfifPerson]:
    return [draw(pfif_persons(index)) for index in range(draw(st.integers(0, 3)))]


@settings(max_examples=50, deadline=None)
@given(pfif_files())
def test_any_valid_persons_survive_a_round_trip(persons):
    document = parse_pfif(serialize_pfif(persons))
    assert document.problems == []
    assert document.persons == persons
