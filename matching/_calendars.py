"""Day arithmetic for the calendars found on tracing documents.

Every calendar is reduced to the same small set of rules: the years it can represent, how many
months a year has, how long a month is, and which day a date denotes. Days are counted as
`datetime.date` ordinals (proleptic Gregorian, 1 = 0001-01-01), so a converted date is one call
to `datetime.date.fromordinal` and dates of different calendars compare as plain integers.

- Gregorian: the stdlib.
- Hijri: the Umm al-Qura calendar (Saudi Arabia's civil calendar, the one printed on most
  documents that carry a Hijri date) through hijridate, whose tables cover 1343-1500 AH
  (1924-2077). Outside that span only the arithmetic (tabular) Islamic calendar is defined, via
  convertdate; it differs from observed month starts by a day or two, far below the precision
  of any record that old.
- Solar Hijri (Iran, Afghanistan): jdatetime, whose 33-year leap cycle matches the official
  astronomical calendar for every year a living person was born in.
- Ethiopian: twelve months of 30 days and a thirteenth (Pagume) of 5 days, 6 in the year before
  a Gregorian leap year. convertdate 2.5 has no Ethiopian module, and the calendar is pure
  arithmetic on the Julian day number, so it is computed here.
"""

import calendar
import datetime
from collections.abc import Callable
from dataclasses import dataclass

import convertdate.islamic
import jdatetime
from hijridate import Hijri
from hijridate.ummalqura import HIJRI_RANGE

_JDN_OF_ORDINAL_ZERO = 1721425


@dataclass(frozen=True, slots=True)
class CalendarRules:
    """What dates.py needs to know about one calendar.

    `min_year` and `max_year` bound the years whose every day falls inside the range of
    `datetime.date`, so any valid date of the calendar has a Gregorian equivalent.
    """

    min_year: int
    max_year: int
    months: int
    month_length: Callable[[int, int], int]
    ordinal: Callable[[int, int, int], int]

    def first_ordinal(self, year: int, month: int = 1) -> int:
        """Ordinal of the first day of `year` (or of `month` in it)."""
        return self.ordinal(year, month, 1)

    def last_ordinal(self, year: int, month: int | None = None) -> int:
        """Ordinal of the last day of `year` (or of `month` in it)."""
        last_month = self.months if month is None else month
        return self.ordinal(year, last_month, self.month_length(year, last_month))


def _gregorian_month_length(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _gregorian_ordinal(year: int, month: int, day: int) -> int:
    return datetime.date(year, month, day).toordinal()


def _in_umm_al_qura(year: int) -> bool:
    return HIJRI_RANGE[0][0] <= year <= HIJRI_RANGE[1][0]


def _hijri_month_length(year: int, month: int) -> int:
    if _in_umm_al_qura(year):
        return Hijri(year, month, 1).month_length()
    return int(convertdate.islamic.month_length(year, month))


def _hijri_ordinal(year: int, month: int, day: int) -> int:
    if _in_umm_al_qura(year):
        return Hijri(year, month, day).to_gregorian().toordinal()
    return _ordinal_of_julian_date(float(convertdate.islamic.to_jd(year, month, day)))


def _ordinal_of_julian_date(julian_date: float) -> int:
    """convertdate counts astronomical Julian dates, which start at noon, hence the half day."""
    return int(julian_date + 0.5) - _JDN_OF_ORDINAL_ZERO


def _solar_hijri_month_length(year: int, month: int) -> int:
    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if bool(jdatetime.date(year, 1, 1).isleap()) else 29


def _solar_hijri_ordinal(year: int, month: int, day: int) -> int:
    gregorian: datetime.date = jdatetime.date(year, month, day).togregorian()
    return gregorian.toordinal()


ETHIOPIAN_EPOCH_JDN = 1724221
"""Julian day number of 1 Meskerem 1 (Amete Mihret era) = 27 August 8 (Gregorian)."""


def _ethiopian_month_length(year: int, month: int) -> int:
    if month < 13:
        return 30
    return 6 if year % 4 == 3 else 5


def _ethiopian_ordinal(year: int, month: int, day: int) -> int:
    jdn = ETHIOPIAN_EPOCH_JDN + 365 * (year - 1) + year // 4 + 30 * (month - 1) + day - 1
    return jdn - _JDN_OF_ORDINAL_ZERO


GREGORIAN = CalendarRules(
    min_year=1,
    max_year=9999,
    months=12,
    month_length=_gregorian_month_length,
    ordinal=_gregorian_ordinal,
)
HIJRI = CalendarRules(
    min_year=1,
    max_year=9665,
    months=12,
    month_length=_hijri_month_length,
    ordinal=_hijri_ordinal,
)
SOLAR_HIJRI = CalendarRules(
    min_year=int(jdatetime.MINYEAR),
    max_year=int(jdatetime.MAXYEAR),
    months=12,
    month_length=_solar_hijri_month_length,
    ordinal=_solar_hijri_ordinal,
)
ETHIOPIAN = CalendarRules(
    min_year=1,
    max_year=9991,
    months=13,
    month_length=_ethiopian_month_length,
    ordinal=_ethiopian_ordinal,
)
