"""The pure parts of the candidate-latency benchmark: name layouts, hard queries, scoring."""

from __future__ import annotations

import random
import uuid

import pytest

from benchmarks.candidate_latency import (
    Outcome,
    make_queries,
    name_parts,
    registration_body,
    score,
    shift_year,
)

ROW = {
    "id": "P1",
    "full_name": "",
    "given_name": "Nasima",
    "family_name": "Wazir",
    "father_name": "Karim",
    "sex": "F",
    "birth_date": "1968-11-21",
    "birth_place": "Kabul",
    "nationality": "af",
}


@pytest.mark.parametrize(
    ("row", "parts"),
    [
        (ROW, ("Nasima", "Wazir", "Karim")),
        (
            ROW | {"given_name": "", "family_name": "", "full_name": "Idil Mohamoud Duale"},
            ("Idil", "Duale", "Mohamoud"),
        ),
        (ROW | {"given_name": "", "family_name": "", "full_name": "Idil"}, ("Idil", "", "Karim")),
    ],
)
def test_name_parts_in_either_layout(row, parts):
    assert name_parts(row) == parts


@pytest.mark.parametrize(
    ("text", "years"),
    [("1968-11-21", {"1967-11-21", "1969-11-21"}), ("21/11/1968", {"21/11/1967", "21/11/1969"})],
)
def test_shift_year_moves_the_year_by_one(text, years):
    assert shift_year(random.Random(1), text) in years
    assert shift_year(random.Random(1), "") == ""


def test_queries_are_hard_seeded_and_know_their_counterparts():
    people = {"P1": ROW, "P2": ROW | {"id": "P2"}, "P3": ROW | {"id": "P3", "given_name": "Ali"}}
    truth = [("P1", "P2")]
    first = make_queries(people, truth, 1, seed=5)
    assert first == make_queries(people, truth, 1, seed=5)
    (query,) = first
    assert query.truth == frozenset({"P1", "P2"})
    assert (query.given, query.family) != ("Nasima", "Wazir")  # a typo in both
    assert query.full_name.split()[0] == query.family  # family name first
    assert query.birth_date in {"1967-11-21", "1969-11-21"}  # the first of every three
    body = registration_body(query)
    assert body["sex"] == "female" and body["nationalities"] == ["AF"]


def test_score_and_percentiles():
    truth = uuid.uuid4()
    others = [uuid.uuid4() for _ in range(60)]
    assert score([truth, *others], {truth}) == (1, 1)
    assert score([*others[:10], truth], {truth}) == (1, 0)
    assert score([*others, truth], {truth}) == (0, 0)
    outcome = Outcome("x", [float(ms) for ms in range(1, 101)], 99, 95, 100)
    assert outcome.row() == ["x", "50.5", "95.0", "0.990", "0.950"]
