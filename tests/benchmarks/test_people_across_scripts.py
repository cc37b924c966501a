"""The people-across-scripts record builder: deterministic, stated rates, readable CSVs."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.people_across_scripts import (
    CORRUPTION_RATES,
    DATE_CORRUPTIONS,
    HARD_DISTRACTORS,
    SCRIPTS,
    XLIT_SCRIPTS,
    Dataset,
    Pools,
    build,
    load_pools,
    write_dataset,
)
from service.linkage.csvfile import read_records

N = 300


def _pools(script: str) -> Pools:
    if script == "geez":
        pytest.importorskip("habesha_names")
    return load_pools(script)


@pytest.fixture(scope="module")
def arabic() -> tuple[Pools, Dataset]:
    pools = load_pools("arabic")
    return pools, build(pools, 2000, 7)


def test_same_seed_same_records_other_seed_other_records(arabic: tuple[Pools, Dataset]) -> None:
    pools, data = arabic
    again = build(pools, 2000, 7)
    assert (again.left, again.right, again.truth) == (data.left, data.right, data.truth)
    other = build(pools, 2000, 8)
    assert other.left != data.left
    assert other.right != data.right


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    pools = load_pools("pashto")
    write_dataset(build(pools, N, 3), tmp_path / "a")
    write_dataset(build(pools, N, 3), tmp_path / "b")
    for name in ("left.csv", "right.csv", "truth.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_corruption_rates_roughly_as_stated(arabic: tuple[Pools, Dataset]) -> None:
    _, data = arabic
    total = data.counts["romanised records"]
    assert total == len(data.right) == 3 * len(data.left)
    for kind, rate in {**CORRUPTION_RATES, **DATE_CORRUPTIONS}.items():
        assert abs(data.counts[kind] / total - rate) < 0.03, kind
    exact = 1 - sum(DATE_CORRUPTIONS.values())
    assert abs(data.counts["exact"] / total - exact) < 0.03
    hard = sum(data.counts[f"distractor {kind}"] for kind in HARD_DISTRACTORS)
    assert hard == len(data.truth)
    assert data.counts["distractor random"] >= len(data.truth)


def test_corruptions_are_visible_in_the_rows(arabic: tuple[Pools, Dataset]) -> None:
    _, data = arabic
    right = {row["id"]: row for row in data.right}
    left = {row["id"]: row for row in data.left}
    dropped = year_only = 0
    for left_id, right_id in data.truth:
        native, romanised = left[left_id], right[right_id]
        assert native["father_name"] and native["given_name"] and native["family_name"]
        assert len(native["birth_date"]) == 10
        dropped += not romanised["father_name"]
        year_only += len(romanised["birth_date"]) == 4
        if len(romanised["birth_date"]) == 4:
            assert romanised["birth_date"] == native["birth_date"][:4]
    pairs = len(data.truth)
    assert abs(dropped / pairs - CORRUPTION_RATES["father_dropped"]) < 0.04
    assert abs(year_only / pairs - DATE_CORRUPTIONS["year_only"]) < 0.04


def test_hard_distractors_share_names_and_are_born_years_apart(
    arabic: tuple[Pools, Dataset],
) -> None:
    _, data = arabic
    partners = {right_id for _, right_id in data.truth}
    family_names = {
        name.casefold()
        for row in data.right
        if row["id"] in partners
        for name in (row["family_name"], row["given_name"])
    }
    distractors = [row for row in data.right if row["id"] not in partners]
    assert len(distractors) >= len(data.truth)
    sharing = sum(
        row["family_name"].casefold() in family_names
        or row["given_name"].casefold() in family_names
        for row in distractors
    )
    assert sharing >= len(data.truth) // 2


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_yields_records_readable_by_the_link_reader(
    script: str, tmp_path: Path
) -> None:
    pools = _pools(script)
    data = build(pools, N, 7)
    assert len(data.left) == N
    assert len(data.truth) == N
    assert len(data.right) >= 2 * N
    left, right, truth = write_dataset(data, tmp_path)
    for path, rows in ((left, data.left), (right, data.right)):
        result = read_records(path)
        assert [record.id for record in result.records] == [row["id"] for row in rows]
        assert all(record.names for record in result.records)
        assert all(record.birth_date is not None for record in result.records)
        assert not [report for report in result.reports if "birth_date" in report]
    assert truth.read_text(encoding="utf-8").count("\n") == N + 1
    # the left side is in the native script, the romanised partners are not
    assert not any(row["full_name"].isascii() for row in data.left)
    if script not in XLIT_SCRIPTS:
        assert all(row["full_name"].isascii() for row in data.right)


def test_unavailable_source_is_reported(tmp_path: Path) -> None:
    from benchmarks.people_across_scripts import DataUnavailable, load_xlit_pools

    with pytest.raises(DataUnavailable):
        load_xlit_pools("arabic", tmp_path)
