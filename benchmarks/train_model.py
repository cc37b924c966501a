"""Train the scoring model (`matching/data/model.json`) by EM on unlabelled records.

    uv run python benchmarks/train_model.py [--n 6000] [--seed 90210]

1. Generate a training file with the seeded synthetic generator (a seed no benchmark uses).
   Only the records are read; the truth file the generator also writes is never opened.
2. u, the level frequencies among different persons, comes from random pairs (almost all of
   them different persons), as in Splink.
3. m comes from EM with u held fixed, in two passes, each leaving out the fields its pairs
   were blocked on (they agree by construction and would teach EM nothing but themselves):
   pairs sharing a name key (the engine's own blocking) give m for every field but the name;
   pairs born in the same year give m for the name.
4. The prior of the model is the match rate EM finds among the name-blocked pairs: the chance
   that a pair blocking proposes is the same person. It is stored with the model and never
   re-estimated on the data being linked, so a probability means the same in every search.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import random
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.synthetic_people import generate
from matching import Matcher, blocking_keys, lookup_plan
from matching._em import expectation_maximisation, level_frequencies
from matching._fields import LADDERS, MISSING, PreparedRecord, compare_fields
from matching._model import LevelParameters, Model, default_model
from service.linkage.candidates import KeyIndex
from service.linkage.csvfile import read_records

ROOT = Path(__file__).resolve().parents[1]
MODEL_PATH = ROOT / "matching" / "data" / "model.json"
FIELDS = tuple(LADDERS)
# Places and nationality follow the culture a name comes from: among pairs that share a name
# key they agree far more often than chance even for different persons, which breaks the
# independence EM relies on. They keep their starting parameters.
NAME_BLOCKED_LEARNS = frozenset({"birth_date", "sex", "father_name", "mother_name"})
YEAR_BLOCKED_LEARNS = frozenset({"name", "sex", "father_name", "mother_name"})


def pattern(left: PreparedRecord, right: PreparedRecord) -> tuple[int, ...]:
    """Level index per field (-1 when missing) of one pair."""
    return tuple(
        -1 if level.level == MISSING else LADDERS[level.field].index(level.level)
        for level in compare_fields(left, right)
    )


def patterns_of(pairs: list[tuple[int, ...]]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct patterns and their counts."""
    unique, counts = np.unique(np.array(pairs, dtype=np.int64), axis=0, return_counts=True)
    return unique, counts.astype(np.float64)


def random_pairs(prepared: list[PreparedRecord], count: int, seed: int) -> list[tuple[int, ...]]:
    """Patterns of random pairs of distinct records."""
    rng = random.Random(seed)
    found = []
    while len(found) < count:
        a, b = rng.randrange(len(prepared)), rng.randrange(len(prepared))
        if a != b:
            found.append(pattern(prepared[a], prepared[b]))
    return found


def blocked_pairs(prepared: list[PreparedRecord]) -> list[tuple[int, ...]]:
    """Patterns of every pair the engine's blocking proposes (each pair once)."""
    index = KeyIndex([blocking_keys(record) for record in prepared])
    found = []
    for position, record in enumerate(prepared):
        for other in index.candidates(lookup_plan(record)):
            if other > position:
                found.append(pattern(prepared[position], prepared[other]))
    return found


def same_year_pairs(prepared: list[PreparedRecord], limit: int, seed: int) -> list[tuple[int, ...]]:
    """Patterns of pairs of records born in the same (precisely known) year."""
    by_year: dict[str, list[int]] = {}
    for position, record in enumerate(prepared):
        years = [key for key in blocking_keys(record) if key.startswith("y:")]
        if len(years) == 1:
            by_year.setdefault(years[0], []).append(position)
    candidates = [
        (group[i], group[j])
        for group in by_year.values()
        for i in range(len(group))
        for j in range(i + 1, len(group))
    ]
    random.Random(seed).shuffle(candidates)
    return [pattern(prepared[a], prepared[b]) for a, b in candidates[:limit]]


def _em_pass(
    pairs: list[tuple[int, ...]],
    m: tuple[np.ndarray, ...],
    u: tuple[np.ndarray, ...],
    rate: float,
    learn: frozenset[str],
):
    patterns, counts = patterns_of(pairs)
    active = tuple(field in learn for field in FIELDS)
    return expectation_maximisation(patterns, counts, m, u, rate, active=active), counts


def train(n: int, seed: int, random_count: int) -> Model:
    """A new model estimated on `n` synthetic records generated with `seed`."""
    start = default_model()
    with tempfile.TemporaryDirectory() as folder:
        generate(n, seed, Path(folder))
        records = read_records(Path(folder) / "people.csv").records
    matcher = Matcher(model=start)
    prepared = [matcher.prepare(record) for record in records]
    u_patterns, u_counts = patterns_of(random_pairs(prepared, random_count, seed))
    u0 = tuple(
        np.array([start.levels[field][level].u for level in LADDERS[field]]) for field in FIELDS
    )
    u = level_frequencies(u_patterns, u_counts, u0)
    m0 = tuple(
        np.array([start.levels[field][level].m for level in LADDERS[field]]) for field in FIELDS
    )
    names_blocked, counts = _em_pass(blocked_pairs(prepared), m0, u, 0.01, NAME_BLOCKED_LEARNS)
    years_blocked, year_counts = _em_pass(
        same_year_pairs(prepared, 300_000, seed), names_blocked.m, u, 0.01, YEAR_BLOCKED_LEARNS
    )
    name = FIELDS.index("name")
    m = tuple(years_blocked.m[i] if i == name else names_blocked.m[i] for i in range(len(FIELDS)))
    result = names_blocked
    levels = {
        field: {
            level: LevelParameters(float(m[i][j]), float(u[i][j]))
            for j, level in enumerate(LADDERS[field])
        }
        for i, field in enumerate(FIELDS)
    }
    document = json.dumps(
        {f: {lv: [p.m, p.u] for lv, p in ls.items()} for f, ls in levels.items()}, sort_keys=True
    )
    digest = hashlib.sha256(document.encode()).hexdigest()[:8]
    version = f"{datetime.date.today():%Y.%m}-em-{digest}"
    description = (
        f"EM on {n} synthetic records (seed {seed}): u from {random_count} random pairs; m of "
        f"the name from {int(year_counts.sum())} same-year pairs "
        f"({years_blocked.iterations} iterations); m of the other fields and the prior from "
        f"{int(counts.sum())} name-blocked pairs ({result.iterations} iterations, "
        f"converged={result.converged})."
    )
    return Model(version, result.match_rate, levels, description)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=90210)
    parser.add_argument("--random-pairs", type=int, default=200_000)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    model = train(args.n, args.seed, args.random_pairs)
    args.out.write_text(json.dumps(model.to_json(), indent=2, ensure_ascii=False) + "\n")
    print(f"model {model.version}: prior {model.prior:.5f}")
    print(model.description)
    for field, ladder in model.levels.items():
        cells = "  ".join(f"{level}={p.weight:+.1f}" for level, p in ladder.items())
        print(f"  {field:<17} {cells}")


if __name__ == "__main__":
    main()
