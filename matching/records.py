"""The engine's input: a person record as the matcher sees it (no ids of the service)."""

from __future__ import annotations

from dataclasses import dataclass

from matching.dates import FuzzyDate


@dataclass(frozen=True, slots=True)
class PersonName:
    """One name: the full written form and/or its structured parts, in any script.

    Both may be given; a part repeated in `full` is not counted twice. `script` is an ISO
    15924 code when the source knows it (it is detected otherwise).
    """

    full: str = ""
    given: str | None = None
    father: str | None = None
    grandfather: str | None = None
    family: str | None = None
    other: tuple[str, ...] = ()
    script: str | None = None

    def is_empty(self) -> bool:
        """True when the name carries no text at all."""
        return not (
            self.full.strip()
            or self.given
            or self.father
            or self.grandfather
            or self.family
            or any(self.other)
        )


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """What the matcher compares. Every field is optional: missing data is neutral evidence.

    `sex` is "M", "F" or "X". Places are free text (any script). `nationality` is an ISO
    3166 code or a country name.
    """

    id: str
    names: tuple[PersonName, ...] = ()
    sex: str | None = None
    birth_date: FuzzyDate | None = None
    birth_place: str | None = None
    nationality: str | None = None
    father_name: str | None = None
    mother_name: str | None = None
    last_known_place: str | None = None
