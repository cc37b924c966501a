import datetime

import convertdate.coptic
import convertdate.persian
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import _calendars
from matching.dates import (
    Calendar,
    FuzzyDate,
    FuzzyDateError,
    date_bounds,
    days_in_month,
    months_in_year,
    to_gregorian,
    year_range,
)

D = datetime.date
H, SH, ET = Calendar.HIJRI, Calendar.SOLAR_HIJRI, Calendar.ETHIOPIAN
_JDN_OF_ORDINAL_ZERO = 1721425

GOLDEN_DAYS = [
    # Umm al-Qura (hijridate tables, 1343-1500 AH)
    (H, 1410, 8, 15, D(1990, 3, 12)),
    (H, 1403, 2, 17, D(1982, 12, 2)),
    (H, 1444, 9, 1, D(2023, 3, 23)),
    (H, 1445, 1, 1, D(2023, 7, 19)),
    (H, 1343, 1, 1, D(1924, 8, 1)),
    (H, 1500, 12, 30, D(2077, 11, 16)),
    # arithmetic Islamic calendar outside the tables
    (H, 1300, 1, 1, D(1882, 11, 12)),
    (H, 1, 1, 1, D(622, 7, 19)),
    # Solar Hijri: Nowruz, 22 Bahman 1357, leap Esfand 30
    (SH, 1369, 1, 1, D(1990, 3, 21)),
    (SH, 1369, 5, 12, D(1990, 8, 3)),
    (SH, 1357, 11, 22, D(1979, 2, 11)),
    (SH, 1399, 12, 30, D(2021, 3, 20)),
    (SH, 1403, 1, 1, D(2024, 3, 20)),
    (SH, 1403, 12, 30, D(2025, 3, 20)),
    (SH, 1404, 1, 1, D(2025, 3, 21)),
    # Ethiopian: the millennium, 6-day Pagume of 2015, 5-day Pagume of 2016, new years
    (ET, 2000, 1, 1, D(2007, 9, 12)),
    (ET, 2015, 13, 6, D(2023, 9, 11)),
    (ET, 2016, 1, 1, D(2023, 9, 12)),
    (ET, 2016, 13, 5, D(2024, 9, 10)),
    (ET, 2017, 1, 1, D(2024, 9, 11)),
    (ET, 1982, 13, 2, D(1990, 9, 7)),
    (ET, 1983, 1, 1, D(1990, 9, 11)),
    (ET, 1, 1, 1, D(8, 8, 27)),
    (Calendar.GREGORIAN, 1990, 3, 7, D(1990, 3, 7)),
]


@pytest.mark.parametrize(("calendar", "year", "month", "day", "expected"), GOLDEN_DAYS)
def test_golden_day_conversions(
    calendar: Calendar, year: int, month: int, day: int, expected: datetime.date
) -> None:
    value = FuzzyDate(year, month, day, calendar=calendar)
    assert to_gregorian(value) == FuzzyDate(expected.year, expected.month, expected.day)
    assert date_bounds(value) == (expected, expected)


@pytest.mark.parametrize(
    ("calendar", "year", "month", "length"),
    [
        (H, 1410, 2, 29),
        (H, 1410, 8, 29),
        (H, 1410, 9, 30),
        (H, 1300, 1, 30),
        (SH, 1369, 1, 31),
        (SH, 1369, 7, 30),
        (SH, 1399, 12, 30),
        (SH, 1400, 12, 29),
        (ET, 2016, 1, 30),
        (ET, 2015, 13, 6),
        (ET, 2016, 13, 5),
        (ET, 2019, 13, 6),
        (Calendar.GREGORIAN, 2024, 2, 29),
        (Calendar.GREGORIAN, 1900, 2, 28),
    ],
)
def test_month_lengths(calendar: Calendar, year: int, month: int, length: int) -> None:
    assert days_in_month(calendar, year, month) == length
    FuzzyDate(year, month, length, calendar=calendar)
    with pytest.raises(FuzzyDateError, match="days"):
        FuzzyDate(year, month, length + 1, calendar=calendar)


def test_months_in_year() -> None:
    assert {c: months_in_year(c) for c in Calendar} == {
        Calendar.GREGORIAN: 12,
        H: 12,
        SH: 12,
        ET: 13,
    }


def _about(year: int, uncertainty: int = 1) -> FuzzyDate:
    return FuzzyDate(year, approximate=True, uncertainty_years=uncertainty)


@pytest.mark.parametrize(
    ("value", "first", "last", "gregorian"),
    [
        (FuzzyDate(1410, calendar=H), D(1989, 8, 2), D(1990, 7, 22), _about(1990)),
        (FuzzyDate(1369, calendar=SH), D(1990, 3, 21), D(1991, 3, 20), _about(1990)),
        (FuzzyDate(1983, calendar=ET), D(1990, 9, 11), D(1991, 9, 11), _about(1991)),
        (FuzzyDate(2016, calendar=ET), D(2023, 9, 12), D(2024, 9, 10), _about(2024)),
        (FuzzyDate(1369, 1, calendar=SH), D(1990, 3, 21), D(1990, 4, 20), FuzzyDate(1990)),
        (FuzzyDate(1445, 1, calendar=H), D(2023, 7, 19), D(2023, 8, 16), FuzzyDate(2023)),
        (FuzzyDate(1446, 7, calendar=H), D(2025, 1, 1), D(2025, 1, 30), FuzzyDate(2025, 1)),
        (FuzzyDate(1444, 6, calendar=H), D(2022, 12, 25), D(2023, 1, 22), _about(2023)),
        (
            FuzzyDate(1410, calendar=H, approximate=True, uncertainty_years=2),
            D(1987, 8, 25),
            D(1992, 6, 30),
            _about(1990, 3),
        ),
    ],
)
def test_years_and_months_to_gregorian(
    value: FuzzyDate, first: datetime.date, last: datetime.date, gregorian: FuzzyDate
) -> None:
    """A period that straddles a Gregorian year boundary becomes its middle year, give or take."""
    assert date_bounds(value) == (first, last)
    assert to_gregorian(value) == gregorian


@pytest.mark.parametrize(
    ("value", "gregorian"),
    [
        (
            FuzzyDate(1410, 8, 15, calendar=H, approximate=True, uncertainty_years=2),
            FuzzyDate(1990, 3, 12, approximate=True, uncertainty_years=3),
        ),
        (
            FuzzyDate(1410, 8, 15, calendar=H, approximate=True),
            FuzzyDate(1990, 3, 12, approximate=True),
        ),
        (FuzzyDate(calendar=ET), FuzzyDate()),
        (FuzzyDate(1990, 3), FuzzyDate(1990, 3)),
    ],
)
def test_days_keep_their_day_in_gregorian(value: FuzzyDate, gregorian: FuzzyDate) -> None:
    assert to_gregorian(value) == gregorian


@pytest.mark.parametrize("calendar", list(Calendar))
def test_the_supported_years_are_exactly_those_that_convert(calendar: Calendar) -> None:
    first, last = year_range(calendar)
    assert date_bounds(FuzzyDate(first, calendar=calendar)) is not None
    assert date_bounds(FuzzyDate(last, calendar=calendar)) is not None
    for outside in (first - 1, last + 1):
        with pytest.raises(FuzzyDateError, match="outside"):
            FuzzyDate(outside, calendar=calendar)
    if calendar is not Calendar.GREGORIAN:
        rules = {H: _calendars.HIJRI, SH: _calendars.SOLAR_HIJRI, ET: _calendars.ETHIOPIAN}
        with pytest.raises((ValueError, OverflowError)):
            D.fromordinal(rules[calendar].last_ordinal(last + 1))


@settings(max_examples=150, deadline=None)
@given(
    year=st.integers(277, _calendars.ETHIOPIAN.max_year),
    month=st.integers(1, 13),
    day=st.integers(1, 6),
)
def test_ethiopian_arithmetic_matches_the_coptic_calendar(year: int, month: int, day: int) -> None:
    """The Ethiopian calendar is the Coptic one with its years counted 276 higher."""
    day = day if month == 13 else day * 5
    if day > _calendars.ETHIOPIAN.month_length(year, month):
        day = 5
    coptic = int(convertdate.coptic.to_jd(year - 276, month, day) + 0.5)
    assert _calendars.ETHIOPIAN.ordinal(year, month, day) == coptic - _JDN_OF_ORDINAL_ZERO


def test_solar_hijri_matches_the_astronomical_calendar_for_living_people() -> None:
    """jdatetime's 33-year cycle agrees with the astronomical rule on Nowruz for 1277-1502 SH.

    Checked on a sample: the astronomical computation is slow, and each Nowruz depends on every
    leap year before it.
    """
    for year in [*range(1277, 1503, 25), 1403, 1404, 1502]:
        astronomical = int(convertdate.persian.to_jd(year, 1, 1) + 0.5) - _JDN_OF_ORDINAL_ZERO
        assert _calendars.SOLAR_HIJRI.ordinal(year, 1, 1) == astronomical, year


def test_umm_al_qura_months_follow_each_other_without_gaps() -> None:
    rules = _calendars.HIJRI
    for year in range(1343, 1500):
        for month in range(1, 13):
            following = (year, month + 1) if month < 12 else (year + 1, 1)
            assert rules.last_ordinal(year, month) + 1 == rules.first_ordinal(*following)
