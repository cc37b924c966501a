"""People across scripts: native-script person records against their romanised counterparts.

    timeout 3000 uv run --group bench python benchmarks/people_across_scripts.py [--seed 7]
        [--n 1000] [--scripts arabic hebrew ...] [--out DIR]

For each script a LEFT file of native-script people (given, father's and family name, a full
birth date; for Ge'ez given + father + grandfather, the grandfather's name in the family-name
column) is linked against a RIGHT file holding the romanised counterpart of every one of them
plus hard and random distractors, with `kintrace link LEFT RIGHT --out PAIRS --threshold 0
--top 10`.

Name data (one source per script, printed with its size):

* arabic, hebrew, russian, chinese: the xlit *dev* pairs in `benchmarks/data/xlit/` (Wikidata,
  CC0); a native token's gold romanisations are the English tokens paired with it, one of them
  drawn per record in proportion to the pair counts;
* pashto: the Pashto tables of `service/demo/names.py` (native form, several romanisations);
* geez: the given-name lexicon of `habesha-names` (MIT; fidel form, canonical romanisation and
  its attested variants), needs the `bench` dependency group.

Every part of a record is drawn from its script's tokens (father's and grandfather's names from
male names where the source knows the sex). The romanised side, true partners and distractors
alike, is corrupted at the seeded rates of `CORRUPTION_RATES` and `DATE_CORRUPTIONS` (printed
with the observed counts). Hard distractors share name parts with a true partner and are born
years apart (`HARD_DISTRACTORS`); random distractors are new people from the same tokens.

Printed per script: recall@10, best pairwise F1 (with its threshold), precision, recall and F1
at `DEFAULT_REVIEW_THRESHOLD`, number of output pairs, wall time; the goals of issue 3 beside
them (recall@10 >= 0.97 and F1 at the default threshold >= 0.85 for every script). A script
whose data source is unavailable is reported as such. Exit status 2 when `kintrace link` is not
available.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks._linkcsv import (
    KintraceMissingError,
    default_review_threshold,
    kintrace_help,
    missing_kintrace_message,
    run_kintrace,
    write_link_csv,
)
from benchmarks._metrics import (
    Pair,
    ScoredPair,
    best_f1,
    format_table,
    prf_at_threshold,
    recall_at_k,
)

ROOT = Path(__file__).resolve().parent.parent
XLIT = ROOT / "benchmarks" / "data" / "xlit"
DEFAULT_OUT = ROOT / "benchmarks" / "out" / "people_across_scripts"
XLIT_SCRIPTS: tuple[str, ...] = ("arabic", "hebrew", "russian", "chinese")
SCRIPTS: tuple[str, ...] = (*XLIT_SCRIPTS, "pashto", "geez")
DEFAULT_SEED = 7
DEFAULT_N = 1000
TOP_K = 10
GOALS = {"recall_at_10": 0.97, "f1_at_default": 0.85}

# Name corruptions of a romanised record, each drawn independently.
CORRUPTION_RATES: dict[str, float] = {
    "order_swapped": 0.20,  # given and family name exchanged (columns and full name)
    "father_dropped": 0.20,  # father's name missing (column and full name)
}
# Birth-date corruptions of a romanised record, mutually exclusive; the rest is exact.
DATE_CORRUPTIONS: dict[str, float] = {
    "year_only": 0.10,
    "off_by_one_year": 0.10,
    "day_month_swapped": 0.10,
}
# Hard distractors: one per true pair, kind drawn uniformly; the birth year differs from the
# true partner's by the stated range of years (either direction).
HARD_DISTRACTORS: dict[str, tuple[int, int]] = {
    "sibling": (2, 15),  # same father's and family name, another given name
    "namesake": (3, 25),  # same given and family name, another father's name
}
RANDOM_DISTRACTORS_PER_PAIR = 1
YEARS = (1940, 2020)


def _shown(path: Path) -> str:
    """`path` relative to the repository root when it lies inside it."""
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


class DataUnavailable(RuntimeError):
    """A script's name source cannot be read (missing file or package)."""


@dataclass(frozen=True, slots=True)
class Token:
    """A name in its native script and its gold romanisations (with relative weights)."""

    native: str
    romanisations: tuple[str, ...]
    weights: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Pools:
    """The tokens a script's records are drawn from, per name part."""

    script: str
    source: str
    given: tuple[Token, ...]
    father: tuple[Token, ...]
    family: tuple[Token, ...]
    family_is_grandfather: bool = False


@dataclass(frozen=True, slots=True)
class Person:
    """One synthetic person: native tokens and a full birth date."""

    given: Token
    father: Token
    family: Token
    year: int
    month: int
    day: int


@dataclass(slots=True)
class Dataset:
    """LEFT (native) and RIGHT (romanised + distractors) rows, the true pairs, and counts."""

    script: str
    left: list[dict[str, str]] = field(default_factory=list)
    right: list[dict[str, str]] = field(default_factory=list)
    truth: list[Pair] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


# --- data sources ----------------------------------------------------------------------------


def load_xlit_pools(script: str, directory: Path = XLIT) -> Pools:
    """Tokens of `<script>.dev.tsv`: each distinct native token with its English partners."""
    path = directory / f"{script}.dev.tsv"
    if not path.is_file():
        raise DataUnavailable(f"{path} not found")
    partners: dict[str, Counter[str]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            cells = line.rstrip("\n").split("\t")
            if len(cells) != 3:
                continue
            latin, native = cells[0].strip(), cells[1].replace(" ", "").strip()
            if not latin or not native:
                continue
            count = int(cells[2]) if cells[2].strip().isdigit() else 1
            partners.setdefault(native, Counter())[latin] += max(count, 1)
    tokens = tuple(
        Token(
            native,
            tuple(latin for latin, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            tuple(float(c) for _, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        )
        for native, counts in sorted(partners.items())
    )
    if not tokens:
        raise DataUnavailable(f"{path} holds no pairs")
    source = _shown(path)
    return Pools(script, f"{source} ({len(tokens):,} native tokens)", tokens, tokens, tokens)


def _table_tokens(entries: Sequence[tuple[str, ...]]) -> tuple[Token, ...]:
    return tuple(Token(e[0], tuple(e[1:]), (1.0,) * (len(e) - 1)) for e in entries if len(e) > 1)


def load_pashto_pools() -> Pools:
    """Pashto given names (male and female), fathers (male) and tribes of the demo tables."""
    try:
        from service.demo import names
    except ImportError as err:  # pragma: no cover - part of this repository
        raise DataUnavailable(f"service.demo.names cannot be imported: {err}") from err
    male = _table_tokens(names.PASHTO_MALE)
    female = _table_tokens(names.PASHTO_FEMALE)
    tribes = _table_tokens(names.PASHTO_TRIBES)
    source = (
        f"service/demo/names.py PASHTO_* ({len(male)} male, {len(female)} female, "
        f"{len(tribes)} tribal names)"
    )
    return Pools("pashto", source, male + female, male, tribes)


def load_geez_pools() -> Pools:
    """Ge'ez given names of habesha-names' lexicon: fidel, canonical spelling and variants."""
    try:
        import habesha_names
    except ImportError as err:
        raise DataUnavailable(
            "habesha-names is not installed (run with `uv run --group bench`)"
        ) from err
    from importlib import resources

    try:
        text = resources.files("habesha_names.data").joinpath("given_names.json").read_text("utf-8")
        entries = json.loads(text)["entries"]
    except (OSError, ValueError, KeyError) as err:
        raise DataUnavailable(f"habesha-names given_names.json unreadable: {err}") from err
    every: list[Token] = []
    male: list[Token] = []
    for entry in entries:
        spellings = (entry["canonical"], *entry["variants"])
        token = Token(entry["fidel"], tuple(spellings), (1.0,) * len(spellings))
        every.append(token)
        if float(entry["gender"].get("m", 0.0)) >= 0.5:
            male.append(token)
    if not every or not male:
        raise DataUnavailable("habesha-names lexicon holds no names")
    version = getattr(habesha_names, "__version__", "?")
    source = (
        f"habesha-names {version} given_names.json ({len(every)} names, {len(male)} male; "
        "grandfather's name in the family-name column)"
    )
    return Pools("geez", source, tuple(every), tuple(male), tuple(male), family_is_grandfather=True)


def load_pools(script: str) -> Pools:
    """The name source of `script`; raises `DataUnavailable` with the reason when it is absent."""
    if script in XLIT_SCRIPTS:
        return load_xlit_pools(script)
    if script == "pashto":
        return load_pashto_pools()
    if script == "geez":
        return load_geez_pools()
    raise ValueError(f"unknown script {script!r}")


# --- records ---------------------------------------------------------------------------------


def _random_date(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(*YEARS), rng.randint(1, 12), rng.randint(1, 28)


def _draw_person(rng: random.Random, pools: Pools) -> Person:
    year, month, day = _random_date(rng)
    return Person(
        rng.choice(pools.given),
        rng.choice(pools.father),
        rng.choice(pools.family),
        year,
        month,
        day,
    )


def _other(rng: random.Random, pool: Sequence[Token], avoid: Token) -> Token:
    """A token of `pool` with another native form than `avoid` (any token if there is none)."""
    for _ in range(100):
        token = rng.choice(pool)
        if token.native != avoid.native:
            return token
    return rng.choice(pool)


def _shift_year(rng: random.Random, person: Person, years: tuple[int, int]) -> tuple[int, int, int]:
    delta = rng.randint(*years) * rng.choice((-1, 1))
    return person.year + delta, rng.randint(1, 12), rng.randint(1, 28)


def _date_plan(rng: random.Random) -> str:
    draw = rng.random()
    for kind, rate in DATE_CORRUPTIONS.items():
        if draw < rate:
            return kind
        draw -= rate
    return "exact"


def _with_swappable_day(rng: random.Random, person: Person) -> Person:
    """The person born on a day that is also a month other than the birth month."""
    day = rng.choice([d for d in range(1, 13) if d != person.month])
    return Person(person.given, person.father, person.family, person.year, person.month, day)


def _romanise(rng: random.Random, token: Token) -> str:
    return rng.choices(token.romanisations, weights=token.weights, k=1)[0]


def native_row(record_id: str, person: Person) -> dict[str, str]:
    """The native-script record: all parts, full name in given-father-family order, ISO date."""
    return {
        "id": record_id,
        "full_name": " ".join((person.given.native, person.father.native, person.family.native)),
        "given_name": person.given.native,
        "father_name": person.father.native,
        "family_name": person.family.native,
        "birth_date": f"{person.year:04d}-{person.month:02d}-{person.day:02d}",
    }


def romanised_row(
    rng: random.Random,
    record_id: str,
    person: Person,
    date_kind: str,
    counts: Counter[str],
) -> dict[str, str]:
    """The romanised record with its name corruptions drawn and `date_kind` applied."""
    given, father, family = (
        _romanise(rng, t) for t in (person.given, person.father, person.family)
    )
    swapped = rng.random() < CORRUPTION_RATES["order_swapped"]
    dropped = rng.random() < CORRUPTION_RATES["father_dropped"]
    counts["order_swapped"] += swapped
    counts["father_dropped"] += dropped
    counts[date_kind] += 1
    counts["romanised records"] += 1
    if dropped:
        father = ""
    if swapped:
        given, family = family, given
    parts = (given, family, father) if swapped else (given, father, family)
    year, month, day = person.year, person.month, person.day
    if date_kind == "year_only":
        birth_date = f"{year:04d}"
    elif date_kind == "off_by_one_year":
        birth_date = f"{year + rng.choice((-1, 1)):04d}-{month:02d}-{day:02d}"
    elif date_kind == "day_month_swapped":
        birth_date = f"{year:04d}-{day:02d}-{month:02d}"
    else:
        birth_date = f"{year:04d}-{month:02d}-{day:02d}"
    return {
        "id": record_id,
        "full_name": " ".join(p for p in parts if p),
        "given_name": given,
        "father_name": father,
        "family_name": family,
        "birth_date": birth_date,
    }


def _prepared(rng: random.Random, person: Person) -> tuple[Person, str]:
    kind = _date_plan(rng)
    if kind == "day_month_swapped":
        person = _with_swappable_day(rng, person)
    return person, kind


def build(pools: Pools, n: int, seed: int) -> Dataset:
    """`n` native people (fewer when the tokens allow fewer distinct names), their romanised
    counterparts, one hard and `RANDOM_DISTRACTORS_PER_PAIR` random distractors each. Right
    records are shuffled before their ids are given, so ids say nothing about partners."""
    rng = random.Random(f"{seed}:{pools.script}")
    data = Dataset(pools.script)
    seen: set[tuple[str, str, str]] = set()
    people: list[tuple[Person, str]] = []
    attempts = 0
    while len(people) < n and attempts < 50 * n:
        attempts += 1
        person = _draw_person(rng, pools)
        key = (person.given.native, person.father.native, person.family.native)
        if key in seen:
            continue
        seen.add(key)
        people.append(_prepared(rng, person))
    right: list[tuple[dict[str, str], str | None]] = []  # (row without id, left id of partner)
    for index, (person, kind) in enumerate(people):
        left_id = f"L{index:05d}"
        data.left.append(native_row(left_id, person))
        right.append((romanised_row(rng, "", person, kind, data.counts), left_id))
        hard = rng.choice(tuple(HARD_DISTRACTORS))
        data.counts[f"distractor {hard}"] += 1
        if hard == "sibling":
            given, father = _other(rng, pools.given, person.given), person.father
        else:
            given, father = person.given, _other(rng, pools.father, person.father)
        year, month, day = _shift_year(rng, person, HARD_DISTRACTORS[hard])
        twin, twin_kind = _prepared(rng, Person(given, father, person.family, year, month, day))
        right.append((romanised_row(rng, "", twin, twin_kind, data.counts), None))
        for _ in range(RANDOM_DISTRACTORS_PER_PAIR):
            data.counts["distractor random"] += 1
            other, other_kind = _prepared(rng, _draw_person(rng, pools))
            right.append((romanised_row(rng, "", other, other_kind, data.counts), None))
    rng.shuffle(right)
    for index, (row, partner) in enumerate(right):
        row["id"] = f"R{index:05d}"
        data.right.append(row)
        if partner is not None:
            data.truth.append((partner, row["id"]))
    data.truth.sort()
    return data


def write_dataset(data: Dataset, directory: Path) -> tuple[Path, Path, Path]:
    """Write `left.csv`, `right.csv` (link contract) and `truth.csv` into `directory`."""
    left, right, truth = (directory / f"{name}.csv" for name in ("left", "right", "truth"))
    write_link_csv(left, data.left)
    write_link_csv(right, data.right)
    with truth.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(("left_id", "right_id"))
        writer.writerows(data.truth)
    return left, right, truth


# --- report ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScriptResult:
    """The figures of one script (or why there are none)."""

    script: str
    true_pairs: int = 0
    left: int = 0
    right: int = 0
    scored: tuple[ScoredPair, ...] = ()
    truth: tuple[Pair, ...] = ()
    seconds: float = 0.0
    problem: str = ""


def report_row(result: ScriptResult, threshold: float | None) -> list[str]:
    """recall@10, best F1 @ threshold, P/R/F1 at the default threshold, pairs, seconds, goals."""
    if result.problem:
        return [result.script, *[""] * 10, result.problem]
    recall = recall_at_k(result.scored, result.truth, TOP_K, ordered=True)
    best = best_f1(result.scored, result.truth, ordered=True)
    at = (
        prf_at_threshold(result.scored, result.truth, threshold, ordered=True).prf
        if threshold is not None
        else None
    )
    met = recall.recall >= GOALS["recall_at_10"] and at is not None
    met = met and at.f1 >= GOALS["f1_at_default"]  # type: ignore[union-attr]
    return [
        result.script,
        f"{result.true_pairs:,}",
        f"{result.left:,} x {result.right:,}",
        f"{recall.recall:.4f}",
        f"{best.prf.f1:.3f} @ {best.threshold:.4g}",
        f"{at.precision:.3f}" if at else "n/a",
        f"{at.recall:.3f}" if at else "n/a",
        f"{at.f1:.3f}" if at else "n/a",
        f"{len(result.scored):,}",
        f"{result.seconds:.1f}",
        "yes" if met else "NO",
        "",
    ]


HEADERS = [
    "script",
    "true pairs",
    "left x right",
    "recall@10",
    "best F1 @ thr",
    "P@default",
    "R@default",
    "F1@default",
    "pairs",
    "s",
    "goals met",
    "note",
]


def goals_row() -> list[str]:
    """The goals of issue 3 as a table row."""
    return [
        "GOAL (every script)",
        "",
        "",
        f">= {GOALS['recall_at_10']}",
        "",
        "",
        "",
        f">= {GOALS['f1_at_default']}",
        "",
        "",
        "",
        "",
    ]


def _rates_line() -> str:
    names = ", ".join(f"{k} {v:.0%}" for k, v in CORRUPTION_RATES.items())
    dates = ", ".join(f"{k} {v:.0%}" for k, v in DATE_CORRUPTIONS.items())
    exact = 1 - sum(DATE_CORRUPTIONS.values())
    hard = ", ".join(
        f"{k} (born {lo}-{hi} years apart)" for k, (lo, hi) in HARD_DISTRACTORS.items()
    )
    return (
        f"Romanised records (partners and distractors alike): {names}; birth date {dates}, "
        f"exact {exact:.0%}.\nDistractors per true pair: 1 hard, one of {hard} drawn uniformly; "
        f"{RANDOM_DISTRACTORS_PER_PAIR} random person from the same tokens."
    )


def _observed_line(counts: Counter[str]) -> str:
    total = counts["romanised records"] or 1
    kinds = [*CORRUPTION_RATES, *DATE_CORRUPTIONS, "exact"]
    observed = ", ".join(f"{k} {counts[k] / total:.1%}" for k in kinds)
    distractors = ", ".join(
        f"{k.removeprefix('distractor ')} {v:,}"
        for k, v in sorted(counts.items())
        if k.startswith("distractor ")
    )
    return f"  observed on {total:,} romanised records: {observed}; distractors: {distractors}"


def main(argv: list[str] | None = None) -> int:
    """Build, write and link every script; print the table. Exit 2 if `kintrace link` is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--n", type=int, default=DEFAULT_N, help="true pairs per script")
    parser.add_argument("--scripts", nargs="*", default=list(SCRIPTS), choices=SCRIPTS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="working directory")
    args = parser.parse_args(argv)

    print(f"People across scripts: seed {args.seed}, up to {args.n:,} true pairs per script.")
    print(_rates_line(), flush=True)
    help_text = kintrace_help("link")
    threshold = default_review_threshold(help_text)
    print(f"DEFAULT_REVIEW_THRESHOLD: {threshold if threshold is not None else 'n/a'}")
    results: list[ScriptResult] = []
    missing = False
    for script in args.scripts:
        try:
            pools = load_pools(script)
        except DataUnavailable as err:
            print(f"\n{script}: DATA SOURCE UNAVAILABLE: {err}", flush=True)
            results.append(ScriptResult(script, problem=f"data unavailable: {err}"))
            continue
        data = build(pools, args.n, args.seed)
        directory = args.out / script
        left, right, _ = write_dataset(data, directory)
        print(f"\n{script}: {pools.source}")
        print(
            f"  {len(data.truth):,} true pairs, {len(data.left):,} left x {len(data.right):,} "
            f"right records -> {_shown(directory)}"
        )
        print(_observed_line(data.counts), flush=True)
        if missing:
            continue
        try:
            run, scored = run_kintrace(
                "link", [left, right], directory / "pairs.csv", threshold=0.0, top=TOP_K
            )
        except KintraceMissingError:
            missing = True
            continue
        except RuntimeError as err:
            results.append(ScriptResult(script, problem=str(err)))
            continue
        results.append(
            ScriptResult(
                script,
                len(data.truth),
                len(data.left),
                len(data.right),
                tuple(scored),
                tuple(data.truth),
                run.wall_seconds,
            )
        )
    if missing:
        print(missing_kintrace_message("link"))
        return 2
    rows = [report_row(result, threshold) for result in results]
    rows.append(goals_row())
    print(
        f"\nKintrace (`kintrace link --threshold 0 --top {TOP_K}`), default threshold "
        f"{threshold if threshold is not None else 'n/a'}:"
    )
    print(format_table(HEADERS, rows))
    print(
        f"Note: precision/recall/F1 are pairwise over the --top {TOP_K} output; a true pair that "
        "blocking missed counts as a miss."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
