"""The scoring model: Fellegi-Sunter m and u probabilities per field level, and the prior.

The model file (`matching/data/model.json`) is versioned; every comparison records the version
that scored it. `match_weight` is the sum of log2(m/u) over the fields (missing fields add 0)
plus the name-frequency adjustment, and does not depend on the data being linked;
`probability` applies the model's one fixed prior, so it means the same in every search.
"""

from __future__ import annotations

import json
import math
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
        return {
            "version": self.version,
            "description": self.description,
            "prior": self.prior,
            "levels": {
                field: {level: [p.m, p.u] for level, p in ladder.items()}
                for field, ladder in self.levels.items()
            },
        }


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
    return Model(document["version"], prior, levels, document.get("description", ""))


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


FLAT_FREQUENCIES = NameFrequencies(table={}, floor=1.0, typical=1.0)
"""No frequency knowledge: every name part counts the same (no adjustment)."""


@lru_cache(maxsize=1)
def default_frequencies() -> NameFrequencies:
    """The name-frequency table shipped with the package."""
    text = resources.files("matching").joinpath("data", FREQUENCY_FILE).read_text(encoding="utf-8")
    document = json.loads(text)
    return NameFrequencies(
        table={k: float(v) for k, v in document["table"].items()},
        floor=float(document["floor"]),
        typical=float(document["typical"]),
    )
