"""Request bodies shared by the service tests."""

from __future__ import annotations

from typing import Any

FUZZY_DATE_TEXTS = [
    "1990",
    "1990-03",
    "1990-03-07",
    "07/03/1990",
    "ca. 1985",
    "about 30 years old in 2023",
    "hijri:1410-08-15",
    "solar-hijri:1369",
    "ethiopian:1982-13-02",
]

FULL_PLACE = {
    "text": "Aleppo, al-Shaar",
    "country_code": "SY",
    "latitude": 36.2,
    "longitude": 37.16,
}


def enquirer(**overrides: Any) -> dict[str, Any]:
    """An enquirer with a name in Arabic script and its romanisation."""
    person: dict[str, Any] = {
        "role": "enquirer",
        "names": [
            {
                "kind": "primary",
                "full_name": "محمد أحمد الحسن",
                "script": "Arab",
                "parts": {"given": "محمد", "father": "أحمد", "family": "الحسن"},
            },
            {"kind": "alias", "full_name": "Mohammed Ahmed al-Hassan"},
        ],
        "sex": "male",
        "birth_date": {"text": "ca. 1985"},
        "nationalities": ["SY"],
        "languages": ["ar"],
    }
    person.update(overrides)
    return person


def sought_person(**overrides: Any) -> dict[str, Any]:
    """A sought person (the enquirer's mother) with a Hijri birth date."""
    person: dict[str, Any] = {
        "role": "sought_person",
        "relationship_to_enquirer": "mother",
        "names": [{"full_name": "فاطمة حسن", "kind": "primary"}],
        "sex": "female",
        "birth_date": {"text": "hijri:1380"},
        "last_known_place": {"text": "Idlib", "country_code": "SY"},
    }
    person.update(overrides)
    return person


def tracing_request(**overrides: Any) -> dict[str, Any]:
    """A tracing request with an enquirer and one sought person."""
    body: dict[str, Any] = {
        "circumstances": "Separated at the border crossing during shelling.",
        "separation_place": FULL_PLACE,
        "separation_date": {"text": "2016-02"},
        "persons": [enquirer(), sought_person()],
    }
    body.update(overrides)
    return body


def registration(**overrides: Any) -> dict[str, Any]:
    """A registration of a person found safe and well."""
    body: dict[str, Any] = {
        "registration_kind": "safe_and_well",
        "registration_source": "Reception centre list, Gaziantep",
        "registration_date": "2024-05-02",
        "names": [{"full_name": "Fatma Hasan"}],
        "sex": "female",
        "birth_date": {"text": "1960"},
    }
    body.update(overrides)
    return body


# The sought mother and her registration, written differently but clearly one woman: the
# matcher proposes the pair (name variants across scripts, same birth day, same father).
SOUGHT_MOTHER = {
    "birth_date": {"text": "1960-03-07"},
    "father_name": "حسن محمود",
    "birth_place": {"text": "حلب"},
}
REGISTERED_MOTHER = {
    "birth_date": {"text": "07/03/1960"},
    "father_name": "Hassan Mahmoud",
    "birth_place": {"text": "Aleppo"},
}
