"""Blocking: the full birth date as a seeding key, the probe's lookup plan (its slots), and
the in-memory index that ranks candidates by it."""

from __future__ import annotations

import pytest

from matching import (
    SEED_KINDS,
    KeyIndex,
    PersonName,
    PersonRecord,
    blocking_keys,
    lookup_keys,
    lookup_plan,
    parse_fuzzy_date,
    rank_weight,
)


def person(
    name: str, born: str | None = None, father: str | None = None, record_id: str | None = None
) -> PersonRecord:
    return PersonRecord(
        id=record_id or name,
        names=(PersonName(name),),
        birth_date=parse_fuzzy_date(born) if born else None,
        father_name=father,
    )


@pytest.mark.parametrize(
    ("born", "stored", "looked_up"),
    [
        ("1965-10-13", {"b:1965-10-13"}, {"b:1965-10-13"}),
        ("1965-03-07", {"b:1965-03-07"}, {"b:1965-03-07", "b:1965-07-03"}),
        ("1965-07-07", {"b:1965-07-07"}, {"b:1965-07-07"}),
        ("hijri:1410-08-15", {"b:1990-03-12"}, {"b:1990-03-12", "b:1990-12-03"}),
        ("1965-01-01", set(), set()),
        ("1965-03", set(), set()),
        ("1965", set(), set()),
        ("ca. 1965", set(), set()),
        (None, set(), set()),
    ],
)
def test_only_a_date_known_to_the_day_gives_a_full_date_key(
    born: str | None, stored: set[str], looked_up: set[str]
) -> None:
    record = person("Jack Smith", born)
    assert {k for k in blocking_keys(record) if k.startswith("b:")} == stored
    assert {k for k in lookup_keys(record) if k.startswith("b:")} == looked_up


def test_names_and_the_full_date_seed_candidates_years_and_fathers_do_not() -> None:
    assert SEED_KINDS == {"n", "b"}


def test_the_plan_covers_every_lookup_key() -> None:
    record = person("Mohammed Hassan", "1968-05-02", father="Ali")
    assert set(lookup_plan(record)) == set(lookup_keys(record))


def test_each_name_part_has_its_own_slot_and_its_typo_keys_share_it() -> None:
    plan = lookup_plan(person("Nasima Wazir", "1968-05-02", father="Ali Omar"))
    given = {plan[k] for k in plan if k.split("@")[0] in {"n:d:nasima", "n:d:asima", "n:d:nasim"}}
    family = {plan[k] for k in plan if k.split("@")[0] in {"n:d:wazir", "n:d:azir", "n:d:wazr"}}
    assert len(given) == 1 and len(family) == 1
    assert given != family
    father = {plan[k] for k in plan if k.startswith("f:")}
    birth = {plan[k] for k in plan if k[0] in "yb"}
    assert len(father) == 1 and len(birth) == 1
    assert father.isdisjoint(given | family) and birth.isdisjoint(given | family | father)


@pytest.mark.parametrize(
    ("postings", "cap", "weight"),
    [(1, 1001, 6.909), (1000, 1001, 0.001), (1001, 1001, 0.0), (0, 1001, 0.0), (10, 11, 0.095)],
)
def test_a_rarer_key_weighs_more_and_one_at_the_cap_nothing(
    postings: int, cap: int, weight: float
) -> None:
    assert rank_weight(postings, cap) == pytest.approx(weight, abs=1e-3)


NAMESAKES = ["Nasima Karimi", "Nasima Ahmadi", "Nasima Rahimi", "Nasima Sultani", "Nasima Jalali"]


def ranked(probe: PersonRecord, stored: list[PersonRecord], **limits: int) -> list[str]:
    index = KeyIndex([blocking_keys(record) for record in stored])
    return [stored[i].id for i in index.candidates(lookup_plan(probe), **limits)]


def test_a_counterpart_with_a_typo_in_each_name_outranks_namesakes_born_the_same_year() -> None:
    # Each namesake shares every key of the given name (ten of them); the counterpart shares
    # fewer keys in all, but meets both the given and the family name.
    stored = [person(name, "1968") for name in NAMESAKES[:2]] + [person("Nasma Wazyr", "1968")]
    stored += [person(name, "1968") for name in NAMESAKES[2:]]
    assert ranked(person("Nasima Wazir", "1968"), stored, max_candidates=1) == ["Nasma Wazyr"]


def test_the_same_birth_day_alone_makes_a_candidate_a_year_alone_does_not() -> None:
    stored = [person("Kiana Huxley", "1914-05-29"), person("Evan Jones", "1945-02-20")]
    stored.append(person("Jack Brown", "1945"))
    assert ranked(person("Isaac Hoffman", "1945-02-20"), stored) == ["Evan Jones"]


def test_a_day_month_swap_still_meets_on_the_birth_day() -> None:
    stored = [person("Evan Jones", "1945-02-03")]
    assert ranked(person("Isaac Hoffman", "1945-03-02"), stored) == ["Evan Jones"]


# (probe, stored): a name whose last or only word is a particle keeps it as a part, in
# comparison and in blocking alike, or the person could never be found
PARTICLE_NAMES = [
    ("Ванден", "Vanden"),
    ("Dos", "Dos"),
    ("Walad", "Валад"),
]


@pytest.mark.parametrize(("probe", "stored"), PARTICLE_NAMES)
def test_a_name_that_is_only_a_particle_is_still_found(probe: str, stored: str) -> None:
    assert blocking_keys(person(stored))
    assert ranked(person(probe), [person(stored)]) == [stored]


def test_a_particle_before_a_name_gives_no_keys_of_its_own() -> None:
    assert blocking_keys(person("Van Den Berg")) == blocking_keys(person("Berg"))


def test_keys_held_by_more_than_the_cap_are_skipped() -> None:
    stored = [person(name, "1945-02-20") for name in ("Evan Jones", "Ava Smith", "Leo Brown")]
    assert ranked(person("Isaac Hoffman", "1945-02-20"), stored, max_postings=2) == []


def test_a_name_too_common_alone_still_meets_namesakes_born_that_year_or_beside_it() -> None:
    # Sixty men of one name: its keys alone are over the cap, paired with a birth year not.
    stored = [person("Mohammed Ali", str(year), record_id=str(year)) for year in range(1940, 2000)]
    found = ranked(person("Muhammad Ali", "1969-05-02"), stored, max_postings=10)
    assert sorted(found) == ["1968", "1969", "1970"]
    assert ranked(person("Muhammad Ali"), stored, max_postings=10) == []


@pytest.mark.parametrize(
    ("born", "stored_years", "looked_up_years"),
    [
        ("1969-05-02", {1969}, {1968, 1969, 1970}),
        ("1969", {1969}, {1968, 1969, 1970}),
        ("ca. 1969", set(), set()),  # five years either side: too wide to pair
        ("about 30 years old in 2000", set(), set()),
        (None, set(), set()),
    ],
)
def test_name_keys_are_paired_with_narrow_birth_years_only(
    born: str | None, stored_years: set[int], looked_up_years: set[int]
) -> None:
    record = person("Mohammed", born)

    def years(keys: frozenset[str]) -> set[int]:
        return {int(key.rsplit("@", 1)[1]) for key in keys if key.startswith("n:v:") and "@" in key}

    assert years(blocking_keys(record)) == stored_years
    assert years(lookup_keys(record)) == looked_up_years
