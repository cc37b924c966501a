"""Training m and u on unlabelled records: what is learned, what is kept, and determinism."""

from __future__ import annotations

import datetime
import random

import numpy as np
import pytest

from matching import (
    Matcher,
    PersonName,
    PersonRecord,
    default_model,
    parse_fuzzy_date,
    train_model,
)
from matching._model import model_from_json
from matching.training import (
    M_FLOOR,
    MAX_NAMESAKES,
    MIN_SEEN,
    _kept_levels,
    _same_name_pairs,
    _settled,
    date_m_from_namesakes,
    record_frequencies,
    with_record_frequencies,
)

GIVEN = ["Amina", "Yusuf", "Layla", "Omar", "Fatima", "Karim", "Hana", "Samir", "Nadia", "Tariq"]
FAMILY = ["Haddad", "Khoury", "Mansour", "Nasser", "Saleh", "Aziz", "Rahimi", "Karimi", "Tahir"]


def archive(size: int, seed: int) -> list[PersonRecord]:
    """Persons born over three years, a quarter of them recorded twice on the same birth day,
    the second time with the name's last letter dropped now and then."""
    rng = random.Random(seed)
    records = []
    for number in range(size):
        name = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"
        born = datetime.date(1980, 1, 1) + datetime.timedelta(days=rng.randrange(3 * 365))
        sex = rng.choice("MF")
        records.append(
            PersonRecord(str(number), (PersonName(name),), sex, parse_fuzzy_date(born.isoformat()))
        )
        if rng.random() < 0.25:
            again = name[:-1] if rng.random() < 0.3 else name
            records.append(
                PersonRecord(
                    f"{number}b", (PersonName(again),), sex, parse_fuzzy_date(born.isoformat())
                )
            )
    return records


@pytest.fixture(scope="module")
def trained():
    return train_model(archive(600, 3), seed=5, random_pairs=20_000)


def test_agreeing_names_become_evidence_for_and_different_names_against(trained) -> None:
    name = trained.model.levels["name"]
    assert name["exact"].weight > 3
    assert name["different"].weight < -1
    assert trained.date_blocked_pairs > 0 and trained.date_pass.converged


def test_a_trained_model_lists_each_field_with_its_levels_in_bits(trained) -> None:
    lines = trained.model.weight_lines()
    assert [line.split(":")[0] for line in lines] == list(trained.model.levels)
    exact = trained.model.levels["name"]["exact"].weight
    assert f"exact {exact:+.1f}" in lines[0]


def test_the_birth_date_m_and_the_prior_are_kept_when_namesakes_show_too_few_matches(
    trained,
) -> None:
    """Born within three years, namesakes' dates are rarely wholly different: the dates
    cannot tell the few matches among them from the many kin and strangers."""
    base = default_model()
    assert not trained.date_m_learned
    assert trained.model.prior == base.prior
    for level, parameters in trained.model.levels["birth_date"].items():
        assert parameters.m == pytest.approx(base.levels["birth_date"][level].m, rel=0.05)


def test_fields_the_records_never_carry_keep_the_base_model(trained) -> None:
    base = default_model()
    for field in ("father_name", "birth_place", "last_known_place"):
        for level, parameters in trained.model.levels[field].items():
            assert parameters.m == pytest.approx(base.levels[field][level].m)
            assert parameters.u == pytest.approx(base.levels[field][level].u)


def test_the_same_records_and_seed_give_the_same_model() -> None:
    records = archive(200, 8)
    first = train_model(records, seed=2, random_pairs=5_000).model
    second = train_model(records, seed=2, random_pairs=5_000).model
    assert first.version == second.version and first.version.startswith("em-")
    assert first.to_json() == second.to_json()
    assert Matcher(model=first).model_version == first.version


@pytest.mark.parametrize(
    ("learned", "base", "seen", "expected"),
    [
        # every level seen often enough: the learned shares, floored
        ([0.7, 0.3, 0.0], [0.2, 0.3, 0.5], [70, 30, 20], [0.7, 0.3, 0.0]),
        # a level seen too rarely keeps its base probability, the others share the rest
        ([0.9, 0.1, 0.0], [0.1, 0.3, 0.6], [90, 30, 0], [0.36, 0.04, 0.6]),
        # nothing seen: the base model
        ([0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0, 0, 0], [0.2, 0.3, 0.5]),
    ],
)
def test_settled_shares(
    learned: list[float], base: list[float], seen: list[float], expected: list[float]
) -> None:
    kept = _kept_levels(np.array(seen, dtype=np.float64))
    shares = _settled(np.array(learned), np.array(base), kept, M_FLOOR)
    assert shares.sum() == pytest.approx(1.0)
    assert shares.min() >= M_FLOOR * 0.99
    assert shares == pytest.approx(np.maximum(expected, M_FLOOR), abs=0.01)


@pytest.mark.parametrize(
    ("seen", "seen_elsewhere", "expected"),
    [
        # seen often enough: learned
        ([MIN_SEEN, 500], None, [False, False]),
        # seen too rarely and nothing else known: the base model's
        ([MIN_SEEN - 1, 0], None, [True, True]),
        # rare among random pairs, but the same-day pairs show the level occurs in these
        # records: its rarity is measured, so learned (and floored)
        ([3, 0], [400, 0], [False, True]),
        # rare in both: the records say nothing of it
        ([3, 500], [MIN_SEEN - 1, 0], [True, False]),
    ],
)
def test_kept_levels(
    seen: list[float], seen_elsewhere: list[float] | None, expected: list[bool]
) -> None:
    elsewhere = None if seen_elsewhere is None else np.array(seen_elsewhere, dtype=np.float64)
    kept = _kept_levels(np.array(seen, dtype=np.float64), elsewhere)
    assert kept.tolist() == expected


def distinct_archive(size: int, seed: int) -> list[PersonRecord]:
    """Persons with made-up names no two share, born over three years, half of them recorded
    again on the same birth day, half of those with one letter of the family name dropped."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnoprstuvz"
    records = []
    for number in range(size):
        given, family = ("".join(rng.choice(letters) for _ in range(7)) for _ in range(2))
        day = datetime.date(1980, 1, 1) + datetime.timedelta(days=rng.randrange(3 * 365))
        born = parse_fuzzy_date(day.isoformat())
        records.append(PersonRecord(str(number), (PersonName(f"{given} {family}"),), None, born))
        if rng.random() < 0.5:
            typo = family[:3] + family[4:] if rng.random() < 0.5 else family
            records.append(PersonRecord(f"{number}b", (PersonName(f"{given} {typo}"),), None, born))
    return records


def test_a_name_level_the_records_show_takes_its_u_from_the_random_pairs() -> None:
    """Names one letter apart occur in this archive (its second recordings) but hardly ever
    between strangers: their u is the random pairs' floor, not the base model's guess."""
    pairs = 50_000
    report = train_model(distinct_archive(800, 4), seed=5, random_pairs=pairs)
    assert report.date_blocked_pairs >= MIN_SEEN
    strong = report.model.levels["name"]["strong"]
    assert strong.u == pytest.approx(MIN_SEEN / pairs, rel=0.1)
    assert strong.u < default_model().levels["name"]["strong"].u


def test_the_birth_date_m_is_learned_from_namesakes_when_they_show_matches() -> None:
    """Every namesake in this archive is a second recording, on the same day: an exact date is
    far more common among matches than the base model believes."""
    report = train_model(distinct_archive(400, 4), seed=5, random_pairs=50_000)
    assert report.date_m_learned and report.same_name_pairs >= MIN_SEEN
    date = report.model.levels["birth_date"]
    base = default_model().levels["birth_date"]
    assert date["exact"].m > base["exact"].m
    assert date["same_year"].m < base["same_year"].m
    assert "pairs of the same name" in report.model.description


def mixture(rate: float, m: list[float], u: list[float], pairs: int) -> np.ndarray:
    return pairs * (rate * np.array(m) + (1 - rate) * np.array(u))


M_TRUE = [0.9, 0.07, 0.03]
U_TRUE = [0.001, 0.1, 0.899]


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # a fifth of 10,000 namesakes the same person: their m is recovered
        (mixture(0.2, M_TRUE, U_TRUE, 10_000), M_TRUE),
        # all of them the same person
        (mixture(1.0, M_TRUE, U_TRUE, 1_000), M_TRUE),
        # ten matches among a thousand namesakes: too few to learn from
        (mixture(0.01, M_TRUE, U_TRUE, 1_000), None),
        # wholly different dates as often as between strangers: no match to learn from
        (mixture(0.0, M_TRUE, U_TRUE, 10_000), None),
        # no pairs
        (np.zeros(3), None),
    ],
)
def test_date_m_from_namesakes(counts: np.ndarray, expected: list[float] | None) -> None:
    m = date_m_from_namesakes(counts, np.array(U_TRUE), np.array([0.5, 0.47, 0.03]), 2)
    if expected is None:
        assert m is None
    else:
        assert m is not None and m == pytest.approx(expected, abs=1e-6)


def test_date_m_from_namesakes_needs_a_different_date_rarer_for_matches_than_strangers() -> None:
    counts = mixture(0.5, M_TRUE, U_TRUE, 10_000)
    assert date_m_from_namesakes(counts, np.array(U_TRUE), np.array([0.0, 0.1, 0.9]), 2) is None


def person(number: str, name: str, born: str) -> PersonRecord:
    return PersonRecord(number, (PersonName(name),), None, parse_fuzzy_date(born))


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        # the same name, in any order: one pair, the dates compared (exact, different)
        (["Amina Haddad"], ["Haddad Amina", "Omar Haddad"], 1),
        # a name one letter apart is not the same name
        (["Amina Haddad"], ["Amina Haddam"], 0),
        # a name on more than MAX_NAMESAKES records of a side is left out
        (["Amina Haddad"], ["Amina Haddad"] * (MAX_NAMESAKES + 1), 0),
        (["Amina Haddad"], ["Amina Haddad"] * MAX_NAMESAKES, MAX_NAMESAKES),
    ],
)
def test_same_name_pairs(left: list[str], right: list[str], expected: int) -> None:
    matcher = Matcher()
    lefts = [matcher.prepare(person(f"l{i}", n, "1980-05-01")) for i, n in enumerate(left)]
    rights = [matcher.prepare(person(f"r{i}", n, "1990-05-01")) for i, n in enumerate(right)]
    pairs = _same_name_pairs(lefts, rights, one_list=False)
    assert len(pairs) == expected
    assert all(pattern[0] == 0 for pattern in pairs)


def test_same_name_pairs_of_one_list_are_each_pair_once() -> None:
    matcher = Matcher()
    records = [matcher.prepare(person(str(i), "Amina Haddad", "1980-05-01")) for i in range(4)]
    assert len(_same_name_pairs(records, records, one_list=True)) == 6


def test_matches_among_the_random_pairs_are_taken_out_of_u() -> None:
    """Two files of the same 400 persons: one random pair in 400 is the same person, which is
    most of the random pairs whose names agree exactly. Taken out, u of an exact name falls to
    the floor the random pairs can show."""
    records = [r for r in distinct_archive(400, 6) if not r.id.endswith("b")]
    again = [PersonRecord(f"{r.id}b", r.names, r.sex, r.birth_date) for r in records]
    pairs = 50_000
    report = train_model(records, again, seed=5, random_pairs=pairs)
    assert report.random_match_rate == pytest.approx(1 / len(records), rel=0.5)
    assert report.model.levels["name"]["exact"].u == pytest.approx(MIN_SEEN / pairs, rel=0.1)
    assert "of them the same person" in report.model.description


def records_named(names: list[str]) -> list[PersonRecord]:
    return [PersonRecord(str(i), (PersonName(name),)) for i, name in enumerate(names)]


def test_record_frequencies_count_a_name_once_per_record() -> None:
    """A record written in two scripts holds its name once; a name of one record in a hundred
    is left to the floor (seen fewer than three times)."""
    names = ["Mohammed Haddad"] * 40 + ["Amina Khoury"] * 59 + ["Tesfamariam Woldegiorgis"]
    records = records_named(names)
    records[0] = PersonRecord("0", (PersonName("Mohammed Haddad"), PersonName("محمد حداد")))
    matcher = Matcher()
    table = record_frequencies([matcher.prepare(r) for r in records])
    mohammed = matcher.prepare(records[1]).names[0].tokens[0].identity
    amina = matcher.prepare(records[40]).names[0].tokens[0].identity
    rare = matcher.prepare(records[99]).names[0].tokens[0].identity
    assert table.of(mohammed) == pytest.approx(40 / 200)
    assert table.of(amina) > table.of(mohammed) > table.of(rare) == table.floor


def test_a_name_common_in_the_records_is_weaker_evidence_with_their_frequencies() -> None:
    """Tesfamariam Woldegiorgis is rare by the Wikidata table; in an archive where every
    other person bears it, a shared one says little."""
    names = ["Tesfamariam Woldegiorgis"] * 50 + [f"Person{i} Family{i}" for i in range(50)]
    records = records_named(names)
    shipped = Matcher()
    model = with_record_frequencies(shipped.model, records)
    local = Matcher(model=model)
    pair = (records[0], records[1])
    assert local.compare(*pair).match_weight < shipped.compare(*pair).match_weight - 3
    assert model.version.startswith(f"{shipped.model.version}+tf-")
    assert model.levels == shipped.model.levels
    again = model_from_json(model.to_json())
    assert again.frequencies == model.frequencies
    assert Matcher(model=again).compare(*pair).match_weight == local.compare(*pair).match_weight
