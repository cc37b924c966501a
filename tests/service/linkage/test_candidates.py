"""In-memory candidate generation: what seeds a candidate, and how candidates are ranked."""

from __future__ import annotations

from matching import PersonName, PersonRecord, blocking_keys, lookup_plan, parse_fuzzy_date
from service.linkage.candidates import KeyIndex


def person(name: str, born: str | None = "1968") -> PersonRecord:
    return PersonRecord(
        id=name,
        names=(PersonName(name),),
        birth_date=parse_fuzzy_date(born) if born else None,
    )


NAMESAKES = ["Nasima Karimi", "Nasima Ahmadi", "Nasima Rahimi", "Nasima Sultani", "Nasima Jalali"]


def ranked(probe: PersonRecord, stored: list[PersonRecord], **limits: int) -> list[str]:
    index = KeyIndex([blocking_keys(record) for record in stored])
    return [stored[i].id for i in index.candidates(lookup_plan(probe), **limits)]


def test_a_counterpart_with_a_typo_in_each_name_outranks_namesakes_born_the_same_year() -> None:
    # Each namesake shares every key of the given name (ten of them); the counterpart shares
    # fewer keys in all, but meets both the given and the family name.
    stored = [person(name) for name in NAMESAKES[:2]] + [person("Nasma Wazyr")]
    stored += [person(name) for name in NAMESAKES[2:]]
    assert ranked(person("Nasima Wazir"), stored, max_candidates=1) == ["Nasma Wazyr"]


def test_the_same_birth_day_alone_makes_a_candidate_a_year_alone_does_not() -> None:
    stored = [person("Kiana Huxley", "1914-05-29"), person("Evan Jones", "1945-02-20")]
    stored.append(person("Jack Brown", "1945"))
    assert ranked(person("Isaac Hoffman", "1945-02-20"), stored) == ["Evan Jones"]


def test_a_day_month_swap_still_meets_on_the_birth_day() -> None:
    stored = [person("Evan Jones", "1945-02-03")]
    assert ranked(person("Isaac Hoffman", "1945-03-02"), stored) == ["Evan Jones"]


def test_keys_held_by_more_than_the_cap_are_skipped() -> None:
    stored = [person(name, "1945-02-20") for name in ("Evan Jones", "Ava Smith", "Leo Brown")]
    assert ranked(person("Isaac Hoffman", "1945-02-20"), stored, max_postings=2) == []
