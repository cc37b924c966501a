"""Bulk blocking: which corrupted twins meet through compound keys, how a common key's block is
left out, and how the pre-ranking keeps the true counterpart ahead of a namesake."""

from __future__ import annotations

import pytest

from matching import Matcher, PersonName, PersonRecord, parse_fuzzy_date
from matching.bulk import BulkRecords, candidate_pairs


def person(record_id: str, name: str, born: str | None = None) -> PersonRecord:
    return PersonRecord(
        id=record_id,
        names=(PersonName(name),),
        birth_date=parse_fuzzy_date(born) if born else None,
    )


def bulk(records: list[PersonRecord]) -> BulkRecords:
    matcher = Matcher()
    columns = BulkRecords()
    for record in records:
        columns.add(matcher.prepare(record))
    return columns


def pairs(records: list[PersonRecord], **options: int) -> set[tuple[str, str]]:
    lows, highs = candidate_pairs(bulk(records), **options)
    return {(records[a].id, records[b].id) for a, b in zip(lows, highs, strict=True)}


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (("Ahmad Karimi", "1984"), ("Karimi Ahmad", "1984")),  # swapped order
        (("Ahmad Karimi", "1984"), ("Ahmed Karimy", None)),  # spelling variants, no date
        (("Mohammed Haddad", "1990-03-07"), ("محمد حداد", "1990-03-07")),  # another script
        (("Natalia Savchenko", "1976"), ("Наталія Савченко", "1976")),
        (("Fatima Osman", "1962"), ("Ftaima Osman", "1962")),  # a typo in the first letters
        (("Bile", "1967"), ("Bile", "1967")),  # a one-part name
        (("Bile", None), ("Bile", None)),  # a one-part name, no date
    ],
)
def test_corrupted_twins_meet(left, right):
    records = [person("a", *left), person("b", *right), person("c", "Zainab Yusuf", "2001")]
    assert pairs(records) == {("a", "b")}


def test_a_block_larger_than_the_cap_is_left_out():
    records = [person(str(i), "Ahmad Karimi") for i in range(4)]
    assert len(pairs(records, max_block=4)) == 6
    assert pairs(records, max_block=3) == set()


def test_the_pre_ranking_keeps_the_counterpart_ahead_of_namesakes():
    probe = person("probe", "Ahmad Karimi", "1984-05-02")
    twin = person("twin", "Ahmad Karimy", "1984")
    # Two namesakes a year, each the other's best partner: what the probe keeps is its own.
    namesakes = [
        person(f"{year}{n}", "Ahmad Karimi", str(year)) for year in (1944, 2010) for n in "ab"
    ]
    found = pairs([probe, *namesakes, twin], per_record=1)
    assert found == {("probe", "twin"), ("1944a", "1944b"), ("2010a", "2010b")}


def test_pairs_come_once_low_before_high_and_sorted():
    records = [person(str(i), "Ahmad Karimi", "1984") for i in range(5)]
    lows, highs = candidate_pairs(bulk(records))
    assert (lows < highs).all()
    keys = list(zip(lows.tolist(), highs.tolist(), strict=True))
    assert keys == sorted(set(keys))


@pytest.mark.parametrize("count", [0, 1])
def test_fewer_than_two_records_have_no_pairs(count):
    lows, highs = candidate_pairs(bulk([person("a", "Ahmad Karimi")][:count]))
    assert len(lows) == len(highs) == 0


def test_pairs_do_not_depend_on_how_the_blocks_are_chunked():
    names = ["Ahmad Karimi", "Ahmed Karimy", "Karimi Ahmad", "Fatima Osman", "Ftaima Osman"]
    records = [
        person(f"{i}-{year}", name, str(year))
        for i, name in enumerate(names)
        for year in (1960, 1961, 1984)
    ]
    columns = bulk(records)
    whole = candidate_pairs(columns, per_record=2)
    chunked = candidate_pairs(columns, per_record=2, chunk_rows=1)
    assert [x.tolist() for x in whole] == [x.tolist() for x in chunked]
    assert len(whole[0]) > 0
