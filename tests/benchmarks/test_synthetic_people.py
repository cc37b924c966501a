"""The synthetic person generator: deterministic, the stated duplicate rate, every corruption."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pytest

from benchmarks._linkcsv import LINK_COLUMNS, read_link_csv
from benchmarks.synthetic_people import (
    CORRUPTION_RATES,
    DATE_CORRUPTIONS,
    TYPO_KINDS,
    Summary,
    generate,
    read_truth,
    typo,
)

N = 2000


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Summary]:
    out = tmp_path_factory.mktemp("people")
    return out, generate(N, 7, out)


def test_same_seed_same_bytes_other_seed_other_bytes(
    generated: tuple[Path, Summary], tmp_path: Path
) -> None:
    out, _ = generated
    generate(N, 7, tmp_path / "again")
    generate(N, 8, tmp_path / "other")
    for name in ("people.csv", "truth.csv"):
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes()
    assert (tmp_path / "other" / "people.csv").read_bytes() != (out / "people.csv").read_bytes()


def test_duplicate_rate_and_truth(generated: tuple[Path, Summary]) -> None:
    out, summary = generated
    rows = read_link_csv(out / "people.csv")
    truth = read_truth(out / "truth.csv")
    assert len(rows) == N == summary.rows
    assert len(truth) == summary.duplicates
    assert summary.duplicates / summary.originals == pytest.approx(0.1, abs=0.002)
    order = {row["id"]: index for index, row in enumerate(rows)}
    assert len(order) == N
    assert all(order[left] < order[right] for left, right in truth)
    assert len({left for left, _ in truth}) == len(truth)  # one duplicate per original


def test_every_corruption_kind_occurs(generated: tuple[Path, Summary]) -> None:
    _, summary = generated
    kinds = set(summary.corruptions)
    assert set(CORRUPTION_RATES) <= kinds
    assert {f"date:{kind}" for kind in DATE_CORRUPTIONS} <= kinds
    assert {f"typo:{kind}" for kind in TYPO_KINDS} <= kinds
    for kind, rate in CORRUPTION_RATES.items():  # skipped where not applicable, never more
        assert summary.corruptions[kind] / summary.duplicates <= rate + 0.06


def test_rows_follow_the_contract_and_cover_scripts(generated: tuple[Path, Summary]) -> None:
    out, _ = generated
    rows = read_link_csv(out / "people.csv")
    assert all(set(row) == set(LINK_COLUMNS) and row["id"] for row in rows)
    assert {row["sex"] for row in rows} <= {"M", "F"}
    scripts = set()
    for row in rows:
        for char in row["full_name"] + row["given_name"]:
            if char.isalpha():
                scripts.add(unicodedata.name(char).split()[0])
    assert {"LATIN", "ARABIC", "CYRILLIC", "ETHIOPIC"} <= scripts
    assert all(row["full_name"] or row["given_name"] or row["family_name"] for row in rows)


TYPO_CASES = [("Mohammed", 0), ("محمد", 1), ("ab", 2), ("a", 3)]


@pytest.mark.parametrize(("text", "seed"), TYPO_CASES)
def test_typo_is_one_edit_in_the_same_script(text: str, seed: int) -> None:
    new, kind = typo(random.Random(seed), text)
    assert kind in TYPO_KINDS
    assert new != text or kind == "substitute"
    assert abs(len(new) - len(text)) <= 1
    assert set(new) <= set(text)
