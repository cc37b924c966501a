"""The linkage CSV contract: what is read, what is reported, and on which line."""

from __future__ import annotations

import pytest

from service.linkage.csvfile import UnreadableFile, read_text

HEADER = (
    "id,full_name,given_name,family_name,father_name,other_names,sex,birth_date,birth_place,"
    "nationality\n"
)


def test_all_columns_are_read():
    result = read_text(
        HEADER + '1,"Hassan, Fatima",Fatima,Hassan,Ali,Fati|Umm Ali,female,ca. 1960,Aleppo,SY\n'
    )
    (record,) = result.records
    assert record.id == "1"
    assert [name.full for name in record.names] == ["Hassan, Fatima", "Fati", "Umm Ali"]
    assert (record.names[0].given, record.names[0].family, record.names[0].father) == (
        "Fatima",
        "Hassan",
        "Ali",
    )
    assert record.sex == "F"
    assert record.birth_date is not None and record.birth_date.approximate
    assert (record.birth_place, record.nationality, record.father_name) == ("Aleppo", "SY", "Ali")
    assert result.reports == []


@pytest.mark.parametrize(
    ("sex", "expected"),
    [("M", "M"), ("m", "M"), ("male", "M"), ("Female", "F"), ("X", "X"), ("", None)],
)
def test_sex_values(sex, expected):
    (record,) = read_text(f"id,sex\n1,{sex}\n").records
    assert record.sex == expected


def test_byte_order_mark_and_quoted_newlines_keep_physical_line_numbers():
    text = 'id,full_name,birth_date\n1,"two\nlines",1990\n,no id,\n3,x,31/02/1990\n'
    result = read_text(text)
    assert [r.id for r in result.records] == ["1", "3"]
    assert result.reports[0] == "line 4: no id, row skipped"
    assert result.reports[1].startswith("line 5: birth_date '31/02/1990'")
    assert result.records[1].birth_date is None


def test_unknown_columns_warn_once_and_are_ignored():
    result = read_text("id,colour,full_name\n1,blue,A\n2,red,B\n")
    assert result.reports == ["line 1: unknown columns ignored: colour"]
    assert len(result.records) == 2


def test_bad_sex_is_reported_and_missing():
    result = read_text("id,sex\n1,sometimes\n")
    assert result.records[0].sex is None
    assert result.reports == ["line 2: sex 'sometimes' not understood, treated as missing"]


def test_a_file_without_id_column_is_unreadable():
    with pytest.raises(UnreadableFile):
        read_text("name,sex\nA,M\n")
    with pytest.raises(UnreadableFile):
        read_text("")
