"""Value objects embedded in records: fuzzy dates and places."""

from __future__ import annotations

import datetime
from typing import Annotated, Self

from pydantic import Field, model_validator

from schemas.base import WireModel
from schemas.enums import Calendar

CountryCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2 country code, upper case.",
        examples=["SY"],
    ),
]


class FuzzyDateIn(WireModel):
    """A date as people actually give it: partial, approximate, an age, or another calendar.

    Send either `text` (parsed by the server: `1990`, `1990-03`, `07/03/1990` read day-first,
    `ca. 1985`, `about 30 years old in 2023`, `hijri:1410-08-15`, `solar-hijri:1369`,
    `ethiopian:1982-13-02`, ...) or the structured fields, not both. The original is kept as
    given, and the server adds its gregorian interpretation.
    """

    text: str | None = Field(default=None, max_length=100, examples=["ca. 1985"])
    calendar: Calendar = Calendar.GREGORIAN
    year: int | None = Field(default=None, ge=1, le=9999)
    month: int | None = Field(default=None, ge=1, le=13)
    day: int | None = Field(default=None, ge=1, le=31)
    approximate: bool = False
    uncertainty_years: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Years either side of `year`; needs `approximate`. Defaults to 2 when "
        "approximate, else 0.",
    )
    age: int | None = Field(default=None, ge=0, le=150, description="Age at `age_reference_date`.")
    age_reference_date: datetime.date | None = None

    @model_validator(mode="after")
    def _text_or_fields(self) -> Self:
        structured = self.model_fields_set - {"text"}
        if self.text is not None and structured:
            raise ValueError("give either `text` or structured date fields, not both")
        if self.text is None and not structured:
            raise ValueError("an empty date: give `text` or at least one date field")
        return self


class GregorianInterpretation(WireModel):
    """The server's reading of a fuzzy date in the gregorian calendar."""

    year: int | None
    month: int | None
    day: int | None
    approximate: bool
    uncertainty_years: int
    earliest: datetime.date | None = Field(description="First day the date can denote.")
    latest: datetime.date | None = Field(description="Last day the date can denote.")


class FuzzyDatePublic(WireModel):
    """A fuzzy date as stored: the original, its canonical text and its gregorian reading."""

    text: str | None = Field(description="The text as given, when the date was sent as text.")
    canonical: str = Field(description="Canonical written form; parsing it gives this date back.")
    calendar: Calendar
    year: int | None
    month: int | None
    day: int | None
    approximate: bool
    uncertainty_years: int
    age: int | None
    age_reference_date: datetime.date | None
    gregorian: GregorianInterpretation


class Place(WireModel):
    """A place as recorded: free text, optionally a country and coordinates."""

    text: str = Field(min_length=1, max_length=500, examples=["Aleppo, al-Shaar district"])
    country_code: CountryCode | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _both_coordinates(self) -> Self:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self
