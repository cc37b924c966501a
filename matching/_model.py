"""The scoring model: Fellegi-Sunter m and u probabilities per field level, and the prior.

The model file (`matching/data/model.json`) is versioned; every comparison records the version
that scored it. `match_weight` is the sum of log2(m/u) over the fields (missing fields add 0)
plus the name-frequency adjustment, and does not depend on the data being linked;
`probability` applies the model's one fixed prior, so it means the same in every search.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from matching._fields import LADDERS

MODEL_FILE = "model.json"
FREQUENCY_FILE = "name_frequencies.json"


@dataclass(frozen=True, slots=True)
class LevelParameters:
    """m: P(level | same person); u: P(level | different persons)."""

    m: float
    u: float

    @property
    def weight(self) -> float:
        """The level's evidence in bits: log2(m / u)."""
        return math.log2(self.m / self.u)


@dataclass(frozen=True, slots=True)
class Model:
    """Parameters of one model version."""

    version: str
    prior: float
    levels: dict[str, dict[str, LevelParameters]]
    description: str = ""
    frequencies: NameFrequencies | None = None
    """Name-part frequencies estimated with the model (`kintrace model train --frequencies`);
    None: the table shipped with the package."""

    def weight(self, field: str, level: str) -> float:
        """Bits of evidence of `field` at `level` (0 for a missing field)."""
        parameters = self.levels.get(field, {}).get(level)
        return 0.0 if parameters is None else parameters.weight

    @property
    def prior_bits(self) -> float:
        """log2 of the prior odds that a compared pair is the same person."""
        return math.log2(self.prior / (1.0 - self.prior))

    def probability(self, match_weight: float) -> float:
        """Posterior probability for a match weight under the model's fixed prior."""
        bits = self.prior_bits + match_weight
        if bits > 60:
            return 1.0
        if bits < -60:
            return 0.0
        odds: float = 2.0**bits
        return odds / (1.0 + odds)

    def weight_lines(self) -> list[str]:
        """Each field's levels with their evidence in bits, one line per field: what a person
        reading a newly trained model checks first."""
        return [
            f"{field}: " + "  ".join(f"{level} {p.weight:+.1f}" for level, p in ladder.items())
            for field, ladder in self.levels.items()
        ]

    def to_json(self) -> dict[str, Any]:
        """The model as written to its file."""
        document: dict[str, Any] = {
            "version": self.version,
            "description": self.description,
            "prior": self.prior,
            "levels": {
                field: {level: [p.m, p.u] for level, p in ladder.items()}
                for field, ladder in self.levels.items()
            },
        }
        if self.frequencies is not None:
            document["name_frequencies"] = self.frequencies.to_json()
        return document


def model_from_json(document: dict[str, Any]) -> Model:
    """Read a model document, checking it covers every ladder level with valid probabilities."""
    levels: dict[str, dict[str, LevelParameters]] = {}
    for field, ladder in LADDERS.items():
        given = document["levels"][field]
        if set(given) != set(ladder):
            raise ValueError(f"model levels of {field} {sorted(given)} != {sorted(ladder)}")
        levels[field] = {}
        for level in ladder:
            m, u = given[level]
            if not (0.0 < m <= 1.0 and 0.0 < u <= 1.0):
                raise ValueError(f"{field}.{level}: m and u must be in (0, 1]")
            levels[field][level] = LevelParameters(float(m), float(u))
    prior = float(document["prior"])
    if not 0.0 < prior < 1.0:
        raise ValueError("the prior must be in (0, 1)")
    frequencies = document.get("name_frequencies")
    return Model(
        document["version"],
        prior,
        levels,
        document.get("description", ""),
        None if frequencies is None else frequencies_from_json(frequencies),
    )


def load_model(text: str) -> Model:
    """A model from the text of its file (as `kintrace model train` writes it)."""
    return model_from_json(json.loads(text))


@lru_cache(maxsize=1)
def default_model() -> Model:
    """The model shipped with the package."""
    text = resources.files("matching").joinpath("data", MODEL_FILE).read_text(encoding="utf-8")
    return model_from_json(json.loads(text))


@dataclass(frozen=True, slots=True)
class NameFrequencies:
    """Relative frequency of name-token identities in a reference corpus of person names."""

    table: dict[str, float]
    floor: float
    typical: float

    def of(self, identity: str) -> float:
        """Frequency of a token identity (unseen identities get the floor: rare)."""
        return self.table.get(identity, self.floor)

    def to_json(self) -> dict[str, Any]:
        """The table as a model file holds it."""
        return {"floor": self.floor, "typical": self.typical, "table": self.table}


def frequencies_from_json(document: dict[str, Any]) -> NameFrequencies:
    """A frequency table from its document, checking every frequency is in (0, 1]."""
    table = {str(k): float(v) for k, v in document["table"].items()}
    floor, typical = float(document["floor"]), float(document["typical"])
    if not all(0.0 < f <= 1.0 for f in (floor, typical, *table.values())):
        raise ValueError("name frequencies must be in (0, 1]")
    return NameFrequencies(table=table, floor=floor, typical=typical)


MIN_COUNT = 3
"""Identities seen fewer times are left out of a table: rare, they get the floor."""


def typical_frequency(counts: Mapping[str, int]) -> float:
    """Frequency of the name part met by half of all name occurrences (mass-weighted median).

    A shared part this common is average evidence; rarer parts add bits, commoner ones remove.
    """
    total = sum(counts.values())
    seen = 0
    for count in sorted(counts.values(), reverse=True):
        seen += count
        if seen * 2 >= total:
            return count / total
    return 1.0 / max(total, 1)


def frequencies_from_counts(counts: Mapping[str, int]) -> NameFrequencies:
    """Relative frequencies of token identities from their counts, with the floor for unseen
    (and too rarely seen) identities and the typical frequency."""
    total = max(sum(counts.values()), 1)
    return NameFrequencies(
        table={k: float(f"{v / total:.3g}") for k, v in counts.items() if v >= MIN_COUNT},
        floor=MIN_COUNT / total / 2,
        typical=typical_frequency(counts),
    )


FLAT_FREQUENCIES = NameFrequencies(table={}, floor=1.0, typical=1.0)
"""No frequency knowledge: every name part counts the same (no adjustment)."""


@lru_cache(maxsize=1)
def default_frequencies() -> NameFrequencies:
    """The name-frequency table shipped with the package."""
    text = resources.files("matching").joinpath("data", FREQUENCY_FILE).read_text(encoding="utf-8")
    return frequencies_from_json(json.loads(text))
