"""Fuzzy dates as tracing records carry them: parse, validate, convert, bound and compare.

A recorded date is rarely a day. It is a year, a year and month, "about 1985", "30 years old
when interviewed in 2023", or a date in the Hijri, Solar Hijri or Ethiopian calendar.
`FuzzyDate` keeps what was recorded, in the calendar it was recorded in; `to_gregorian` and
`date_bounds` give its Gregorian reading; `compare_dates` places a pair on a ladder of levels.

Canonical text, written by `format_fuzzy_date` and read back exactly by `parse_fuzzy_date`::

    [CALENDAR:][ca. ]YYYY[-MM[-DD]][ +/- N]          a calendar date
    [ca. ]AGE[ +/- N] years old in YYYY[-MM[-DD]]    an age at a Gregorian reference date
    [CALENDAR:]unknown                               nothing known

- CALENDAR is ``hijri``, ``solar-hijri`` or ``ethiopian``; Gregorian dates carry no prefix.
- Years have four digits, months and days two (``0985-03-07``).
- ``ca.`` marks an approximate value. `` +/- N`` is written only when the uncertainty is not the
  default one of an approximate value (`DEFAULT_UNCERTAINTY_YEARS`): ``ca. 1985`` is 1985 give
  or take 2 years, ``ca. 1985 +/- 5`` give or take 5, ``ca. 1985 +/- 0`` a doubtful 1985.
- The age reference is written to the precision it is read with: ``2023`` for 1 January,
  ``2023-05`` for the first of a month, the full date otherwise.

`parse_fuzzy_date` also reads what people type (case and spacing do not matter; Arabic-Indic
and Persian digits are read as digits): day-first dates ``07/03/1990``, ``7.3.1990``,
``07-03-1990``, ``03/1990``; the approximate markers ``c.``, ``ca``, ``circa``, ``about``,
``approx.``, ``around``, ``~`` and a trailing ``?``; ``1985 +/- 3``, ``1985±3`` (an explicit
range is approximate too); ``age 30 in 2023``, ``about 30 years old in 2023-05``; and the
calendar aliases ``solar_hijri``, ``shamsi``, ``jalali``, ``ethiopic``, ``gregorian``.

Record-keeping conventions this module encodes:

- An uncertainty is a number of whole years around `FuzzyDate.year`; a value with one spans
  whole years, and only approximate values may have one.
- An age at a reference date becomes a birth-year range: the birthday is unknown, so the
  Gregorian reading is ``year = reference year - age`` with one more year of uncertainty.
- 1 January (1 Muharram, 1 Farvardin, 1 Meskerem) is what registries write when only the year
  was known. `compare_dates` reads such a date both as the day and as its year alone and keeps
  the better verdict, so a placeholder never makes two records look different. A 1 January age
  reference is read as its whole year, the first of a month as its whole month, for the same
  reason.
"""

import datetime
import enum
import re
import unicodedata
from dataclasses import dataclass

from matching import _calendars
from matching._calendars import CalendarRules

__all__ = [
    "DEFAULT_UNCERTAINTY_YEARS",
    "MAX_AGE",
    "Calendar",
    "DateComparison",
    "DateLevel",
    "FuzzyDate",
    "FuzzyDateError",
    "compare_dates",
    "date_bounds",
    "days_in_month",
    "format_fuzzy_date",
    "is_empty",
    "months_in_year",
    "parse_fuzzy_date",
    "to_gregorian",
    "year_range",
]

DEFAULT_UNCERTAINTY_YEARS = 2
"""Years either side of an approximate date recorded without an explicit range ("ca. 1985")."""

MAX_AGE = 150
"""Oldest age accepted: no one has lived longer, so a larger number is a data-entry error."""


class Calendar(enum.StrEnum):
    """The calendar a date was recorded in."""

    GREGORIAN = "gregorian"
    HIJRI = "hijri"
    SOLAR_HIJRI = "solar_hijri"
    ETHIOPIAN = "ethiopian"


class FuzzyDateError(ValueError):
    """A date that cannot be parsed, or a `FuzzyDate` whose fields contradict each other."""


_RULES: dict[Calendar, CalendarRules] = {
    Calendar.GREGORIAN: _calendars.GREGORIAN,
    Calendar.HIJRI: _calendars.HIJRI,
    Calendar.SOLAR_HIJRI: _calendars.SOLAR_HIJRI,
    Calendar.ETHIOPIAN: _calendars.ETHIOPIAN,
}
_PREFIXES: dict[Calendar, str] = {
    Calendar.GREGORIAN: "",
    Calendar.HIJRI: "hijri:",
    Calendar.SOLAR_HIJRI: "solar-hijri:",
    Calendar.ETHIOPIAN: "ethiopian:",
}
_CALENDAR_NAMES: dict[str, Calendar] = {
    "gregorian": Calendar.GREGORIAN,
    "hijri": Calendar.HIJRI,
    "solar-hijri": Calendar.SOLAR_HIJRI,
    "solar_hijri": Calendar.SOLAR_HIJRI,
    "solar hijri": Calendar.SOLAR_HIJRI,
    "shamsi": Calendar.SOLAR_HIJRI,
    "jalali": Calendar.SOLAR_HIJRI,
    "ethiopian": Calendar.ETHIOPIAN,
    "ethiopic": Calendar.ETHIOPIAN,
}


def year_range(calendar: Calendar) -> tuple[int, int]:
    """First and last year of `calendar` that a `FuzzyDate` accepts.

    The last year is the last one that ends before 9999-12-31, so every valid date has a
    Gregorian reading in `datetime.date`.
    """
    rules = _RULES[calendar]
    return rules.min_year, rules.max_year


def months_in_year(calendar: Calendar) -> int:
    """12, or 13 in the Ethiopian calendar (Pagume, the short thirteenth month)."""
    return _RULES[calendar].months


def days_in_month(calendar: Calendar, year: int, month: int) -> int:
    """Length of `month` of `year` in `calendar`; Umm al-Qura months are 29 or 30 days by table."""
    return _RULES[calendar].month_length(year, month)


@dataclass(frozen=True, slots=True)
class FuzzyDate:
    """A date as recorded: any of year, month and day, or an age at a reference date.

    The calendar date form uses `year`, `month`, `day` (each needing the one before it) in
    `calendar`. The age form uses `age` at `age_reference`, a Gregorian date (a person "about 30
    years old" when interviewed), and no year, month or day. `approximate` marks a doubtful
    value; only approximate values may carry `uncertainty_years`, whole years either side of the
    year (or of the age). A `FuzzyDate()` with neither a year nor an age is empty: nothing known.
    """

    year: int | None = None
    month: int | None = None
    day: int | None = None
    calendar: Calendar = Calendar.GREGORIAN
    approximate: bool = False
    uncertainty_years: int = 0
    age: int | None = None
    age_reference: datetime.date | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.calendar, Calendar):
            object.__setattr__(self, "calendar", _coerce_calendar(self.calendar))
        _validate(self)


def _coerce_calendar(name: object) -> Calendar:
    """Accept the plain string a database column or form holds ("hijri")."""
    if isinstance(name, str) and name in Calendar.__members__.values():
        return Calendar(name)
    raise FuzzyDateError(f"unknown calendar {name!r}")


def _validate(value: FuzzyDate) -> None:
    for name in ("year", "month", "day", "age", "uncertainty_years"):
        field = getattr(value, name)
        if field is not None and (isinstance(field, bool) or not isinstance(field, int)):
            raise FuzzyDateError(f"{name} must be a whole number, not {field!r}")
    if value.uncertainty_years < 0:
        raise FuzzyDateError("uncertainty_years cannot be negative")
    if value.uncertainty_years and not value.approximate:
        raise FuzzyDateError("only an approximate date can have an uncertainty in years")
    if value.age is not None or value.age_reference is not None:
        _validate_age(value)
    elif value.year is None:
        _validate_empty(value)
    else:
        _validate_calendar_date(value)


def _validate_age(value: FuzzyDate) -> None:
    if value.age is None or value.age_reference is None:
        raise FuzzyDateError("an age needs a reference date, and a reference date an age")
    if value.year is not None or value.month is not None or value.day is not None:
        raise FuzzyDateError("give either an age at a reference date or a year, not both")
    if value.calendar is not Calendar.GREGORIAN:
        raise FuzzyDateError("an age is given at a Gregorian reference date")
    if isinstance(value.age_reference, datetime.datetime) or not isinstance(
        value.age_reference, datetime.date
    ):
        raise FuzzyDateError("age_reference must be a datetime.date")
    if value.age < 0:
        raise FuzzyDateError("age cannot be negative")
    if value.age > MAX_AGE:
        raise FuzzyDateError(f"age {value.age} is older than anyone lives ({MAX_AGE})")
    if value.age_reference.year - value.age < 1:
        raise FuzzyDateError(f"age {value.age} in {value.age_reference.year} is before year 1")


def _validate_empty(value: FuzzyDate) -> None:
    if value.month is not None or value.day is not None:
        raise FuzzyDateError("a month or day needs a year")
    if value.approximate:
        raise FuzzyDateError("an approximate date needs a year or an age")


def _validate_calendar_date(value: FuzzyDate) -> None:
    assert value.year is not None
    rules = _RULES[value.calendar]
    if not rules.min_year <= value.year <= rules.max_year:
        raise FuzzyDateError(
            f"year {value.year} is outside {rules.min_year}-{rules.max_year} "
            f"in the {value.calendar} calendar"
        )
    if value.month is None:
        if value.day is not None:
            raise FuzzyDateError("a day needs a month")
        return
    if not 1 <= value.month <= rules.months:
        raise FuzzyDateError(
            f"month {value.month} is not in 1-{rules.months} in the {value.calendar} calendar"
        )
    if value.day is None:
        return
    length = rules.month_length(value.year, value.month)
    if not 1 <= value.day <= length:
        raise FuzzyDateError(
            f"day {value.day} is not in month {value.month} of {value.year} in the "
            f"{value.calendar} calendar, which has {length} days"
        )


def is_empty(value: FuzzyDate) -> bool:
    """True when the value says nothing about the date (no year and no age)."""
    return value.year is None and value.age is None


# --- text ---------------------------------------------------------------------------------

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")
_ARABIC_PUNCTUATION = {ord("\u066b"): ".", ord("\u060d"): "/"}
_APPROXIMATE_PREFIX = re.compile(r"(?:circa|ca\.?|c\.|about|approx(?:\.|imately)?|around|~)\s*")
_CALENDAR_PREFIX = re.compile(r"([a-z][a-z _-]*?)\s*:\s*(.*)")
_QUESTION_SUFFIX = re.compile(r"(.*?)\s*\?")
_UNCERTAINTY_SUFFIX = re.compile(r"(.*?)\s*\+/?-\s*(\d+)(?:\s*(?:years?|yrs?))?", re.ASCII)
_AGE = re.compile(
    r"(?P<prefix>aged?\s+)?(?P<age>\d{1,3})"
    r"(?:\s*\+/?-\s*(?P<uncertainty>\d+))?"
    r"(?:\s+(?:years?|yrs?)(?P<old>\s+old)?)?"
    r"\s+(?:in|at)\s+(?P<reference>.+)",
    re.ASCII,
)
_YEAR_FIRST = re.compile(r"(\d{4})(?:\s*([-/.])\s*(\d{1,2})(?:\s*\2\s*(\d{1,2}))?)?", re.ASCII)
_DAY_FIRST = re.compile(r"(\d{1,2})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{4})", re.ASCII)
_MONTH_FIRST = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{4})", re.ASCII)

_Parts = tuple[int, int | None, int | None]


def _normalise(text: str) -> str:
    """Fold the ways one date gets typed into one spelling.

    NFKC folds full-width characters; other decimal digits (Arabic-Indic, Persian, ...) become
    ASCII; bidirectional marks, which Arabic and Persian input methods insert, are dropped.
    """
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).translate(_ARABIC_PUNCTUATION)
    text = "".join(
        str(unicodedata.decimal(char)) if char.isdecimal() else char
        for char in text
        if unicodedata.category(char) != "Cf"
    )
    return " ".join(text.replace("±", "+/-").casefold().split())


def _strip_approximate(text: str) -> tuple[str, bool]:
    match = _APPROXIMATE_PREFIX.match(text)
    if match is None:
        return text, False
    return text[match.end() :], True


def _split_calendar(text: str) -> tuple[Calendar, str]:
    match = _CALENDAR_PREFIX.fullmatch(text)
    if match is None:
        return Calendar.GREGORIAN, text
    name, rest = match.groups()
    if name not in _CALENDAR_NAMES:
        raise FuzzyDateError(f"unknown calendar {name!r}")
    return _CALENDAR_NAMES[name], rest


def _parse_parts(text: str) -> _Parts:
    """Year, month and day of a numeric date: year first when it leads, else day first."""
    if match := _YEAR_FIRST.fullmatch(text):
        year, _, month, day = match.groups()
        return int(year), _optional_int(month), _optional_int(day)
    if match := _DAY_FIRST.fullmatch(text):
        day, _, month, year = match.groups()
        return int(year), int(month), int(day)
    if match := _MONTH_FIRST.fullmatch(text):
        month, year = match.groups()
        return int(year), int(month), None
    raise FuzzyDateError(f"cannot read {text!r} as a date")


def _optional_int(text: str | None) -> int | None:
    return None if text is None else int(text)


def _reference_date(text: str) -> datetime.date:
    year, month, day = _parse_parts(text)
    try:
        return datetime.date(year, 1 if month is None else month, 1 if day is None else day)
    except ValueError as error:
        raise FuzzyDateError(f"invalid reference date {text!r}: {error}") from None


def _parse_age(match: re.Match[str], approximate: bool) -> FuzzyDate:
    if match["prefix"] is None and match["old"] is None:
        raise FuzzyDateError("write an age as 'age 30 in 2023' or '30 years old in 2023'")
    uncertainty = match["uncertainty"]
    approximate = approximate or uncertainty is not None
    return FuzzyDate(
        age=int(match["age"]),
        age_reference=_reference_date(match["reference"]),
        approximate=approximate,
        uncertainty_years=_uncertainty(approximate, uncertainty),
    )


def _uncertainty(approximate: bool, explicit: str | None) -> int:
    if explicit is not None:
        return int(explicit)
    return DEFAULT_UNCERTAINTY_YEARS if approximate else 0


def parse_fuzzy_date(text: str) -> FuzzyDate:
    """Read a recorded date; see the module docstring for the accepted forms.

    Raises `FuzzyDateError` for text that is not a date, an unknown calendar prefix, or a date
    that does not exist in its calendar. Blank text is an error rather than an empty date, so a
    lost value is not silently taken for "unknown"; write ``unknown`` for that.
    """
    rest = _normalise(text)
    if not rest:
        raise FuzzyDateError("no date given (write 'unknown' for an unknown date)")
    rest, approximate = _strip_approximate(rest)
    calendar, rest = _split_calendar(rest)
    if not approximate:
        rest, approximate = _strip_approximate(rest)
    if rest == "unknown":
        if approximate:
            raise FuzzyDateError("an unknown date cannot be approximate")
        return FuzzyDate(calendar=calendar)
    if age := _AGE.fullmatch(rest):
        if calendar is not Calendar.GREGORIAN:
            raise FuzzyDateError("an age is given at a Gregorian reference date")
        return _parse_age(age, approximate)
    explicit: str | None = None
    if question := _QUESTION_SUFFIX.fullmatch(rest):
        rest, approximate = question[1], True
    if uncertain := _UNCERTAINTY_SUFFIX.fullmatch(rest):
        rest, explicit, approximate = uncertain[1], uncertain[2], True
        if question := _QUESTION_SUFFIX.fullmatch(rest):
            rest = question[1]
    year, month, day = _parse_parts(rest)
    return FuzzyDate(
        year=year,
        month=month,
        day=day,
        calendar=calendar,
        approximate=approximate,
        uncertainty_years=_uncertainty(approximate, explicit),
    )


def format_fuzzy_date(value: FuzzyDate) -> str:
    """The canonical text of `value` (see the module docstring); parsing it gives `value` back."""
    marker = "ca. " if value.approximate else ""
    suffix = ""
    if value.approximate and value.uncertainty_years != DEFAULT_UNCERTAINTY_YEARS:
        suffix = f" +/- {value.uncertainty_years}"
    if value.age is not None and value.age_reference is not None:
        reference = _format_reference(value.age_reference)
        return f"{marker}{value.age}{suffix} years old in {reference}"
    prefix = _PREFIXES[value.calendar]
    if value.year is None:
        return f"{prefix}unknown"
    return f"{prefix}{marker}{_format_parts(value.year, value.month, value.day)}{suffix}"


def _format_parts(year: int, month: int | None, day: int | None) -> str:
    text = f"{year:04d}"
    if month is not None:
        text += f"-{month:02d}"
    if day is not None:
        text += f"-{day:02d}"
    return text


def _format_reference(reference: datetime.date) -> str:
    if (reference.month, reference.day) == (1, 1):
        return _format_parts(reference.year, None, None)
    if reference.day == 1:
        return _format_parts(reference.year, reference.month, None)
    return _format_parts(reference.year, reference.month, reference.day)


# --- Gregorian readings -------------------------------------------------------------------


def date_bounds(value: FuzzyDate) -> tuple[datetime.date, datetime.date] | None:
    """The earliest and latest Gregorian day `value` can denote, or None when it is empty.

    A year, month or day spans its days in its own calendar; an uncertainty widens that to whole
    years either side. An age `a` (give or take `u`) at a reference spans the births of people
    aged `a - u` to `a + u` on some day of the reference (its year for 1 January, its month for
    the first of a month). Bounds are clipped to the range of `datetime.date`.
    """
    ordinals = _bound_ordinals(value)
    if ordinals is None:
        return None
    return datetime.date.fromordinal(ordinals[0]), datetime.date.fromordinal(ordinals[1])


def _bound_ordinals(value: FuzzyDate) -> tuple[int, int] | None:
    if value.age is not None and value.age_reference is not None:
        return _age_bound_ordinals(value.age, value.uncertainty_years, value.age_reference)
    if value.year is None:
        return None
    rules = _RULES[value.calendar]
    if value.uncertainty_years:
        earliest = max(value.year - value.uncertainty_years, rules.min_year)
        latest = min(value.year + value.uncertainty_years, rules.max_year)
        return rules.first_ordinal(earliest), rules.last_ordinal(latest)
    if value.month is None:
        return rules.first_ordinal(value.year), rules.last_ordinal(value.year)
    if value.day is None:
        return rules.first_ordinal(value.year, value.month), rules.last_ordinal(
            value.year, value.month
        )
    day = rules.ordinal(value.year, value.month, value.day)
    return day, day


def _age_bound_ordinals(age: int, uncertainty: int, reference: datetime.date) -> tuple[int, int]:
    """Someone aged n on day r was born after r minus n+1 years and no later than r minus n."""
    first_reference, last_reference = _reference_span(reference)
    oldest = _years_before(first_reference, age + uncertainty + 1)
    earliest = 1 if oldest is None else oldest.toordinal() + 1
    youngest = _years_before(last_reference, max(age - uncertainty, 0))
    latest = 1 if youngest is None else youngest.toordinal()
    return earliest, latest


def _reference_span(reference: datetime.date) -> tuple[datetime.date, datetime.date]:
    if (reference.month, reference.day) == (1, 1):
        return reference, reference.replace(month=12, day=31)
    if reference.day == 1:
        length = _calendars.GREGORIAN.month_length(reference.year, reference.month)
        return reference, reference.replace(day=length)
    return reference, reference


def _years_before(day: datetime.date, years: int) -> datetime.date | None:
    """The same day `years` earlier (29 February becomes the 28th); None before year 1."""
    year = day.year - years
    if year < 1:
        return None
    if (day.month, day.day) == (2, 29) and _calendars.GREGORIAN.month_length(year, 2) == 28:
        return datetime.date(year, 2, 28)
    return day.replace(year=year)


def to_gregorian(value: FuzzyDate) -> FuzzyDate:
    """The most specific Gregorian `FuzzyDate` whose bounds contain those of `value`.

    Calendar years do not line up: a Hijri year is 354 or 355 days, and Solar Hijri and
    Ethiopian years begin in March and September. A converted day stays a day; a converted year
    or month that falls within one Gregorian month or year becomes that month or year; one that
    straddles a year boundary becomes the Gregorian year holding its middle, approximate, with
    the uncertainty that reaches its ends. An age becomes the birth year ``reference year -
    age`` with one extra year of uncertainty, since the birthday is unknown.
    """
    if value.age is not None and value.age_reference is not None:
        return FuzzyDate(
            year=value.age_reference.year - value.age,
            approximate=True,
            uncertainty_years=value.uncertainty_years + 1,
        )
    if value.calendar is Calendar.GREGORIAN:
        return value
    if value.year is None:
        return FuzzyDate()
    bounds = date_bounds(value)
    assert bounds is not None
    first, last = bounds
    if value.month is not None and value.day is not None:
        day = datetime.date.fromordinal(
            _RULES[value.calendar].ordinal(value.year, value.month, value.day)
        )
        return _centred(day.year, day.month, day.day, value.approximate, first, last)
    if first.year == last.year:
        month = first.month if value.month is not None and first.month == last.month else None
        return FuzzyDate(year=first.year, month=month, approximate=value.approximate)
    middle = datetime.date.fromordinal((first.toordinal() + last.toordinal()) // 2)
    return _centred(middle.year, None, None, value.approximate, first, last)


def _centred(
    year: int,
    month: int | None,
    day: int | None,
    approximate: bool,
    first: datetime.date,
    last: datetime.date,
) -> FuzzyDate:
    uncertainty = max(year - first.year, last.year - year)
    return FuzzyDate(
        year=year,
        month=month,
        day=day,
        approximate=approximate or uncertainty > 0,
        uncertainty_years=uncertainty,
    )


# --- comparison ---------------------------------------------------------------------------


class DateLevel(enum.StrEnum):
    """How well two dates agree, best first (a Splink-style comparison ladder)."""

    EXACT = "exact"
    DAY_MONTH_SWAPPED = "day_month_swapped"
    SAME_YEAR_MONTH = "same_year_month"
    SAME_YEAR = "same_year"
    OFF_BY_ONE_YEAR_SAME_DAY = "off_by_one_year_same_day"
    WITHIN_UNCERTAINTY = "within_uncertainty"
    SAME_YEAR_OTHER_DATE = "same_year_other_date"
    OFF_BY_ONE_YEAR = "off_by_one_year"
    YEAR_TYPO = "year_typo"
    DIFFERENT = "different"
    MISSING = "missing"

    @property
    def rank(self) -> int:
        """Position on the ladder: 0 for EXACT, 10 for MISSING."""
        return list(DateLevel).index(self)


@dataclass(frozen=True, slots=True)
class DateComparison:
    """The level two dates reach, the difference of their years, and a sentence saying why.

    `year_difference` is taken between the years as recorded when both dates share a calendar,
    else between their Gregorian readings (an age counts as its birth year); None when a side
    is empty.
    """

    level: DateLevel
    year_difference: int | None
    detail: str


def compare_dates(left: FuzzyDate, right: FuzzyDate) -> DateComparison:
    """Place two dates on the `DateLevel` ladder; symmetric in its arguments.

    Dates in one calendar are compared as recorded, others through `to_gregorian`. Levels are
    judged on the information both sides have: 1990 against 1990-03-07 is SAME_YEAR, since
    nothing contradicts it, while 1990-03-07 against 1990-11-20 is SAME_YEAR_OTHER_DATE: the
    month both give differs. That split matters because in a large archive namesakes born in
    the same year are common and a true pair rarely has two full dates that disagree, whereas
    a date known only by its year is ordinary. The same holds a year apart: the same day and
    month with years one apart (a year misremembered or converted) is OFF_BY_ONE_YEAR_SAME_DAY,
    any other pair of years one apart OFF_BY_ONE_YEAR. The day-level rungs need two precise
    values; when either side is approximate or an age, what counts is whether the years each
    allows overlap (WITHIN_UNCERTAINTY), are one year apart (OFF_BY_ONE_YEAR) or further
    (DIFFERENT); two precise dates on the same day and month whose years are one typo apart are
    YEAR_TYPO. A precise first day of the year is also read as its year alone (a registry
    placeholder), and the better verdict kept.
    """
    if is_empty(left) or is_empty(right):
        return DateComparison(DateLevel.MISSING, None, "no date on one side or both")
    left_readings, right_readings = _readings(left), _readings(right)
    if len(left_readings) == 1 and len(right_readings) == 1:
        return _compare_readings(left, right)  # each value as it is, nothing else to weigh
    candidates = [
        _with_placeholder_note(_compare_readings(a, b), read_a or read_b)
        for a, read_a in left_readings
        for b, read_b in right_readings
    ]
    return min(candidates, key=lambda c: (c.level.rank, c.year_difference or 0, c.detail))


def _readings(value: FuzzyDate) -> tuple[tuple[FuzzyDate, bool], ...]:
    """The value itself and, for a precise first day of the year, that year alone."""
    if not value.approximate and value.month == 1 and value.day == 1:
        return (value, False), (FuzzyDate(year=value.year, calendar=value.calendar), True)
    return ((value, False),)


def _with_placeholder_note(comparison: DateComparison, placeholder: bool) -> DateComparison:
    if not placeholder:
        return comparison
    detail = f"{comparison.detail}; first day of the year read as the year alone"
    return DateComparison(comparison.level, comparison.year_difference, detail)


def _compare_readings(left: FuzzyDate, right: FuzzyDate) -> DateComparison:
    native = left.calendar == right.calendar and left.age is None and right.age is None
    a, b = (left, right) if native else (to_gregorian(left), to_gregorian(right))
    assert a.year is not None and b.year is not None
    difference = abs(a.year - b.year)
    where = _where(left.calendar if native else None)
    if not a.approximate and not b.approximate:
        level, detail = _precise_level(a, b, difference)
    else:
        level, detail = _range_level(*_year_span(left, native), *_year_span(right, native))
    return DateComparison(level, difference, detail + where)


def _where(calendar: Calendar | None) -> str:
    if calendar is None:
        return " (as Gregorian dates)"
    return "" if calendar is Calendar.GREGORIAN else f" ({calendar} calendar)"


def _precise_level(a: FuzzyDate, b: FuzzyDate, difference: int) -> tuple[DateLevel, str]:
    both_days = a.day is not None and b.day is not None
    if difference == 0:
        if a.month is not None and a.month == b.month:
            if a.day is not None and a.day == b.day:
                return DateLevel.EXACT, "same day"
            if both_days:
                return DateLevel.SAME_YEAR_OTHER_DATE, "same year and month, different days"
            return DateLevel.SAME_YEAR_MONTH, "same year and month"
        if both_days and (a.month, a.day) == (b.day, b.month):
            return DateLevel.DAY_MONTH_SWAPPED, "same year, day and month swapped"
        if a.month is not None and b.month is not None:
            return DateLevel.SAME_YEAR_OTHER_DATE, "same year, different months"
        return DateLevel.SAME_YEAR, "same year"
    if difference == 1:
        if both_days and (a.month, a.day) == (b.month, b.day):
            return DateLevel.OFF_BY_ONE_YEAR_SAME_DAY, "same day and month, years one apart"
        return DateLevel.OFF_BY_ONE_YEAR, "years one apart"
    assert a.year is not None and b.year is not None
    if (a.month, a.day) == (b.month, b.day) and a.day is not None and _one_typo(a.year, b.year):
        low, high = sorted((a.year, b.year))
        return DateLevel.YEAR_TYPO, f"same day and month, years {low} and {high} one typo apart"
    return DateLevel.DIFFERENT, f"years {difference} apart"


def _one_typo(left: int, right: int) -> bool:
    """Whether two years, written with four digits, differ by one digit or by two neighbouring
    digits swapped: the slips of a hand copying a date (1965 for 1956, 1975 for 1965)."""
    a, b = f"{left:04d}", f"{right:04d}"
    if len(a) != len(b):
        return False
    differing = [i for i in range(len(a)) if a[i] != b[i]]
    if len(differing) == 1:
        return True
    first = differing[0] if len(differing) == 2 else -1
    return differing == [first, first + 1] and (a[first], a[first + 1]) == (b[first + 1], b[first])


def _year_span(value: FuzzyDate, native: bool) -> tuple[int, int]:
    """Years a value allows: in its own calendar when both sides share it, else Gregorian."""
    if native and value.year is not None:
        return value.year - value.uncertainty_years, value.year + value.uncertainty_years
    bounds = date_bounds(value)
    assert bounds is not None
    return bounds[0].year, bounds[1].year


def _range_level(
    left_first: int, left_last: int, right_first: int, right_last: int
) -> tuple[DateLevel, str]:
    gap = max(right_first - left_last, left_first - right_last)
    if gap <= 0:
        return DateLevel.WITHIN_UNCERTAINTY, "year ranges overlap"
    if gap == 1:
        return DateLevel.OFF_BY_ONE_YEAR, "year ranges one year apart"
    return DateLevel.DIFFERENT, f"year ranges {gap} years apart"
