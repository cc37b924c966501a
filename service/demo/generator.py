"""A seeded, realistic synthetic demo data set: tracing requests and registrations.

`generate_demo(seed)` returns one `DemoSociety` per national society (and the dev server's
`local` society) with validated `TracingRequestCreate` and `RegistrationCreate` instances. The
same seed always gives the same data: every random choice comes from one `random.Random(seed)`,
and dates are relative to `REFERENCE_DATE`, never to today.

How a record is made: a *family* is generated in one culture (Syrian, Iraqi, Sudanese, Iranian,
Afghan Dari, Afghan Pashto, Russian, Ukrainian, Eritrean, Ethiopian, Somali) with names that
follow the culture's structure (Arabic given + father + family or grandfather chains,
Ge'ez and Somali given + father + grandfather, Afghan single names or tribal names, Russian and
Ukrainian patronymics and feminine surnames). Relatives share what they really share: a
brother has the same father, grandfather and family name; a son of a man has his father's given
name as father part; a married Russian or Ukrainian woman carries her husband's surname and her
maiden name as a `maiden` name. Each person is then *rendered* as a caseworker would write
them: the original script and/or a romanisation chosen among the hand-written variants in
`service.demo.names`, sometimes a nickname, a fuzzy birth date in one of the forms people give
(a year, an age at interview, a Hijri, Solar Hijri or Ethiopian calendar date, ...).

Planted true matches (the truth is kept out of the data; they are derived, not labelled):

* About 25% of all sought persons reappear as a registration (safe and well, found, detained,
  hospitalised, rarely deceased) in the same or another society. The registration renders the
  same underlying person again, independently: usually in the other script or another
  romanisation, sometimes with the family name first, the father's name (or the grandfather's,
  for name chains) dropped, the birth date off by a year, reduced to the year, day and month
  swapped, written as an age, or missing.
* Reciprocal pairs (about one request in fifty): a sought person of one request is the enquirer
  of another request, in another society as a rule, seeking the first enquirer with the inverse
  relationship (A seeks her brother B; B seeks his sister A).
* Same-sought pairs (about one request in sixty): two siblings each open a request for the same
  parent, independently rendered.
* Near misses: some registrations are relatives of sought persons (same father and family name,
  another given name and birth date), which a good matcher must not link.
"""

from __future__ import annotations

import datetime
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jdatetime
from convertdate import coptic
from hijridate import Gregorian

from schemas.enums import (
    NameKind,
    PersonRole,
    RegistrationKind,
    Relationship,
    Sex,
    TracingRequestStatus,
)
from schemas.persons import NameCreate, NameParts, RegistrationCreate, RequestPersonCreate
from schemas.tracing import TracingRequestCreate
from schemas.values import FuzzyDateIn, Place
from service.demo import names as N
from service.demo.names import NameEntry

__all__ = ["REFERENCE_DATE", "DemoSociety", "generate_demo"]

REFERENCE_DATE = datetime.date(2026, 3, 1)
"""Every generated date is relative to this date (the demo's "today")."""

_EARLIEST_BIRTH = datetime.date(1932, 1, 1)
_LATEST_BIRTH = datetime.date(2023, 12, 31)  # everyone is born before any separation


@dataclass(frozen=True, slots=True)
class DemoSociety:
    """One society's share of the demo data set."""

    code: str
    name: str
    requests: list[TracingRequestCreate]
    registrations: list[RegistrationCreate]


# --- places ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Loc:
    text: str
    country: str
    lat: float | None = None
    lon: float | None = None

    def place(self, rng: random.Random, coordinates: float = 0.4) -> Place:
        if self.lat is not None and self.lon is not None and rng.random() < coordinates:
            return Place(
                text=self.text, country_code=self.country, latitude=self.lat, longitude=self.lon
            )
        return Place(text=self.text, country_code=self.country)


def _locs(*items: tuple[str, str, float, float] | tuple[str, str]) -> tuple[_Loc, ...]:
    return tuple(_Loc(*item) for item in items)


_HOME = {
    "syrian": _locs(
        ("Aleppo, al-Shaar", "SY", 36.21, 37.18),
        ("Homs, Baba Amr", "SY", 34.72, 36.69),
        ("Douma, Eastern Ghouta", "SY", 33.57, 36.40),
        ("Raqqa", "SY", 35.95, 39.01),
        ("Deir ez-Zor", "SY", 35.34, 40.14),
        ("Maarat al-Numan, Idlib", "SY", 35.65, 36.67),
        ("Daraa al-Balad", "SY", 32.62, 36.10),
        ("Yarmouk camp, Damascus", "SY", 33.47, 36.30),
        ("Hama", "SY", 35.13, 36.75),
        ("Afrin", "SY", 36.51, 36.87),
    ),
    "iraqi": _locs(
        ("Mosul, old city", "IQ", 36.34, 43.13),
        ("Tal Afar", "IQ", 36.38, 42.45),
        ("Fallujah", "IQ", 33.35, 43.78),
        ("Ramadi", "IQ", 33.42, 43.30),
        ("Baghdad, Sadr City", "IQ", 33.39, 44.46),
        ("Basra", "IQ", 30.51, 47.78),
        ("Kirkuk", "IQ", 35.47, 44.39),
        ("Hawija", "IQ"),
    ),
    "sudanese": _locs(
        ("Khartoum, al-Kalakla", "SD", 15.50, 32.56),
        ("Omdurman", "SD", 15.64, 32.48),
        ("El Geneina, West Darfur", "SD", 13.45, 22.45),
        ("Nyala, South Darfur", "SD", 12.05, 24.88),
        ("El Fasher, North Darfur", "SD", 13.63, 25.35),
        ("Wad Madani, Gezira", "SD", 14.40, 33.52),
        ("Kassala", "SD", 15.45, 36.40),
    ),
    "iranian": _locs(
        ("Tehran", "IR", 35.69, 51.39),
        ("Mashhad", "IR", 36.30, 59.60),
        ("Shiraz", "IR", 29.59, 52.58),
        ("Kermanshah", "IR", 34.31, 47.07),
        ("Isfahan", "IR", 32.65, 51.67),
        ("Ahvaz", "IR", 31.32, 48.67),
    ),
    "afghan_dari": _locs(
        ("Kabul, Dasht-e Barchi", "AF", 34.50, 69.10),
        ("Herat", "AF", 34.35, 62.20),
        ("Mazar-i-Sharif", "AF", 36.71, 67.11),
        ("Bamyan", "AF", 34.82, 67.83),
        ("Ghazni", "AF", 33.55, 68.42),
        ("Kabul", "AF", 34.53, 69.17),
        ("Faizabad, Badakhshan", "AF", 37.12, 70.58),
    ),
    "afghan_pashto": _locs(
        ("Kandahar", "AF", 31.61, 65.71),
        ("Jalalabad", "AF", 34.43, 70.45),
        ("Kunduz", "AF", 36.73, 68.86),
        ("Lashkar Gah, Helmand", "AF", 31.59, 64.37),
        ("Khost", "AF", 33.34, 69.92),
        ("Gardez, Paktia", "AF", 33.60, 69.23),
        ("Spin Boldak", "AF", 31.00, 66.40),
        ("Maidan Shahr, Wardak", "AF"),
    ),
    "ukrainian": _locs(
        ("Mariupol", "UA", 47.10, 37.55),
        ("Kherson", "UA", 46.64, 32.62),
        ("Bakhmut", "UA", 48.59, 38.00),
        ("Izium", "UA", 49.21, 37.25),
        ("Kharkiv, Saltivka", "UA", 50.03, 36.35),
        ("Melitopol", "UA", 46.85, 35.37),
        ("Sievierodonetsk", "UA", 48.95, 38.49),
        ("Bucha", "UA", 50.54, 30.21),
        ("Chernihiv", "UA", 51.49, 31.29),
    ),
    "russian": _locs(
        ("Mariupol", "UA", 47.10, 37.55),
        ("Donetsk", "UA", 48.02, 37.80),
        ("Luhansk", "UA", 48.57, 39.31),
        ("Horlivka", "UA", 48.30, 38.05),
        ("Kramatorsk", "UA", 48.72, 37.56),
        ("Rostov-on-Don", "RU", 47.24, 39.71),
        ("Belgorod", "RU", 50.60, 36.59),
    ),
    "eritrean": _locs(
        ("Asmara", "ER", 15.32, 38.93),
        ("Keren", "ER", 15.78, 38.45),
        ("Mendefera", "ER", 14.89, 38.82),
        ("Dekemhare", "ER", 15.07, 39.05),
        ("Adi Quala", "ER", 14.63, 38.84),
        ("Barentu", "ER", 15.11, 37.59),
    ),
    "ethiopian": _locs(
        ("Mekelle", "ET", 13.50, 39.47),
        ("Humera", "ET", 14.29, 36.61),
        ("Shire (Inda Selassie)", "ET", 14.10, 38.28),
        ("Axum", "ET", 14.12, 38.72),
        ("Gondar", "ET", 12.60, 37.47),
        ("Dessie", "ET", 11.13, 39.63),
        ("Addis Ababa", "ET", 9.03, 38.74),
        ("Alamata", "ET", 12.42, 39.56),
        ("Adigrat", "ET", 14.28, 39.46),
    ),
    "somali": _locs(
        ("Mogadishu, Hodan district", "SO", 2.05, 45.32),
        ("Kismayo", "SO", -0.36, 42.55),
        ("Baidoa", "SO", 3.11, 43.65),
        ("Beledweyne", "SO", 4.74, 45.20),
        ("Galkayo", "SO", 6.77, 47.43),
        ("Hargeisa", "SO", 9.56, 44.06),
        ("Bosaso", "SO", 11.28, 49.18),
        ("Afgooye", "SO", 2.14, 45.12),
    ),
}

# --- cultures --------------------------------------------------------------------------------

_STYLES_ARABIC = {
    "year": 18,
    "ym": 5,
    "ymd": 18,
    "dmy": 16,
    "ca": 10,
    "age": 10,
    "cal": 13,
    "none": 10,
}
_STYLES_PERSIAN = {
    "year": 18,
    "ymd": 10,
    "dmy": 6,
    "ca": 14,
    "age": 14,
    "cal": 24,
    "calyear": 6,
    "none": 8,
}
_STYLES_GEEZ = {
    "year": 18,
    "ymd": 8,
    "dmy": 10,
    "ca": 14,
    "age": 14,
    "cal": 24,
    "calyear": 4,
    "none": 8,
}
_STYLES_SLAVIC = {"ymd": 35, "dmy": 35, "year": 10, "ym": 5, "ca": 5, "none": 10}
_STYLES_SOMALI = {"year": 28, "ca": 20, "age": 20, "dmy": 10, "ymd": 8, "jan1": 6, "none": 8}


@dataclass(frozen=True, slots=True)
class _Culture:
    key: str
    male: tuple[NameEntry, ...]
    female: tuple[NameEntry, ...]
    family: tuple[NameEntry, ...]
    structure: str  # gff | chain | chain_family | given_family | afghan | slavic
    script: str
    nationality: str
    languages: tuple[str, ...]
    extra_languages: tuple[str, ...]
    calendar: str | None  # the prefix of the culture's own calendar in date texts
    date_styles: dict[str, int]
    region: str
    translit: str | None = None  # ru | uk, for patronymics
    no_family_share: float = 0.0  # share of families without a family name (Afghan)


_CULTURES: dict[str, _Culture] = {
    c.key: c
    for c in (
        _Culture(
            "syrian",
            N.ARABIC_MALE,
            N.ARABIC_FEMALE,
            N.ARABIC_FAMILY,
            "gff",
            "Arab",
            "SY",
            ("ar",),
            ("ku", "en", "tr"),
            "hijri",
            _STYLES_ARABIC,
            "levant",
        ),
        _Culture(
            "iraqi",
            N.ARABIC_MALE,
            N.ARABIC_FEMALE,
            N.IRAQI_TRIBAL,
            "chain_family",
            "Arab",
            "IQ",
            ("ar",),
            ("ku", "en"),
            "hijri",
            _STYLES_ARABIC,
            "levant",
        ),
        _Culture(
            "sudanese",
            N.ARABIC_MALE + N.SUDANESE_MALE,
            N.ARABIC_FEMALE,
            (),
            "chain",
            "Arab",
            "SD",
            ("ar",),
            ("en", "fr"),
            "hijri",
            _STYLES_ARABIC,
            "horn",
        ),
        _Culture(
            "iranian",
            N.PERSIAN_MALE,
            N.PERSIAN_FEMALE,
            N.IRANIAN_FAMILY,
            "given_family",
            "Arab",
            "IR",
            ("fa",),
            ("en", "tr", "ku"),
            "solar-hijri",
            _STYLES_PERSIAN,
            "afghan",
        ),
        _Culture(
            "afghan_dari",
            N.PERSIAN_MALE,
            N.PERSIAN_FEMALE,
            N.AFGHAN_DARI_FAMILY,
            "afghan",
            "Arab",
            "AF",
            ("fa",),
            ("ps", "en", "ur"),
            "solar-hijri",
            _STYLES_PERSIAN,
            "afghan",
            no_family_share=0.3,
        ),
        _Culture(
            "afghan_pashto",
            N.PASHTO_MALE,
            N.PASHTO_FEMALE,
            N.PASHTO_TRIBES,
            "afghan",
            "Arab",
            "AF",
            ("ps",),
            ("fa", "ur", "en"),
            "solar-hijri",
            _STYLES_PERSIAN,
            "afghan",
            no_family_share=0.45,
        ),
        _Culture(
            "russian",
            N.RUSSIAN_MALE,
            N.RUSSIAN_FEMALE,
            N.RUSSIAN_FAMILY,
            "slavic",
            "Cyrl",
            "UA",
            ("ru",),
            ("uk", "en"),
            None,
            _STYLES_SLAVIC,
            "ukraine",
            translit="ru",
        ),
        _Culture(
            "ukrainian",
            N.UKRAINIAN_MALE,
            N.UKRAINIAN_FEMALE,
            N.UKRAINIAN_FAMILY,
            "slavic",
            "Cyrl",
            "UA",
            ("uk",),
            ("ru", "en", "pl"),
            None,
            _STYLES_SLAVIC,
            "ukraine",
            translit="uk",
        ),
        _Culture(
            "eritrean",
            N.GEEZ_MALE,
            N.GEEZ_FEMALE,
            (),
            "chain",
            "Ethi",
            "ER",
            ("ti",),
            ("ar", "am", "en"),
            "ethiopian",
            _STYLES_GEEZ,
            "horn",
        ),
        _Culture(
            "ethiopian",
            N.GEEZ_MALE,
            N.GEEZ_FEMALE,
            (),
            "chain",
            "Ethi",
            "ET",
            ("am", "ti"),
            ("om", "en"),
            "ethiopian",
            _STYLES_GEEZ,
            "horn",
        ),
        _Culture(
            "somali",
            N.SOMALI_MALE,
            N.SOMALI_FEMALE,
            (),
            "chain",
            "Latn",
            "SO",
            ("so",),
            ("ar", "en", "sw"),
            None,
            _STYLES_SOMALI,
            "horn",
        ),
    )
}

# --- societies -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Society:
    code: str
    name: str
    request_weight: float
    registration_weight: float
    cultures: dict[str, float]
    european: bool  # caseworkers there write romanisations first
    home: tuple[_Loc, ...]  # where enquirers live


_SOCIETIES: tuple[_Society, ...] = (
    _Society(
        "local",
        "Local society",
        0.27,
        0.25,
        {
            "syrian": 3,
            "iraqi": 1.5,
            "sudanese": 1.5,
            "iranian": 1,
            "afghan_dari": 1.5,
            "afghan_pashto": 1.5,
            "ukrainian": 2,
            "russian": 1,
            "eritrean": 1.5,
            "ethiopian": 1,
            "somali": 1.5,
        },
        False,
        _locs(
            ("Athens", "GR", 37.98, 23.73),
            ("Istanbul, Fatih", "TR", 41.02, 28.94),
            ("Amman", "JO", 31.95, 35.93),
            ("Nairobi, Eastleigh", "KE", -1.27, 36.85),
            ("Warsaw", "PL", 52.23, 21.01),
            ("Tehran", "IR", 35.69, 51.39),
            ("Gaziantep", "TR", 37.07, 37.38),
        ),
    ),
    _Society(
        "drk",
        "German Red Cross",
        0.2,
        0.14,
        {
            "syrian": 4,
            "iraqi": 1.5,
            "afghan_dari": 1.5,
            "afghan_pashto": 1,
            "ukrainian": 2.5,
            "russian": 0.5,
            "eritrean": 1.5,
            "somali": 1,
            "iranian": 0.5,
        },
        True,
        _locs(
            ("Berlin-Neukölln", "DE", 52.48, 13.44),
            ("Hamburg", "DE", 53.55, 9.99),
            ("München", "DE", 48.14, 11.58),
            ("Köln", "DE", 50.94, 6.96),
            ("Leipzig", "DE", 51.34, 12.37),
            ("Bremen", "DE", 53.08, 8.80),
            ("Bielefeld", "DE", 52.02, 8.53),
        ),
    ),
    _Society(
        "crl",
        "Luxembourg Red Cross",
        0.12,
        0.12,
        {
            "syrian": 2.5,
            "eritrean": 2.5,
            "afghan_dari": 1,
            "afghan_pashto": 0.5,
            "ukrainian": 2,
            "iraqi": 1,
            "somali": 0.5,
        },
        True,
        _locs(
            ("Luxembourg", "LU", 49.61, 6.13),
            ("Esch-sur-Alzette", "LU", 49.50, 5.98),
            ("Differdange", "LU", 49.52, 5.89),
            ("Ettelbruck", "LU", 49.85, 6.10),
        ),
    ),
    _Society(
        "sarc",
        "Syrian Arab Red Crescent",
        0.14,
        0.17,
        {"syrian": 8, "iraqi": 1.5, "sudanese": 0.5},
        False,
        _locs(
            ("Damascus", "SY", 33.51, 36.29),
            ("Aleppo", "SY", 36.20, 37.16),
            ("Latakia", "SY", 35.52, 35.79),
            ("Homs", "SY", 34.73, 36.72),
        ),
    ),
    _Society(
        "ercs",
        "Ethiopian Red Cross Society",
        0.13,
        0.16,
        {"ethiopian": 4, "eritrean": 3.5, "somali": 2, "sudanese": 1},
        False,
        _locs(
            ("Addis Ababa", "ET", 9.03, 38.74),
            ("Shire (Inda Selassie)", "ET", 14.10, 38.28),
            ("Gondar", "ET", 12.60, 37.47),
            ("Jijiga", "ET", 9.35, 42.80),
            ("Dollo Ado", "ET", 4.17, 42.06),
        ),
    ),
    _Society(
        "arcs",
        "Afghan Red Crescent Society",
        0.14,
        0.16,
        {"afghan_pashto": 4.5, "afghan_dari": 4, "iranian": 1},
        False,
        _locs(
            ("Kabul", "AF", 34.53, 69.17),
            ("Herat", "AF", 34.35, 62.20),
            ("Kandahar", "AF", 31.61, 65.71),
            ("Jalalabad", "AF", 34.43, 70.45),
            ("Mazar-i-Sharif", "AF", 36.71, 67.11),
        ),
    ),
)
_SOCIETY_BY_CODE = {s.code: s for s in _SOCIETIES}

# --- separation scenarios --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scenario:
    key: str
    cultures: dict[str, float]
    places: tuple[_Loc, ...]  # empty: the culture's home places
    years: tuple[int, int]
    texts: tuple[str, ...]
    fixed: datetime.date | None = None


_SCENARIOS: tuple[_Scenario, ...] = (
    _Scenario(
        "syria_conflict",
        {"syrian": 6},
        (),
        (2012, 2020),
        (
            "The family fled {place} under shelling in {when}. {Who} stayed behind to look after "
            "the house and {has} not been heard from since.",
            "Separated at a checkpoint on the road out of {place} in {when}; {who} {was} taken "
            "off the bus.",
            "Left {place} in the evacuation convoys of {when}. {Who} {was} meant to follow on the "
            "next convoy.",
            "{Who} went out to find bread in {place} in {when} during an air raid and did not "
            "come back.",
        ),
    ),
    _Scenario(
        "earthquake_2023",
        {"syrian": 2.5, "iraqi": 0.3},
        _locs(
            ("Antakya, Hatay", "TR", 36.20, 36.16),
            ("Kahramanmaraş", "TR", 37.58, 36.93),
            ("Jandairis, Afrin", "SY", 36.40, 36.69),
            ("Harem, Idlib", "SY", 36.21, 36.52),
            ("İskenderun", "TR", 36.59, 36.17),
            ("Adıyaman", "TR", 37.76, 38.28),
        ),
        (2023, 2023),
        (
            "Lost contact after the earthquake of 6 February 2023. The building in {place} where "
            "{who} lived collapsed; the family searched the hospitals for days.",
            "The family was living in {place} when the earthquake struck. {Who} {was} taken "
            "away by a rescue team; nobody knows to which hospital.",
        ),
        fixed=datetime.date(2023, 2, 6),
    ),
    _Scenario(
        "iraq_fighting",
        {"iraqi": 5},
        (),
        (2014, 2017),
        (
            "Fled {place} during the fighting in {when}. {Who} {was} separated from the family "
            "at a screening site for men and boys.",
            "{Who} stayed in {place} when the rest of the family left in {when}. The phone "
            "network went down a week later.",
            "The family was displaced from {place} in {when} and moved between camps; {who} "
            "went back for documents and {has} not returned.",
        ),
    ),
    _Scenario(
        "sudan_war",
        {"sudanese": 6},
        (),
        (2023, 2025),
        (
            "Fled {place} when the fighting reached the neighbourhood in {when}. The family was "
            "split between two trucks heading for the border.",
            "{Who} stayed in {place} when the rest of the family left in {when}; the phone lines "
            "were cut soon after.",
            "Armed men came to the house in {place} in {when}. The enquirer ran with the "
            "children; {who} {was} left behind.",
        ),
    ),
    _Scenario(
        "sea_crossing",
        {
            "syrian": 2,
            "iraqi": 1.5,
            "eritrean": 3,
            "somali": 2.5,
            "sudanese": 2,
            "afghan_dari": 1.5,
            "afghan_pashto": 1,
            "ethiopian": 1,
            "iranian": 1,
        },
        _locs(
            ("Zuwara", "LY", 32.93, 12.08),
            ("Sabratha", "LY", 32.79, 12.49),
            ("Tobruk", "LY", 32.08, 23.96),
            ("Çeşme, near Izmir", "TR", 38.32, 26.30),
            ("Ayvalık", "TR", 39.32, 26.69),
            ("Off Pylos", "GR", 36.91, 21.70),
            ("Off Lampedusa", "IT", 35.51, 12.60),
            ("Gravelines, near Calais", "FR"),
        ),
        (2014, 2025),
        (
            "Left {place} by boat in {when} with about eighty other people. The boat capsized; "
            "the enquirer was rescued, but {who} {was} not among the survivors brought ashore.",
            "Boarded a rubber boat at {place} in {when}. The smugglers put the enquirer on "
            "another boat at the last moment, and {who} stayed on the first one.",
            "{Who} called from {place} in {when} to say {they} would cross the next night. No "
            "call came after that.",
            "The boat from {place} was intercepted at sea in {when} and the passengers were "
            "taken to different places; {who} {was} separated from the enquirer on the quay.",
        ),
    ),
    _Scenario(
        "libya_detention",
        {"eritrean": 2.5, "somali": 1.5, "sudanese": 1.5, "ethiopian": 1},
        _locs(
            ("Bani Walid", "LY", 31.76, 13.99),
            ("Tripoli, Tariq al-Sikka", "LY", 32.86, 13.22),
            ("Zawiya", "LY", 32.76, 12.73),
            ("Kufra", "LY", 24.18, 23.31),
            ("Sabha", "LY", 27.04, 14.43),
        ),
        (2016, 2024),
        (
            "{Who} {was} held in a detention centre in {place} in {when}, according to other "
            "migrants released later.",
            "Kidnapped by traffickers near {place} in {when}; the family paid part of a ransom "
            "and then lost contact.",
            "Travelled through the desert to {place} in {when}. A man who was with {them} says "
            "the group was sold to another smuggler there.",
        ),
    ),
    _Scenario(
        "detention",
        {
            "syrian": 1.5,
            "iraqi": 1,
            "afghan_dari": 0.7,
            "afghan_pashto": 0.7,
            "eritrean": 0.7,
            "ethiopian": 0.5,
        },
        (),
        (2012, 2025),
        (
            "Arrested at a checkpoint near {place} in {when}. The family has had no news since.",
            "Taken from the house in {place} by armed men at night in {when}; {who} {was} not "
            "charged, as far as the family knows.",
            "{Who} {was} detained in {place} in {when}. A released detainee said {they} "
            "{was} alive some months later.",
        ),
    ),
    _Scenario(
        "migration_route",
        {"afghan_dari": 3, "afghan_pashto": 2.5, "iranian": 2, "syrian": 1, "iraqi": 1.5},
        _locs(
            ("Van, near the Iranian border", "TR", 38.50, 43.38),
            ("Evros river, near Orestiada", "GR", 41.50, 26.53),
            ("Bihać", "BA", 44.81, 15.87),
            ("Kuźnica, Polish-Belarusian border", "PL"),
            ("Subotica", "RS", 46.10, 19.67),
            ("Edirne", "TR", 41.68, 26.56),
        ),
        (2015, 2025),
        (
            "Travelled with a smuggler through Iran; the last phone call came from {place} in "
            "{when}.",
            "The group was pushed back at the border near {place} in {when} and scattered in the "
            "forest. {Who} did not reach the meeting point.",
            "{Who} went ahead on the Balkan route in {when}; the last message came from {place}.",
        ),
    ),
    _Scenario(
        "kabul_2021",
        {"afghan_dari": 2, "afghan_pashto": 1.5},
        _locs(("Kabul airport, Abbey Gate", "AF", 34.56, 69.21), ("Kabul airport", "AF")),
        (2021, 2021),
        (
            "Separated in the crowd outside Kabul airport in August 2021. The enquirer got "
            "through the gate; {who} could not.",
            "The family waited at {place} for three days in August 2021. {Who} went to find water "
            "and {was} pushed back when the gate opened.",
        ),
        fixed=datetime.date(2021, 8, 26),
    ),
    _Scenario(
        "afghan_deportation",
        {"afghan_dari": 1.5, "afghan_pashto": 1.5},
        _locs(
            ("Islam Qala border crossing", "AF", 34.66, 61.07),
            ("Torkham border crossing", "AF", 34.11, 71.09),
            ("Milak border crossing", "AF"),
        ),
        (2018, 2025),
        (
            "{Who} {was} deported from Iran through {place} in {when} while the enquirer stayed "
            "in Tehran. {They} never reached the family's village.",
            "Returned from Pakistan through {place} in {when} in the mass returns; the family "
            "lost {them} in the crowds at the crossing.",
        ),
    ),
    _Scenario(
        "ukraine_war",
        {"ukrainian": 6, "russian": 4},
        (),
        (2022, 2025),
        (
            "Lost contact during the siege of {place} in {when}. {Who} stayed in the basement of "
            "the apartment block when the enquirer was evacuated.",
            "{Who} went through a filtration point near {place} in {when}; the family has had no "
            "news since.",
            "Evacuated separately from {place} in {when}; {who} {was} put on a different bus, "
            "which went east.",
            "{Who} refused to leave {place} in {when}. The mobile network stopped working two "
            "days later.",
        ),
    ),
    _Scenario(
        "tigray_war",
        {"ethiopian": 5, "eritrean": 1.5},
        (),
        (2020, 2022),
        (
            "Fled {place} when the fighting reached the town in {when}. The enquirer believes "
            "{who} crossed into Sudan with neighbours.",
            "Lost contact when all communications in Tigray were cut in {when}; {who} lived in "
            "{place}.",
            "{Who} {was} taken from the family's house in {place} in {when} by soldiers.",
        ),
    ),
    _Scenario(
        "eritrea_exit",
        {"eritrean": 4},
        _locs(
            ("Hitsats refugee camp", "ET", 14.33, 37.91),
            ("Shagarab camp, near Kassala", "SD"),
            ("Khartoum", "SD", 15.50, 32.56),
            ("Tesseney", "ER", 15.11, 36.66),
            ("Mai Aini camp", "ET", 13.54, 37.77),
        ),
        (2013, 2021),
        (
            "{Who} left Eritrea on foot in {when} to avoid national service and reached {place}, "
            "then stopped calling.",
            "The family crossed the border together and was separated in {place} in {when} when "
            "the enquirer was moved on by smugglers.",
        ),
    ),
    _Scenario(
        "somalia_displacement",
        {"somali": 5},
        (),
        (2010, 2025),
        (
            "Displaced by drought from the area of {place} in {when}. The family walked towards "
            "the camps at Dollo Ado; {who} fell behind on the road.",
            "Separated when fighting reached {place} in {when}. The enquirer ran with a "
            "neighbour's family.",
            "{Who} left {place} in {when} to find work in Yemen, crossing from Bosaso. No news "
            "has come since.",
        ),
    ),
)

_EXTRA_SENTENCES = (
    "The enquirer has already asked at local hospitals without result.",
    "A relative abroad may have news, but the enquirer lost that number too.",
    "The family's documents were lost, so dates are approximate.",
    "{Who} may be using a different spelling of the name.",
    "The enquirer last spoke to {them} by phone a few days later.",
    "Neighbours said {they} left the area soon after.",
    "Photos of {them} are kept on the enquirer's phone.",
    "The enquirer has also registered with the UNHCR office.",
)

# --- registration sources: (text, where, regions) ---------------------------------------------

_ANY = ("levant", "horn", "afghan", "ukraine")

_SOURCES: dict[RegistrationKind, tuple[tuple[str, _Loc | None, tuple[str, ...]], ...]] = {
    RegistrationKind.SAFE_AND_WELL: (
        ("Red Cross message (RCM)", None, _ANY),
        ("SARC branch safe and well list, Aleppo", _Loc("Aleppo", "SY", 36.20, 37.16), ("levant",)),
        (
            "Safe and well list, Zaatari camp",
            _Loc("Zaatari camp, Mafraq", "JO", 32.29, 36.32),
            ("levant",),
        ),
        (
            "Camp registration, Domiz camp",
            _Loc("Domiz camp, Duhok", "IQ", 36.78, 42.89),
            ("levant",),
        ),
        ("Camp registration, Dadaab", _Loc("Dadaab", "KE", 0.05, 40.31), ("horn",)),
        (
            "Camp registration, Melkadida (Dollo Ado)",
            _Loc("Dollo Ado", "ET", 4.17, 42.06),
            ("horn",),
        ),
        ("Camp registration, Adré", _Loc("Adré", "TD", 13.47, 22.20), ("horn",)),
        ("Returnee registration, Islam Qala", _Loc("Islam Qala", "AF", 34.66, 61.07), ("afghan",)),
        ("Returnee registration, Torkham", _Loc("Torkham", "AF", 34.11, 71.09), ("afghan",)),
        (
            "Collective centre list, Zaporizhzhia",
            _Loc("Zaporizhzhia", "UA", 47.84, 35.14),
            ("ukraine",),
        ),
        ("Collective centre list, Lviv", _Loc("Lviv", "UA", 49.84, 24.03), ("ukraine",)),
        ("Reception centre list, Gießen", _Loc("Gießen", "DE", 50.58, 8.68), _ANY),
        (
            "Reception centre list, Luxembourg-Kirchberg",
            _Loc("Luxembourg", "LU", 49.63, 6.16),
            _ANY,
        ),
        (
            "Camp registration, Mavrovouni (Lesbos)",
            _Loc("Mytilene, Lesbos", "GR", 39.11, 26.55),
            ("levant", "afghan", "horn"),
        ),
    ),
    RegistrationKind.FOUND: (
        ("Tracing interview, Red Cross field office", None, _ANY),
        (
            "Coast guard disembarkation list, Lampedusa",
            _Loc("Lampedusa", "IT", 35.51, 12.60),
            ("horn", "levant"),
        ),
        (
            "Disembarkation list, Kalamata",
            _Loc("Kalamata", "GR", 37.04, 22.11),
            ("levant", "afghan", "horn"),
        ),
        (
            "Transit centre registration, Bihać",
            _Loc("Bihać", "BA", 44.81, 15.87),
            ("afghan", "levant"),
        ),
        ("ICRC tracing office, Mekelle", _Loc("Mekelle", "ET", 13.50, 39.47), ("horn",)),
        ("ARCS tracing office, Herat", _Loc("Herat", "AF", 34.35, 62.20), ("afghan",)),
        ("Trace the Face photo match", None, ("horn", "levant", "afghan")),
        (
            "Unaccompanied minors list, Athens",
            _Loc("Athens", "GR", 37.98, 23.73),
            ("afghan", "levant", "horn"),
        ),
        (
            "Evacuee list, Zaporizhzhia reception point",
            _Loc("Zaporizhzhia", "UA", 47.84, 35.14),
            ("ukraine",),
        ),
    ),
    RegistrationKind.DETAINED: (
        ("ICRC detention visit", None, _ANY),
        ("ICRC detention visit, Adra", _Loc("Adra, Rif Dimashq", "SY"), ("levant",)),
        ("ICRC detention visit, Pul-e-Charkhi", _Loc("Pul-e-Charkhi, Kabul", "AF"), ("afghan",)),
        (
            "ICRC detention visit, Ain Zara",
            _Loc("Ain Zara, Tripoli", "LY", 32.80, 13.23),
            ("horn",),
        ),
        ("ICRC detention visit, Nineveh", _Loc("Mosul", "IQ", 36.34, 43.13), ("levant",)),
        ("Prisoner of war list, ICRC Central Tracing Agency", None, ("ukraine",)),
        ("Civilian internee notification, ICRC Central Tracing Agency", None, ("ukraine",)),
    ),
    RegistrationKind.HOSPITALISED: (
        ("Hospital list, Gaziantep", _Loc("Gaziantep", "TR", 37.07, 37.38), ("levant",)),
        (
            "Hospital list, Aleppo University Hospital",
            _Loc("Aleppo", "SY", 36.21, 37.13),
            ("levant",),
        ),
        (
            "Hospital list, Ayder Referral Hospital, Mekelle",
            _Loc("Mekelle", "ET", 13.48, 39.48),
            ("horn",),
        ),
        ("Hospital list, Mirwais Regional Hospital, Kandahar", _Loc("Kandahar", "AF"), ("afghan",)),
        (
            "Hospital list, Mechnikov Hospital, Dnipro",
            _Loc("Dnipro", "UA", 48.46, 35.05),
            ("ukraine",),
        ),
        ("Hospital list, Agrigento", _Loc("Agrigento", "IT", 37.31, 13.58), ("horn", "levant")),
        (
            "Hospital list, Banadir Hospital, Mogadishu",
            _Loc("Mogadishu", "SO", 2.03, 45.31),
            ("horn",),
        ),
        ("MSF hospital list, Adré", _Loc("Adré", "TD", 13.47, 22.20), ("horn",)),
        ("Hospital list, Hatay", _Loc("Antakya, Hatay", "TR", 36.20, 36.16), ("levant",)),
    ),
    RegistrationKind.DECEASED: (
        ("Morgue list, Antakya", _Loc("Antakya, Hatay", "TR", 36.20, 36.16), ("levant",)),
        (
            "Forensic identification after shipwreck, Pylos",
            _Loc("Kalamata", "GR", 37.04, 22.11),
            ("levant", "afghan", "horn"),
        ),
        ("Burial records, Agrigento", _Loc("Agrigento", "IT", 37.31, 13.58), ("horn",)),
        ("Forensic identification, Zuwara", _Loc("Zuwara", "LY", 32.93, 12.08), ("horn",)),
        ("Morgue list, Zaporizhzhia", _Loc("Zaporizhzhia", "UA", 47.84, 35.14), ("ukraine",)),
        ("Hospital morgue list, Kabul", _Loc("Kabul", "AF", 34.53, 69.17), ("afghan",)),
    ),
}

_KIND_WEIGHTS = {
    RegistrationKind.SAFE_AND_WELL: 30,
    RegistrationKind.FOUND: 25,
    RegistrationKind.DETAINED: 14,
    RegistrationKind.HOSPITALISED: 23,
    RegistrationKind.DECEASED: 6,
}

_NOTES_ADULT = (
    "Scar above the left eyebrow.",
    "Walks with a limp.",
    "Wears glasses.",
    "Missing two front teeth.",
    "Birthmark on the right cheek.",
    "Has a gold tooth.",
    "Tattoo of a bird on the right forearm.",
    "Very tall, about 1.90 m.",
    "Short, slim build.",
    "Deaf in one ear.",
    "Diabetic, needs insulin.",
    "Speaks some English.",
    "Speaks some Italian.",
    "Had a broken arm in a cast at the time.",
)
_NOTES_MALE = (
    "Was a teacher before the war.",
    "Worked as a tailor.",
    "Worked as a taxi driver.",
    "Was studying engineering at university.",
    "Known in the neighbourhood as the baker's son.",
    "Has a beard and usually wears a white cap.",
)
_NOTES_FEMALE = (
    "Was pregnant at the time of separation.",
    "Worked as a nurse.",
    "Was travelling with a baby.",
    "Wears a dark headscarf.",
    "Was a seamstress.",
)
_NOTES_CHILD = (
    "Was wearing a red jacket.",
    "Very shy; may not give a full name.",
    "Answers to a nickname only.",
    "Has a small scar on the chin.",
)
_NOTES_REGISTRATION = (
    "Registered with a leg injury.",
    "Asked the Red Cross to contact family abroad.",
    "Could not give the father's name.",
    "Travelling alone.",
    "Registered with two children.",
    "Gave a phone number that no longer works.",
)
_NOTES_DECEASED = (
    "Identified from documents found on the body.",
    "Identified by a fellow traveller.",
    "Identification provisional; photographs kept on file.",
)

# --- people and their families ---------------------------------------------------------------


@dataclass(eq=False, slots=True)
class _Kin:
    """One real person behind the records: what is true, before anyone writes it down."""

    culture: _Culture
    sex: Sex
    birth: datetime.date
    given: NameEntry
    father: NameEntry
    grandfather: NameEntry
    mother: NameEntry
    family: NameEntry | None  # the lineage (birth) family name
    married_family: NameEntry | None = None  # a Russian/Ukrainian wife's husband's surname
    clan: str | None = None
    nationality: str = ""
    birth_place: _Loc | None = None
    nickname: NameEntry | None = None
    note: str | None = None
    spouse: _Kin | None = None
    spelling: dict[str, int] = field(default_factory=dict)
    latin_first: bool | None = None  # how the first record of this person wrote the name

    def age(self, on: datetime.date = REFERENCE_DATE) -> int:
        years = on.year - self.birth.year
        return years - ((on.month, on.day) < (self.birth.month, self.birth.day))


_UNSET: NameEntry = ("",)


def _shift_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _random_day(rng: random.Random, year: int) -> datetime.date:
    start = datetime.date(year, 1, 1)
    return start + datetime.timedelta(days=rng.randrange(365))


def _clamp_birth(day: datetime.date) -> datetime.date:
    return min(max(day, _EARLIEST_BIRTH), _LATEST_BIRTH)


class _Families:
    """Creates people and their relatives with names that agree across the family."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def given(self, culture: _Culture, sex: Sex) -> NameEntry:
        return self.rng.choice(culture.female if sex is Sex.FEMALE else culture.male)

    def family_name(self, culture: _Culture) -> NameEntry | None:
        if not culture.family or self.rng.random() < culture.no_family_share:
            return None
        return self.rng.choice(culture.family)

    def clan(self, culture: _Culture) -> str | None:
        if culture.key == "somali":
            return self.rng.choice(N.SOMALI_CLANS)
        if culture.key == "afghan_pashto":
            return self.rng.choice(N.PASHTO_TRIBES)[1]
        return None

    def person(
        self,
        culture: _Culture,
        sex: Sex,
        birth: datetime.date,
        *,
        given: NameEntry = _UNSET,
        father: NameEntry = _UNSET,
        grandfather: NameEntry = _UNSET,
        mother: NameEntry = _UNSET,
        family: NameEntry | None = _UNSET,
        clan: str | None = "",
        married_family: NameEntry | None = _UNSET,
        latest: datetime.date = _LATEST_BIRTH,
    ) -> _Kin:
        rng = self.rng
        birth = min(_clamp_birth(birth), latest)
        if father == _UNSET:
            father = self.given(culture, Sex.MALE)
        if given == _UNSET:
            given = self.given(culture, sex)
            if given == father:  # it happens, but rarely
                given = self.given(culture, sex)
        if family == _UNSET:
            family = self.family_name(culture)
        if clan == "":
            clan = family[1] if culture.key == "afghan_pashto" and family else self.clan(culture)
        kin = _Kin(
            culture=culture,
            sex=sex,
            birth=birth,
            given=given,
            father=father,
            grandfather=grandfather if grandfather != _UNSET else self.given(culture, Sex.MALE),
            mother=mother if mother != _UNSET else self.given(culture, Sex.FEMALE),
            family=family,
            clan=clan,
            nationality="RU"
            if culture.key == "russian" and rng.random() < 0.25
            else culture.nationality,
            birth_place=rng.choice(_HOME[culture.key]),
        )
        if married_family != _UNSET:
            kin.married_family = married_family
        elif (
            culture.structure == "slavic"
            and sex is Sex.FEMALE
            and kin.age() >= 22
            and rng.random() < 0.7
        ):
            kin.married_family = rng.choice(culture.family)
        kin.nickname = self._nickname(kin)
        kin.note = self._note(kin)
        return kin

    def _nickname(self, kin: _Kin) -> NameEntry | None:
        rng = self.rng
        if rng.random() > 0.16:
            return None
        culture, g = kin.culture, kin.given
        if culture.structure == "slavic":
            return N.CYRILLIC_DIMINUTIVES.get(g[0])
        if culture.key in ("syrian", "iraqi", "sudanese") and kin.age() >= 25:
            son = rng.choice(N.ARABIC_MALE)
            if kin.sex is Sex.MALE:
                return (f"أبو {son[0]}", f"Abu {son[1]}", f"Abou {son[-1]}")
            return (f"أم {son[0]}", f"Umm {son[1]}", f"Um {son[-1]}")
        if culture.key == "somali" and kin.sex is Sex.MALE:
            nick = rng.choice(N.SOMALI_NICKNAMES)
            return (f"{g[0]} {nick}", f"{g[1]} {nick}")
        if culture.key in ("afghan_dari", "afghan_pashto") and kin.sex is Sex.MALE:
            if kin.age() >= 50:
                return (f"حاجي {g[0]}", f"Haji {g[1]}", f"Hajji {g[-1]}")
            return (f"{g[0]} جان", f"{g[1]} Jan", f"{g[-1]} Jan")
        return None

    def _note(self, kin: _Kin) -> str | None:
        rng = self.rng
        if rng.random() > 0.3:
            return None
        if kin.age() < 14:
            return rng.choice(_NOTES_CHILD)
        pool = _NOTES_ADULT + (_NOTES_MALE if kin.sex is Sex.MALE else _NOTES_FEMALE)
        return rng.choice(pool)

    def ego(self, culture: _Culture, separated: datetime.date = REFERENCE_DATE) -> _Kin:
        """An enquirer (or a registered adult): at least 15 now, of any age at separation."""
        rng = self.rng
        band = rng.random()
        if band < 0.12:
            age = rng.randint(8, 17)
        elif band < 0.75:
            age = rng.randint(18, 45)
        elif band < 0.95:
            age = rng.randint(46, 65)
        else:
            age = rng.randint(66, 80)
        age = max(age, 16 - (REFERENCE_DATE.year - separated.year))
        sex = Sex.FEMALE if rng.random() < 0.5 else Sex.MALE
        return self.person(culture, sex, _random_day(rng, separated.year - age - 1))

    def around(self, kin: _Kin, years: int) -> datetime.date:
        """A birth date `years` after the person's birth year (before, when negative)."""
        return _random_day(self.rng, kin.birth.year + years)

    def spouse_of(self, ego: _Kin, latest: datetime.date = _LATEST_BIRTH) -> _Kin:
        if ego.spouse is not None:
            return ego.spouse
        rng, c = self.rng, ego.culture
        gap = rng.randint(0, 8)
        if ego.sex is Sex.MALE:
            wife_married = ego.family if c.structure == "slavic" else _UNSET
            spouse = self.person(
                c, Sex.FEMALE, self.around(ego, gap), latest=latest, married_family=wife_married
            )
        else:
            husband_family = ego.married_family if ego.married_family else _UNSET
            spouse = self.person(
                c, Sex.MALE, self.around(ego, -gap), latest=latest, family=husband_family
            )
            if c.structure == "slavic" and ego.married_family is None and spouse.family:
                ego.married_family = spouse.family
        spouse.spouse = ego
        ego.spouse = spouse
        return spouse

    def relative(
        self, ego: _Kin, rel: Relationship, before: datetime.date = REFERENCE_DATE
    ) -> _Kin:
        """The person who is `rel` of `ego` (ego's mother, ego's brother, ...), born at least
        some months `before` (the separation)."""
        kin = self._relative(ego, rel, before)
        latest = before - datetime.timedelta(days=180)
        if kin.birth > latest:
            kin.birth = latest - datetime.timedelta(days=self.rng.randrange(540))
        return kin

    def _relative(self, ego: _Kin, rel: Relationship, before: datetime.date) -> _Kin:
        rng, c, R = self.rng, ego.culture, Relationship
        years = rng.randint
        slavic = c.structure == "slavic"
        ego_age = ego.age(before)
        if rel is R.FATHER:
            return self.person(
                c,
                Sex.MALE,
                self.around(ego, -years(20, 45)),
                given=ego.father,
                father=ego.grandfather,
                family=ego.family,
                clan=ego.clan,
            )
        if rel is R.MOTHER:
            return self.person(
                c,
                Sex.FEMALE,
                self.around(ego, -years(17, 40)),
                given=ego.mother,
                married_family=ego.family if slavic else None,
            )
        if rel in (R.BROTHER, R.SISTER, R.HALF_BROTHER, R.HALF_SISTER):
            sex = Sex.MALE if rel in (R.BROTHER, R.HALF_BROTHER) else Sex.FEMALE
            offset = rng.choice((-1, 1)) * years(1, 12)
            half = rel in (R.HALF_BROTHER, R.HALF_SISTER)
            return self.person(
                c,
                sex,
                self.around(ego, offset),
                father=ego.father,
                grandfather=ego.grandfather,
                family=ego.family,
                clan=ego.clan,
                mother=_UNSET if half else ego.mother,
            )
        if rel in (R.SON, R.DAUGHTER):
            sex = Sex.MALE if rel is R.SON else Sex.FEMALE
            gap = years(18, max(18, min(40, ego_age - 1)))
            birth = self.around(ego, gap)
            if ego.sex is Sex.MALE:
                mother = self.spouse_of(ego, before).given
                return self.person(
                    c,
                    sex,
                    birth,
                    father=ego.given,
                    grandfather=ego.father,
                    family=ego.family,
                    clan=ego.clan,
                    mother=mother,
                )
            husband = self.spouse_of(ego, before)
            return self.person(
                c,
                sex,
                birth,
                father=husband.given,
                grandfather=husband.father,
                family=husband.family,
                clan=husband.clan,
                mother=ego.given,
            )
        if rel is R.SPOUSE:
            return self.spouse_of(ego, before)
        if rel is R.FIANCE:
            sex = Sex.FEMALE if ego.sex is Sex.MALE else Sex.MALE
            return self.person(c, sex, self.around(ego, years(-4, 4)), married_family=None)
        if rel is R.GRANDFATHER:
            return self.person(
                c,
                Sex.MALE,
                self.around(ego, -years(42, 65)),
                given=ego.grandfather,
                family=ego.family,
                clan=ego.clan,
            )
        if rel is R.GRANDMOTHER:
            return self.person(
                c,
                Sex.FEMALE,
                self.around(ego, -years(38, 62)),
                married_family=ego.family if slavic else None,
            )
        if rel in (R.GRANDSON, R.GRANDDAUGHTER):
            sex = Sex.MALE if rel is R.GRANDSON else Sex.FEMALE
            gap = years(40, max(40, min(62, ego_age - 1)))
            birth = self.around(ego, gap)
            if ego.sex is Sex.MALE:
                return self.person(
                    c,
                    sex,
                    birth,
                    father=self.given(c, Sex.MALE),
                    grandfather=ego.given,
                    family=ego.family,
                    clan=ego.clan,
                )
            return self.person(c, sex, birth)
        if rel in (R.UNCLE, R.AUNT):
            sex = Sex.MALE if rel is R.UNCLE else Sex.FEMALE
            return self.person(
                c,
                sex,
                self.around(ego, -years(14, 35)),
                father=ego.grandfather,
                family=ego.family,
                clan=ego.clan,
            )
        if rel in (R.NEPHEW, R.NIECE):
            sex = Sex.MALE if rel is R.NEPHEW else Sex.FEMALE
            gap = years(8, max(8, min(35, ego_age - 1)))
            return self.person(
                c,
                sex,
                self.around(ego, gap),
                father=self.given(c, Sex.MALE),
                grandfather=ego.father,
                family=ego.family,
                clan=ego.clan,
            )
        if rel is R.COUSIN:
            sex = rng.choice((Sex.MALE, Sex.FEMALE))
            return self.person(
                c,
                sex,
                self.around(ego, years(-12, 12)),
                father=self.given(c, Sex.MALE),
                grandfather=ego.grandfather,
                family=ego.family,
                clan=ego.clan,
            )
        sex = rng.choice((Sex.MALE, Sex.FEMALE))
        return self.person(
            c, sex, self.around(ego, years(-25, 25)), family=ego.family, clan=ego.clan
        )


# (relationship, weight, minimum and maximum age of the enquirer at separation)
_RELATIONSHIPS: tuple[tuple[Relationship, float, int, int], ...] = (
    (Relationship.MOTHER, 12, 0, 65),
    (Relationship.FATHER, 10, 0, 60),
    (Relationship.BROTHER, 12, 4, 78),
    (Relationship.SISTER, 9, 4, 78),
    (Relationship.SPOUSE, 12, 18, 85),
    (Relationship.SON, 10, 21, 90),
    (Relationship.DAUGHTER, 8, 21, 90),
    (Relationship.HALF_BROTHER, 1.5, 4, 60),
    (Relationship.HALF_SISTER, 1, 4, 60),
    (Relationship.GRANDMOTHER, 1, 0, 30),
    (Relationship.GRANDFATHER, 1, 0, 28),
    (Relationship.GRANDSON, 1.5, 50, 95),
    (Relationship.GRANDDAUGHTER, 1, 50, 95),
    (Relationship.UNCLE, 3, 0, 50),
    (Relationship.AUNT, 2, 0, 50),
    (Relationship.NEPHEW, 2.5, 26, 85),
    (Relationship.NIECE, 2, 26, 85),
    (Relationship.COUSIN, 3, 6, 70),
    (Relationship.FIANCE, 1, 18, 35),
    (Relationship.OTHER_RELATIVE, 0.7, 12, 95),
)

_ONCE = (
    Relationship.MOTHER,
    Relationship.FATHER,
    Relationship.SPOUSE,
    Relationship.FIANCE,
    Relationship.GRANDFATHER,
)


def _inverse(rel: Relationship, enquirer_sex: Sex) -> Relationship:
    """What an enquirer is to their sought person, when the sought person is `rel` of them."""
    R = Relationship
    male = enquirer_sex is not Sex.FEMALE
    table = {
        R.MOTHER: R.SON if male else R.DAUGHTER,
        R.FATHER: R.SON if male else R.DAUGHTER,
        R.SON: R.FATHER if male else R.MOTHER,
        R.DAUGHTER: R.FATHER if male else R.MOTHER,
        R.BROTHER: R.BROTHER if male else R.SISTER,
        R.SISTER: R.BROTHER if male else R.SISTER,
        R.HALF_BROTHER: R.HALF_BROTHER if male else R.HALF_SISTER,
        R.HALF_SISTER: R.HALF_BROTHER if male else R.HALF_SISTER,
        R.GRANDMOTHER: R.GRANDSON if male else R.GRANDDAUGHTER,
        R.GRANDFATHER: R.GRANDSON if male else R.GRANDDAUGHTER,
        R.GRANDSON: R.GRANDFATHER if male else R.GRANDMOTHER,
        R.GRANDDAUGHTER: R.GRANDFATHER if male else R.GRANDMOTHER,
        R.UNCLE: R.NEPHEW if male else R.NIECE,
        R.AUNT: R.NEPHEW if male else R.NIECE,
        R.NEPHEW: R.UNCLE if male else R.AUNT,
        R.NIECE: R.UNCLE if male else R.AUNT,
    }
    return table.get(rel, rel)


# --- Cyrillic: patronymics, feminine surnames, transliteration --------------------------------

_CYR_VOWELS = "аеёиоуыэюяіїєьъ"
_TRANSLIT: dict[str, dict[str, str]] = {
    "ru": dict(
        zip(
            "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
            [
                "a",
                "b",
                "v",
                "g",
                "d",
                "e",
                "yo",
                "zh",
                "z",
                "i",
                "y",
                "k",
                "l",
                "m",
                "n",
                "o",
                "p",
                "r",
                "s",
                "t",
                "u",
                "f",
                "kh",
                "ts",
                "ch",
                "sh",
                "shch",
                "",
                "y",
                "",
                "e",
                "yu",
                "ya",
            ],
            strict=True,
        )
    ),
    "uk": dict(
        zip(
            "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
            [
                "a",
                "b",
                "v",
                "h",
                "g",
                "d",
                "e",
                "ie",
                "zh",
                "z",
                "y",
                "i",
                "i",
                "i",
                "k",
                "l",
                "m",
                "n",
                "o",
                "p",
                "r",
                "s",
                "t",
                "u",
                "f",
                "kh",
                "ts",
                "ch",
                "sh",
                "shch",
                "",
                "iu",
                "ia",
            ],
            strict=True,
        )
    ),
    "de": dict(
        zip(
            "абвгґдеёєжзиіїйклмнопрстуфхцчшщъыьэюя",
            [
                "a",
                "b",
                "w",
                "g",
                "g",
                "d",
                "e",
                "jo",
                "je",
                "sch",
                "s",
                "i",
                "i",
                "ji",
                "j",
                "k",
                "l",
                "m",
                "n",
                "o",
                "p",
                "r",
                "s",
                "t",
                "u",
                "f",
                "ch",
                "z",
                "tsch",
                "sch",
                "schtsch",
                "",
                "y",
                "",
                "e",
                "ju",
                "ja",
            ],
            strict=True,
        )
    ),
}
_TRANSLIT["de_uk"] = {**_TRANSLIT["de"], "г": "h", "и": "y", "е": "e"}
# Forms at the start of a word (and, for Russian e, also after a vowel or a soft sign).
_TRANSLIT_INITIAL: dict[str, dict[str, str]] = {
    "ru": {"е": "ye"},
    "uk": {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"},
    "de": {"е": "je"},
    "de_uk": {},
}


def _transliterate(text: str, scheme: str) -> str:
    """Romanise Cyrillic: `ru` (BGN/PCGN-like), `uk` (Ukrainian national 2010), `de`/`de_uk`
    (German Duden-style, for Russian and Ukrainian)."""
    table, initial = _TRANSLIT[scheme], _TRANSLIT_INITIAL[scheme]
    out: list[str] = []
    previous = ""
    for char in text:
        low = char.lower()
        soft = not previous.isalpha() or (scheme in ("ru", "de") and previous in _CYR_VOWELS)
        piece = initial[low] if soft and low in initial else table.get(low, char)
        out.append(piece.capitalize() if char.isupper() else piece)
        previous = low
    return "".join(out)


def _patronymic(father: str, female: bool, language: str) -> str:
    if father in N.PATRONYMIC_EXCEPTIONS:
        return N.PATRONYMIC_EXCEPTIONS[father][female]
    if language == "uk":
        if father.endswith("ій"):
            return father + "ович" if not female else father[:-1] + "ївна"
        if father.endswith(("о", "ь")):
            father = father[:-1]
        return father + ("івна" if female else "ович")
    if father.endswith("ий"):
        stem = father[:-2] + "ь"
    elif father.endswith(("й", "ь")):
        stem = father[:-1]
    else:
        return father + ("овна" if female else "ович")
    return stem + ("евна" if female else "евич")


def _patronymic_entry(father: NameEntry, female: bool, culture: _Culture) -> NameEntry:
    language = culture.translit or "ru"
    native = _patronymic(father[0], female, language)
    german = "de_uk" if language == "uk" else "de"
    return (native, _transliterate(native, language), _transliterate(native, german))


_LATIN_SKY = re.compile(r"sk(?:yi|yy|yj|iy|ij|ii|y|i)$")


def _feminine_surname(entry: NameEntry) -> NameEntry:
    native = entry[0]
    if native.endswith(("ов", "ев", "ёв", "ин")):
        return (native + "а", *(latin + "a" for latin in entry[1:]))
    if native.endswith("ский"):
        latins = (_LATIN_SKY.sub("skaya", latin) for latin in entry[1:])
        return (native[:-2] + "ая", *dict.fromkeys(latins))
    if native.endswith("ський"):
        latins = (_LATIN_SKY.sub("ska", latin) for latin in entry[1:])
        return (native[:-2] + "а", *dict.fromkeys(latins))
    return entry


# --- dates as people write them --------------------------------------------------------------

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _pick(rng: random.Random, weights: dict[str, int] | dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _calendar_text(calendar: str, day: datetime.date, *, full: bool) -> str:
    """`day` in another calendar, as `hijri:1410-08-10`, `solar-hijri:1369`, ..."""
    if calendar == "hijri":
        hijri = Gregorian(day.year, day.month, day.day).to_hijri()
        year, month, dom = hijri.year, hijri.month, min(hijri.day, 29)
    elif calendar == "solar-hijri":
        solar = jdatetime.date.fromgregorian(date=day)
        year, month, dom = solar.year, solar.month, solar.day
        if month == 12:
            dom = min(dom, 29)
    else:
        year, month, dom = coptic.from_gregorian(day.year, day.month, day.day)
        year += 276  # the Ethiopian era is the Coptic one plus 276 years, same months and leaps
    if not full:
        return f"{calendar}:{year}"
    return f"{calendar}:{year:04d}-{month:02d}-{dom:02d}"


def _date_text(
    rng: random.Random,
    style: str,
    day: datetime.date,
    interview: datetime.date,
    calendar: str | None,
) -> str | None:
    """One fuzzy-date text for `day` in `style`; None for no date at all."""
    if style == "none":
        return None
    if style in ("cal", "calyear"):
        if calendar is None:
            return day.isoformat()
        return _calendar_text(calendar, day, full=style == "cal")
    if style == "age":
        age = interview.year - day.year - ((interview.month, interview.day) < (day.month, day.day))
        if age < 1:
            return str(day.year)
        if age > 20 and rng.random() < 0.4:
            age = 5 * round(age / 5)
        return f"about {age} years old in {interview.year}"
    if style == "ca":
        return f"ca. {day.year + rng.choice((-2, -1, 0, 0, 0, 1, 2))}"
    if style == "year":
        return str(day.year)
    if style == "ym":
        return f"{day.year}-{day.month:02d}"
    if style == "dmy":
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    if style == "jan1":
        return rng.choice((f"01/01/{day.year}", f"{day.year}-01-01"))
    return day.isoformat()


def _fuzzy(text: str | None) -> FuzzyDateIn | None:
    return FuzzyDateIn(text=text) if text is not None else None


# --- names as people write them --------------------------------------------------------------

_Component = tuple[str, NameEntry]


def _components(kin: _Kin, *, maiden: bool = False) -> list[_Component]:
    culture, structure = kin.culture, kin.culture.structure
    parts: list[_Component] = [("given", kin.given)]
    if structure == "gff":
        parts.append(("father", kin.father))
    elif structure in ("chain", "chain_family"):
        parts += [("father", kin.father), ("grandfather", kin.grandfather)]
    elif structure == "slavic":
        parts.append(("other", _patronymic_entry(kin.father, kin.sex is Sex.FEMALE, culture)))
    family = kin.family if maiden or kin.married_family is None else kin.married_family
    if family is not None and structure != "chain":
        if structure == "slavic" and kin.sex is Sex.FEMALE:
            family = _feminine_surname(family)
        parts.append(("family", family))
    return parts


def _without_father(parts: list[_Component], structure: str) -> list[_Component]:
    """The name as a form with fewer boxes writes it: nasab or patronymic dropped."""
    dropped = ("grandfather",) if structure == "chain" else ("father", "grandfather", "other")
    kept = [part for part in parts if part[0] not in dropped]
    return kept if len(kept) >= 2 else parts


class _Writer:
    """Writes people down: names in a script and spelling, dates in a form."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def latin(self, kin: _Kin, entry: NameEntry, *, respell: bool = False) -> str:
        if len(entry) == 1:
            return entry[0]
        chosen = kin.spelling.get(entry[0])
        if chosen is None:
            chosen = 1 if self.rng.random() < 0.45 else self.rng.randrange(1, len(entry))
            kin.spelling[entry[0]] = chosen
        elif respell and len(entry) > 2:
            chosen = self.rng.choice([i for i in range(1, len(entry)) if i != chosen])
        return entry[chosen]

    def text(self, kin: _Kin, entry: NameEntry, *, latin: bool) -> str:
        return self.latin(kin, entry) if latin else entry[0]

    def name(
        self,
        kin: _Kin,
        parts: list[_Component],
        *,
        kind: NameKind,
        latin: bool,
        swap: bool = False,
        respell: bool = False,
    ) -> NameCreate:
        words = [
            (role, self.latin(kin, entry, respell=respell) if latin else entry[0])
            for role, entry in parts
        ]
        if swap and any(role == "family" for role, _ in words):
            family = [(r, t.upper() if latin else t) for r, t in words if r == "family"]
            words = family + [(r, t) for r, t in words if r != "family"]
        full_name = " ".join(text for _, text in words)
        script = "Latn" if latin else kin.culture.script
        structured = self.rng.random() < 0.85
        return NameCreate(
            kind=kind,
            full_name=full_name,
            script=script,
            parts=NameParts(**dict(words)) if structured else None,
        )

    def names(
        self,
        kin: _Kin,
        *,
        latin_first: bool,
        alias: float,
        drop: bool = False,
        swap: bool = False,
        respell: bool = False,
    ) -> list[NameCreate]:
        rng, structure = self.rng, kin.culture.structure
        if kin.latin_first is None:
            kin.latin_first = latin_first
        full = _components(kin)
        parts = _without_father(full, structure) if drop else full
        swap = swap and (latin_first or structure == "slavic")
        names = [
            self.name(
                kin, parts, kind=NameKind.PRIMARY, latin=latin_first, swap=swap, respell=respell
            )
        ]
        if rng.random() < alias:
            names.append(
                self.name(kin, full, kind=NameKind.ALIAS, latin=not latin_first, respell=respell)
            )
            if rng.random() < 0.12:
                names.append(self.name(kin, full, kind=NameKind.ALIAS, latin=True, respell=True))
        if kin.nickname is not None and rng.random() < 0.6:
            latin = rng.random() < 0.5
            nickname = self.latin(kin, kin.nickname) if latin else kin.nickname[0]
            script = "Latn" if latin else kin.culture.script
            names.append(NameCreate(kind=NameKind.NICKNAME, full_name=nickname, script=script))
        if kin.married_family is not None and rng.random() < 0.7:
            maiden = _components(kin, maiden=True)
            names.append(self.name(kin, maiden, kind=NameKind.MAIDEN, latin=latin_first))
        unique: dict[str | None, NameCreate] = {}
        for name in names:
            unique.setdefault(name.full_name, name)
        return list(unique.values())

    def birth_date(
        self, kin: _Kin, interview: datetime.date, *, european: bool, planted: bool = False
    ) -> FuzzyDateIn | None:
        rng, culture = self.rng, kin.culture
        style = _pick(rng, culture.date_styles)
        if european and style in ("cal", "calyear") and rng.random() < 0.6:
            style = rng.choice(("ymd", "dmy", "year"))
        day = kin.birth
        if planted:
            roll = rng.random()
            if roll < 0.2:
                day = _shift_years(day, rng.choice((-1, 1)))
            elif roll < 0.4:
                style = "year"
            elif roll < 0.5 and day.day <= 12 and day.day != day.month:
                return FuzzyDateIn(text=f"{day.month:02d}/{day.day:02d}/{day.year}")
            elif roll < 0.6:
                style = "age"
        return _fuzzy(_date_text(rng, style, day, interview, culture.calendar))

    def person_fields(
        self,
        kin: _Kin,
        interview: datetime.date,
        *,
        latin: bool,
        european: bool,
        planted: bool = False,
    ) -> dict[str, Any]:
        rng, culture = self.rng, kin.culture
        fields: dict[str, Any] = {
            "sex": kin.sex,
            "birth_date": self.birth_date(kin, interview, european=european, planted=planted),
        }
        if kin.birth_place is not None and rng.random() < 0.35:
            fields["birth_place"] = kin.birth_place.place(rng, 0.3)
        if rng.random() < 0.85:
            fields["nationalities"] = [kin.nationality]
        if rng.random() < 0.7:
            languages = [rng.choice(culture.languages)]
            if rng.random() < 0.3:
                languages.append(rng.choice(culture.extra_languages))
            fields["languages"] = languages
        single_name = culture.structure == "afghan" and kin.family is None
        if rng.random() < (0.8 if single_name else 0.2):
            fields["father_name"] = self.text(kin, kin.father, latin=latin)
        if rng.random() < 0.2:
            fields["mother_name"] = self.text(kin, kin.mother, latin=latin)
        if kin.clan is not None and rng.random() < 0.55:
            fields["tribe_clan"] = kin.clan
        if kin.note is not None and rng.random() < 0.8:
            fields["notes"] = kin.note
        return fields


# --- tracing requests ------------------------------------------------------------------------

_REL_WORDS = {
    Relationship.HALF_BROTHER: "half-brother",
    Relationship.HALF_SISTER: "half-sister",
    Relationship.OTHER_RELATIVE: "relative",
}


def _rel_word(rel: Relationship, sought: _Kin) -> str:
    if rel is Relationship.SPOUSE:
        return "wife" if sought.sex is Sex.FEMALE else "husband"
    if rel is Relationship.FIANCE:
        return "fiancée" if sought.sex is Sex.FEMALE else "fiancé"
    return _REL_WORDS.get(rel, rel.value)


def _who(enquirer: _Kin, sought: Sequence[tuple[_Kin, Relationship]]) -> dict[str, str]:
    """The words circumstances use for the sought persons, from the enquirer's side."""
    counts: dict[str, int] = {}
    for kin, rel in sought:
        word = _rel_word(rel, kin)
        counts[word] = counts.get(word, 0) + 1
    numbers = {2: "two", 3: "three"}
    words = [word if n == 1 else f"{numbers[n]} {word}s" for word, n in counts.items()]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    who = f"{'his' if enquirer.sex is Sex.MALE else 'her'} {listed}"
    if len(sought) > 1:
        they, them = "they", "them"
    elif sought[0][0].sex is Sex.FEMALE:
        they, them = "she", "her"
    else:
        they, them = "he", "him"
    plural = len(sought) > 1
    return {
        "who": who,
        "Who": who[0].upper() + who[1:],
        "they": they,
        "They": they.capitalize(),
        "them": them,
        "was": "were" if plural else "was",
        "has": "have" if plural else "has",
    }


@dataclass(eq=False, slots=True)
class _Draft:
    """A tracing request before it is written down."""

    society: _Society
    culture: _Culture
    enquirer: _Kin
    sought: list[tuple[_Kin, Relationship]]
    scenario: _Scenario
    place: _Loc
    separated: datetime.date
    opened: datetime.date = REFERENCE_DATE


class _Builder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.families = _Families(rng)
        self.writer = _Writer(rng)

    # -- drafting --

    def culture_for(self, society: _Society) -> _Culture:
        return _CULTURES[_pick(self.rng, society.cultures)]

    def society_for(self, culture: _Culture, *, avoid: _Society | None = None) -> _Society:
        choices = {
            s.code: s.cultures[culture.key]
            for s in _SOCIETIES
            if culture.key in s.cultures and s is not avoid
        }
        if not choices:
            return avoid if avoid is not None else _SOCIETY_BY_CODE["local"]
        return _SOCIETY_BY_CODE[_pick(self.rng, choices)]

    def sought_for(
        self, enquirer: _Kin, separated: datetime.date
    ) -> list[tuple[_Kin, Relationship]]:
        rng, age = self.rng, enquirer.age(separated)
        options = [(rel, w) for rel, w, low, high in _RELATIONSHIPS if low <= age <= high]
        wanted = rng.choices((1, 2, 3), weights=(60, 30, 10))[0]
        chosen: list[Relationship] = []
        for _ in range(8):
            if len(chosen) == wanted:
                break
            rel = rng.choices([r for r, _ in options], weights=[w for _, w in options])[0]
            if rel in chosen and rel in _ONCE:
                continue
            chosen.append(rel)
        return [(self.families.relative(enquirer, rel, separated), rel) for rel in chosen]

    def separation(self, culture: _Culture) -> tuple[_Scenario, _Loc, datetime.date]:
        rng = self.rng
        key = _pick(
            rng, {s.key: s.cultures[culture.key] for s in _SCENARIOS if culture.key in s.cultures}
        )
        scenario = next(s for s in _SCENARIOS if s.key == key)
        if scenario.fixed is not None:
            day = scenario.fixed
        else:
            low = datetime.date(scenario.years[0], 1, 1)
            high = min(
                datetime.date(scenario.years[1], 12, 31),
                REFERENCE_DATE - datetime.timedelta(days=60),
            )
            day = low + datetime.timedelta(days=rng.randint(0, (high - low).days))
        place = rng.choice(scenario.places or _HOME[culture.key])
        return scenario, place, day

    def draft(self, society: _Society) -> _Draft:
        culture = self.culture_for(society)
        scenario, place, day = self.separation(culture)
        enquirer = self.families.ego(culture, day)
        sought = self.sought_for(enquirer, day)
        return _Draft(society, culture, enquirer, sought, scenario, place, day)

    def reciprocal(self, first: _Draft, sought: _Kin, rel: Relationship) -> _Draft:
        """The sought person's own request, seeking the first enquirer back."""
        avoid = first.society if self.rng.random() < 0.75 else None
        society = self.society_for(first.culture, avoid=avoid)
        back = _inverse(rel, first.enquirer.sex)
        return _Draft(
            society,
            first.culture,
            sought,
            [(first.enquirer, back)],
            first.scenario,
            first.place,
            first.separated,
        )

    def same_sought(self, first: _Draft, parent: _Kin, rel: Relationship) -> _Draft:
        """A sibling of the first enquirer, seeking the same parent."""
        rng, ego = self.rng, first.enquirer
        sibling_rel = rng.choice((Relationship.BROTHER, Relationship.SISTER))
        sibling = self.families.relative(ego, sibling_rel, first.separated)
        if sibling.age() < 16:
            sibling.birth = self.families.around(ego, -rng.randint(1, 8))
        society = first.society if rng.random() < 0.4 else self.society_for(first.culture)
        return _Draft(
            society,
            first.culture,
            sibling,
            [(parent, rel)],
            first.scenario,
            first.place,
            first.separated,
        )

    # -- writing --

    def latin_first(self, society: _Society) -> bool:
        share = 0.65 if society.european else (0.45 if society.code == "local" else 0.15)
        return self.rng.random() < share

    def separation_text(self, draft: _Draft) -> tuple[str, str]:
        """(fuzzy date text, the words for it in circumstances)."""
        rng, day = self.rng, draft.separated
        month_year = f"{_MONTHS[day.month - 1]} {day.year}"
        if draft.scenario.fixed is not None:
            return rng.choice(((day.isoformat(), month_year), (f"{day:%Y-%m}", month_year)))
        if draft.society.code == "ercs" and rng.random() < 0.15:
            return _calendar_text("ethiopian", day, full=True), month_year
        style = rng.choices(("year", "ym", "ymd", "ca", "dmy"), weights=(35, 35, 15, 10, 5))[0]
        if style == "year":
            return str(day.year), str(day.year)
        if style == "ca":
            return f"ca. {day.year}", f"about {day.year}"
        return _date_text(rng, style, day, day, None) or str(day.year), month_year

    def circumstances(self, draft: _Draft, when: str) -> str:
        rng = self.rng
        words = _who(draft.enquirer, draft.sought)
        place = draft.place.text
        text = rng.choice(draft.scenario.texts).format(place=place, when=when, **words)
        if rng.random() < 0.45:
            text += " " + rng.choice(_EXTRA_SENTENCES).format(**words)
        return text

    def request(self, draft: _Draft, reference: str) -> TracingRequestCreate:
        rng, writer, society = self.rng, self.writer, draft.society
        latin = self.latin_first(society)
        date_text, when = self.separation_text(draft)
        persons: list[RequestPersonCreate] = []
        enquirer = draft.enquirer
        fields = writer.person_fields(
            enquirer, draft.opened, latin=latin, european=society.european
        )
        if rng.random() < 0.5:
            fields["last_known_place"] = rng.choice(society.home).place(rng, 0.2)
        persons.append(
            RequestPersonCreate(
                role=PersonRole.ENQUIRER,
                names=writer.names(enquirer, latin_first=latin, alias=0.6),
                **fields,
            )
        )
        for kin, rel in draft.sought:
            own_latin = latin if rng.random() < 0.85 else not latin
            fields = writer.person_fields(
                kin, draft.opened, latin=own_latin, european=society.european
            )
            if rng.random() < 0.6:
                fields["last_known_place"] = draft.place.place(rng, 0.4)
            if rng.random() < 0.4:
                fields["last_known_date"] = FuzzyDateIn(text=date_text)
            persons.append(
                RequestPersonCreate(
                    role=PersonRole.SOUGHT_PERSON,
                    relationship_to_enquirer=rel,
                    names=writer.names(
                        kin, latin_first=own_latin, alias=0.5, drop=rng.random() < 0.1
                    ),
                    **fields,
                )
            )
        status = TracingRequestStatus.SEARCHING if rng.random() < 0.4 else TracingRequestStatus.OPEN
        return TracingRequestCreate(
            reference_number=reference,
            status=status,
            opened_on=draft.opened,
            circumstances=self.circumstances(draft, when),
            separation_place=draft.place.place(rng, 0.5),
            separation_date=FuzzyDateIn(text=date_text),
            persons=persons,
        )

    # -- registrations --

    def registration(
        self,
        kin: _Kin,
        society: _Society,
        *,
        planted: bool,
        after: datetime.date | None = None,
    ) -> RegistrationCreate:
        rng, writer = self.rng, self.writer
        weights = dict(_KIND_WEIGHTS)
        if kin.age() < 18:
            weights[RegistrationKind.DETAINED] = 2
            weights[RegistrationKind.DECEASED] = 2
        kind = RegistrationKind(_pick(rng, {k.value: w for k, w in weights.items()}))
        region = kin.culture.region
        minor = kin.age() < 18
        source, where, _ = rng.choice(
            [s for s in _SOURCES[kind] if region in s[2] and (minor or "minors" not in s[0])]
        )
        start = after or REFERENCE_DATE - datetime.timedelta(days=4 * 365)
        start += datetime.timedelta(days=10)
        span = max(1, (REFERENCE_DATE - start).days)
        registered = start + datetime.timedelta(days=rng.randrange(span))
        if planted:
            latin = (not kin.latin_first) if rng.random() < 0.6 else bool(kin.latin_first)
            names = writer.names(
                kin,
                latin_first=latin,
                alias=0.3,
                drop=rng.random() < 0.35,
                swap=rng.random() < 0.25,
                respell=True,
            )
        else:
            latin = self.latin_first(society)
            names = writer.names(
                kin, latin_first=latin, alias=0.3, drop=rng.random() < 0.15, swap=rng.random() < 0.1
            )
        fields = writer.person_fields(
            kin, registered, latin=latin, european=society.european, planted=planted
        )
        fields.pop("notes", None)
        if rng.random() < 0.03:
            fields["sex"] = Sex.UNKNOWN
        if kind is RegistrationKind.DECEASED and rng.random() < 0.8:
            fields["notes"] = rng.choice(_NOTES_DECEASED)
        elif rng.random() < 0.3:
            fields["notes"] = rng.choice(_NOTES_REGISTRATION)
        elif kin.note is not None and rng.random() < 0.3:
            fields["notes"] = kin.note
        if where is not None:
            fields["last_known_place"] = where.place(rng, 0.5)
        if rng.random() < 0.5:
            fields["last_known_date"] = FuzzyDateIn(text=registered.isoformat())
        return RegistrationCreate(
            names=names,
            registration_kind=kind,
            registration_source=source,
            registration_date=registered,
            **fields,
        )

    def decoy(self, society: _Society, sought: Sequence[tuple[_Kin, _Draft]]) -> _Kin:
        """Someone registered who is nobody's sought person (sometimes a sought person's kin)."""
        rng, families = self.rng, self.families
        if sought and rng.random() < 0.12:
            kin, _ = rng.choice(sought)
            rel = rng.choice((Relationship.BROTHER, Relationship.SISTER, Relationship.COUSIN))
            return families.relative(kin, rel)
        culture = self.culture_for(society)
        if rng.random() < 0.1:
            sex = rng.choice((Sex.MALE, Sex.FEMALE))
            age = rng.randint(6, 17)
            return families.person(culture, sex, _random_day(rng, REFERENCE_DATE.year - age - 1))
        return families.ego(culture)


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder, deterministic)."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def generate_demo(
    seed: int = 2026, *, requests_total: int = 300, registrations_total: int = 400
) -> list[DemoSociety]:
    """The demo data set for `seed`: one `DemoSociety` per society, same seed same data.

    `requests_total` tracing requests and `registrations_total` registrations are spread over
    the societies; see the module docstring for the true matches planted among them.
    """
    if requests_total < 0 or registrations_total < 0:
        raise ValueError("totals must not be negative")
    rng = random.Random(seed)
    builder = _Builder(rng)

    reciprocal_count, same_sought_count = requests_total // 50, requests_total // 60
    base_count = requests_total - reciprocal_count - same_sought_count
    drafts: list[_Draft] = []
    for society, count in zip(
        _SOCIETIES, _allocate(base_count, [s.request_weight for s in _SOCIETIES]), strict=True
    ):
        drafts += [builder.draft(society) for _ in range(count)]
    base = list(drafts)

    candidates = [
        (draft, kin, rel)
        for draft in base
        for kin, rel in draft.sought
        if kin.age() >= 15 and rel is not Relationship.OTHER_RELATIVE
    ]
    for draft, kin, rel in rng.sample(candidates, min(reciprocal_count, len(candidates))):
        drafts.append(builder.reciprocal(draft, kin, rel))
    parents = [
        (draft, kin, rel)
        for draft in base
        for kin, rel in draft.sought
        if rel in (Relationship.MOTHER, Relationship.FATHER)
    ]
    for draft, kin, rel in rng.sample(parents, min(same_sought_count, len(parents))):
        drafts.append(builder.same_sought(draft, kin, rel))
    weights = {s.code: s.request_weight for s in _SOCIETIES}
    while len(drafts) < requests_total:
        drafts.append(builder.draft(_SOCIETY_BY_CODE[_pick(rng, weights)]))

    for draft in drafts:
        earliest = draft.separated + datetime.timedelta(days=14)
        if rng.random() < 0.65:  # most open cases were opened in the last three years
            earliest = max(earliest, REFERENCE_DATE - datetime.timedelta(days=3 * 365))
        draft.opened = earliest + datetime.timedelta(
            days=rng.randint(0, max(0, (REFERENCE_DATE - earliest).days))
        )

    requests: dict[str, list[TracingRequestCreate]] = {s.code: [] for s in _SOCIETIES}
    for society in _SOCIETIES:
        number = rng.randint(100, 900)
        own = sorted((d for d in drafts if d.society is society), key=lambda d: d.opened)
        for draft in own:
            number += rng.randint(1, 9)
            reference = f"{society.code.upper()}-{draft.opened.year}-{number:06d}"
            requests[society.code].append(builder.request(draft, reference))

    seen: set[int] = set()
    sought: list[tuple[_Kin, _Draft]] = []
    for draft in drafts:
        for kin, _ in draft.sought:
            if id(kin) not in seen:
                seen.add(id(kin))
                sought.append((kin, draft))
    planted_count = min(round(0.25 * len(sought)), registrations_total)
    registrations: dict[str, list[RegistrationCreate]] = {s.code: [] for s in _SOCIETIES}
    for kin, draft in rng.sample(sought, planted_count):
        society = draft.society if rng.random() < 0.4 else builder.society_for(draft.culture)
        registrations[society.code].append(
            builder.registration(kin, society, planted=True, after=draft.separated)
        )

    decoy_count = registrations_total - planted_count
    wanted = _allocate(registrations_total, [s.registration_weight for s in _SOCIETIES])
    extra = [
        max(0, want - len(registrations[s.code]))
        for s, want in zip(_SOCIETIES, wanted, strict=True)
    ]
    while sum(extra) > decoy_count:
        extra[extra.index(max(extra))] -= 1
    while sum(extra) < decoy_count:
        shares = [
            (len(registrations[s.code]) + extra[i]) / s.registration_weight
            for i, s in enumerate(_SOCIETIES)
        ]
        extra[shares.index(min(shares))] += 1
    for i, society in enumerate(_SOCIETIES):
        if not registrations[society.code] and extra[i] == 0 and max(extra) > 1:
            extra[extra.index(max(extra))] -= 1
            extra[i] += 1
    for society, count in zip(_SOCIETIES, extra, strict=True):
        for _ in range(count):
            kin = builder.decoy(society, sought)
            registrations[society.code].append(builder.registration(kin, society, planted=False))
    for society in _SOCIETIES:
        rng.shuffle(registrations[society.code])

    return [
        DemoSociety(s.code, s.name, requests[s.code], registrations[s.code]) for s in _SOCIETIES
    ]
