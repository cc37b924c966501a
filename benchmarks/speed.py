"""Scoring speed on one core: pairs per second for `compare`, and one record against many.

    uv run python benchmarks/speed.py [--n 100000] [--repeats 3]

Records come from the seeded synthetic generator. Pair speed is measured over random pairs of
prepared records (names analysed once, as in bulk linkage); one-against-many compares one
record with all n prepared records. Medians of `--repeats` runs are printed, beside the time
preparing the records took.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.synthetic_people import generate
from matching import Matcher
from service.linkage.csvfile import read_records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        generate(args.n, 11, Path(folder))
        records = read_records(Path(folder) / "people.csv").records
    matcher = Matcher()
    started = time.perf_counter()
    prepared = [matcher.prepare(record) for record in records]
    preparing = time.perf_counter() - started
    rng = random.Random(3)
    pairs = [(rng.choice(prepared), rng.choice(prepared)) for _ in range(args.pairs)]
    pair_rates, one_vs_many = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        for left, right in pairs:
            matcher.compare(left, right)
        pair_rates.append(len(pairs) / (time.perf_counter() - started))
        started = time.perf_counter()
        matcher.compare_one_to_many(prepared[0], prepared, top=10)
        one_vs_many.append(time.perf_counter() - started)
    print(f"records prepared: {args.n:,} in {preparing:.1f} s ({args.n / preparing:,.0f}/s)")
    print(
        f"compare, random pairs: median {statistics.median(pair_rates):,.0f} pairs/s "
        f"(runs: {', '.join(f'{r:,.0f}' for r in pair_rates)})"
    )
    print(
        f"one record against {args.n:,}: median {statistics.median(one_vs_many):.1f} s "
        f"({args.n / statistics.median(one_vs_many):,.0f} pairs/s)"
    )


if __name__ == "__main__":
    main()
