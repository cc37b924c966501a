"""The synthetic demo data set: deterministic, complete, valid and realistic enough to demo."""

from __future__ import annotations

import collections
import datetime
import re
import unicodedata
from collections.abc import Iterator

import pytest

from schemas.enums import NameKind, PersonRole, RegistrationKind, Relationship, Sex
from schemas.persons import NameCreate, PersonFields, RegistrationCreate, RequestPersonCreate
from schemas.values import FuzzyDateIn
from service.demo import names as N
from service.demo.generator import REFERENCE_DATE, DemoSociety, generate_demo

SOCIETIES = {"local", "drk", "crl", "sarc", "ercs", "arcs"}


@pytest.fixture(scope="module")
def demo() -> list[DemoSociety]:
    return generate_demo()


def request_persons(demo: list[DemoSociety]) -> Iterator[RequestPersonCreate]:
    for society in demo:
        for request in society.requests:
            yield from request.persons


def all_persons(demo: list[DemoSociety]) -> Iterator[PersonFields]:
    yield from request_persons(demo)
    for society in demo:
        yield from society.registrations


def all_names(demo: list[DemoSociety]) -> Iterator[NameCreate]:
    for person in all_persons(demo):
        assert isinstance(person, RequestPersonCreate | RegistrationCreate)
        yield from person.names


def dump(demo: list[DemoSociety]) -> list[dict[str, object]]:
    return [
        {
            "code": s.code,
            "name": s.name,
            "requests": [r.model_dump(mode="json") for r in s.requests],
            "registrations": [r.model_dump(mode="json") for r in s.registrations],
        }
        for s in demo
    ]


# --- determinism and totals -------------------------------------------------------------------


def test_the_same_seed_gives_the_same_data(demo: list[DemoSociety]) -> None:
    assert dump(generate_demo(2026)) == dump(demo)


def test_another_seed_gives_other_data() -> None:
    one = generate_demo(1, requests_total=40, registrations_total=40)
    two = generate_demo(2, requests_total=40, registrations_total=40)
    assert dump(one) != dump(two)


@pytest.mark.parametrize(("requests", "registrations"), [(0, 0), (7, 3), (61, 90), (50, 20)])
def test_totals_match_the_arguments(requests: int, registrations: int) -> None:
    demo = generate_demo(5, requests_total=requests, registrations_total=registrations)
    assert sum(len(s.requests) for s in demo) == requests
    assert sum(len(s.registrations) for s in demo) == registrations


def test_default_totals(demo: list[DemoSociety]) -> None:
    assert sum(len(s.requests) for s in demo) == 300
    assert sum(len(s.registrations) for s in demo) == 400


def test_negative_totals_are_refused() -> None:
    with pytest.raises(ValueError):
        generate_demo(requests_total=-1)


# --- societies and requests -------------------------------------------------------------------


def test_every_society_has_requests_and_registrations(demo: list[DemoSociety]) -> None:
    assert {s.code for s in demo} == SOCIETIES
    for society in demo:
        assert society.requests, society.code
        assert society.registrations, society.code
        assert society.name
    shares = {s.code: len(s.requests) for s in demo}
    assert shares["local"] == max(shares.values())  # the dev server's default society


def test_each_request_has_one_enquirer_and_sought_persons(demo: list[DemoSociety]) -> None:
    for society in demo:
        for request in society.requests:
            roles = collections.Counter(p.role for p in request.persons)
            assert roles[PersonRole.ENQUIRER] == 1
            assert 1 <= roles[PersonRole.SOUGHT_PERSON] <= 3
            for person in request.persons:
                assert person.names
                if person.role is PersonRole.SOUGHT_PERSON:
                    assert person.relationship_to_enquirer is not None
            assert request.circumstances
            assert request.separation_place is not None
            assert request.separation_date is not None and request.separation_date.text
            assert request.opened_on is not None and request.opened_on <= REFERENCE_DATE


FEMALE = {
    Relationship.MOTHER,
    Relationship.SISTER,
    Relationship.DAUGHTER,
    Relationship.HALF_SISTER,
    Relationship.GRANDMOTHER,
    Relationship.GRANDDAUGHTER,
    Relationship.AUNT,
    Relationship.NIECE,
}
MALE = {
    Relationship.FATHER,
    Relationship.BROTHER,
    Relationship.SON,
    Relationship.HALF_BROTHER,
    Relationship.GRANDFATHER,
    Relationship.GRANDSON,
    Relationship.UNCLE,
    Relationship.NEPHEW,
}


def test_relationships_agree_with_sex(demo: list[DemoSociety]) -> None:
    seen = set()
    for person in request_persons(demo):
        rel = person.relationship_to_enquirer
        if rel in FEMALE:
            assert person.sex is Sex.FEMALE
        if rel in MALE:
            assert person.sex is Sex.MALE
        seen.add(rel)
    assert {Relationship.MOTHER, Relationship.BROTHER, Relationship.SPOUSE} <= seen


def test_reference_numbers_are_unique_per_society(demo: list[DemoSociety]) -> None:
    for society in demo:
        numbers = [r.reference_number for r in society.requests]
        assert len(set(numbers)) == len(numbers)
        for request in society.requests:
            assert request.reference_number is not None and request.opened_on is not None
            pattern = rf"{society.code.upper()}-{request.opened_on.year}-\d{{6}}"
            assert re.fullmatch(pattern, request.reference_number)


# --- names and scripts ------------------------------------------------------------------------

PERSIAN_LETTERS = set("پچژگکی")
PASHTO_LETTERS = set("ټډړښږځڅګۍ")


def test_all_scripts_appear(demo: list[DemoSociety]) -> None:
    scripts = collections.Counter(n.script for n in all_names(demo))
    assert {"Arab", "Cyrl", "Ethi", "Latn"} <= set(scripts)
    arabic_script = "".join(n.full_name or "" for n in all_names(demo) if n.script == "Arab")
    assert PERSIAN_LETTERS & set(arabic_script)
    assert PASHTO_LETTERS & set(arabic_script)


def test_names_come_in_several_kinds(demo: list[DemoSociety]) -> None:
    kinds = collections.Counter(n.kind for n in all_names(demo))
    assert set(kinds) == {NameKind.PRIMARY, NameKind.ALIAS, NameKind.NICKNAME, NameKind.MAIDEN}
    parts = [n.parts for n in all_names(demo) if n.parts is not None]
    assert any(p.grandfather for p in parts) and any(p.father for p in parts)
    assert any(p.other for p in parts)  # patronymics
    assert any(p.family for p in parts)


def test_single_names_and_clans_appear(demo: list[DemoSociety]) -> None:
    primaries = [n for n in all_names(demo) if n.kind is NameKind.PRIMARY and n.full_name]
    assert any(" " not in (n.full_name or "") for n in primaries)  # Afghan single names
    assert any(p.tribe_clan for p in all_persons(demo))


@pytest.mark.parametrize(
    ("table", "minimum", "script"),
    [
        (N.ARABIC_MALE, 40, "ARABIC"),
        (N.ARABIC_FEMALE, 40, "ARABIC"),
        (N.ARABIC_FAMILY, 40, "ARABIC"),
        (N.IRAQI_TRIBAL, 20, "ARABIC"),
        (N.SUDANESE_MALE, 20, "ARABIC"),
        (N.PERSIAN_MALE, 40, "ARABIC"),
        (N.PERSIAN_FEMALE, 40, "ARABIC"),
        (N.IRANIAN_FAMILY, 30, "ARABIC"),
        (N.AFGHAN_DARI_FAMILY, 30, "ARABIC"),
        (N.PASHTO_MALE, 40, "ARABIC"),
        (N.PASHTO_FEMALE, 30, "ARABIC"),
        (N.PASHTO_TRIBES, 25, "ARABIC"),
        (N.RUSSIAN_MALE, 40, "CYRILLIC"),
        (N.RUSSIAN_FEMALE, 35, "CYRILLIC"),
        (N.RUSSIAN_FAMILY, 40, "CYRILLIC"),
        (N.UKRAINIAN_MALE, 40, "CYRILLIC"),
        (N.UKRAINIAN_FEMALE, 30, "CYRILLIC"),
        (N.UKRAINIAN_FAMILY, 40, "CYRILLIC"),
        (N.GEEZ_MALE, 40, "ETHIOPIC"),
        (N.GEEZ_FEMALE, 40, "ETHIOPIC"),
        (N.SOMALI_MALE, 40, "LATIN"),
        (N.SOMALI_FEMALE, 35, "LATIN"),
    ],
)
def test_name_tables(table: tuple[tuple[str, ...], ...], minimum: int, script: str) -> None:
    assert len(table) >= minimum
    natives = [entry[0] for entry in table]
    assert len(set(natives)) == len(natives)
    for entry in table:
        assert len(entry) >= 2, entry
        letters = [c for c in entry[0] if c.isalpha()]
        assert all(unicodedata.name(c).startswith(script) for c in letters), entry
        for romanised in entry[1:]:
            assert all(c.isascii() or unicodedata.name(c).startswith("LATIN") for c in romanised)
            assert romanised[0].isupper() or romanised.startswith(("al-", "el-")), entry


# --- dates ------------------------------------------------------------------------------------

FORMS = {
    "year": r"\d{4}",
    "year-month": r"\d{4}-\d{2}",
    "date": r"\d{4}-\d{2}-\d{2}",
    "day-first": r"\d{2}/\d{2}/\d{4}",
    "approximate": r"ca\. \d{4}",
    "age": r"about \d{1,3} years old in \d{4}",
    "hijri": r"hijri:(\d{4})(?:-(\d{2})-(\d{2}))?",
    "solar-hijri": r"solar-hijri:(\d{4})(?:-(\d{2})-(\d{2}))?",
    "ethiopian": r"ethiopian:(\d{4})(?:-(\d{2})-(\d{2}))?",
}


def date_form(date: FuzzyDateIn) -> str:
    assert date.text is not None and not date.model_fields_set - {"text"}
    for form, pattern in FORMS.items():
        if match := re.fullmatch(pattern, date.text):
            if match.groups() and match[2] is not None:
                assert calendar_day_exists(form, int(match[1]), int(match[2]), int(match[3]))
            return form
    raise AssertionError(f"unexpected date text {date.text!r}")


def calendar_day_exists(calendar: str, year: int, month: int, day: int) -> bool:
    if calendar == "ethiopian":
        if month == 13:
            return 1 <= day <= (6 if year % 4 == 3 else 5)
        return 1 <= month <= 12 and 1 <= day <= 30
    if calendar == "hijri":
        return 1 <= month <= 12 and 1 <= day <= 29
    length = 31 if month <= 6 else 30 if month <= 11 else 29
    return 1 <= month <= 12 and 1 <= day <= length


def test_birth_dates_come_in_every_form(demo: list[DemoSociety]) -> None:
    forms: collections.Counter[str] = collections.Counter()
    missing = 0
    for person in all_persons(demo):
        if person.birth_date is None:
            missing += 1
        else:
            forms[date_form(person.birth_date)] += 1
        if person.last_known_date is not None:
            date_form(person.last_known_date)
    assert set(forms) == set(FORMS)
    assert missing > 0


def test_calendar_dates_belong_to_their_cultures(demo: list[DemoSociety]) -> None:
    for person in all_persons(demo):
        text = person.birth_date.text if person.birth_date else None
        if text is None or ":" not in text:
            continue
        assert person.nationalities in (
            [],
            *(
                [[c] for c in ("SY", "IQ", "SD")]
                if text.startswith("hijri")
                else [[c] for c in ("AF", "IR")]
                if text.startswith("solar")
                else [[c] for c in ("ET", "ER")]
            ),
        )


def test_separation_dates_are_fuzzy_texts(demo: list[DemoSociety]) -> None:
    for society in demo:
        for request in society.requests:
            assert request.separation_date is not None
            date_form(request.separation_date)


def test_dates_do_not_depend_on_today(demo: list[DemoSociety]) -> None:
    assert REFERENCE_DATE == datetime.date(2026, 3, 1)
    for society in demo:
        for registration in society.registrations:
            assert registration.registration_date is not None
            assert registration.registration_date <= REFERENCE_DATE


def test_the_matching_engine_reads_every_date(demo: list[DemoSociety]) -> None:
    dates = pytest.importorskip("matching.dates")
    texts = {p.birth_date.text for p in all_persons(demo) if p.birth_date is not None}
    texts |= {r.separation_date.text for s in demo for r in s.requests if r.separation_date}
    for text in sorted(t for t in texts if t is not None):
        dates.parse_fuzzy_date(text)


# --- registrations and planted matches -------------------------------------------------------


def test_registrations_cover_every_kind_with_few_deaths(demo: list[DemoSociety]) -> None:
    registrations = [r for s in demo for r in s.registrations]
    kinds = collections.Counter(r.registration_kind for r in registrations)
    assert set(kinds) == set(RegistrationKind)
    assert kinds[RegistrationKind.DECEASED] < 0.1 * len(registrations)
    assert all(r.registration_source and r.names for r in registrations)


def _keys(names: list[NameCreate]) -> set[tuple[str, str]]:
    """(given, father or family) pairs, as written, of a person's structured names."""
    keys = set()
    for name in names:
        if name.parts is not None and name.parts.given:
            second = name.parts.father or name.parts.family
            if second:
                keys.add((name.parts.given.casefold(), second.casefold()))
    return keys


def test_sought_persons_reappear_as_registrations(demo: list[DemoSociety]) -> None:
    sought: set[tuple[str, str]] = set()
    for person in request_persons(demo):
        if person.role is PersonRole.SOUGHT_PERSON:
            sought |= _keys(person.names)
    found = sum(1 for s in demo for r in s.registrations if _keys(r.names) & sought)
    assert found >= 25  # about 110 are planted; most are rewritten beyond this simple key


def test_reciprocal_requests_exist(demo: list[DemoSociety]) -> None:
    requests = [r for s in demo for r in s.requests]
    enquirers = [
        _keys(next(p for p in r.persons if p.role is PersonRole.ENQUIRER).names) for r in requests
    ]
    sought = [
        set().union(*(_keys(p.names) for p in r.persons if p.role is PersonRole.SOUGHT_PERSON))
        for r in requests
    ]
    pairs = [
        (i, j)
        for i in range(len(requests))
        for j in range(len(requests))
        if i != j and enquirers[i] & sought[j] and enquirers[j] & sought[i]
    ]
    assert pairs
