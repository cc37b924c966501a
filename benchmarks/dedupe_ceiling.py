"""What bounds dedupe quality: blocking recall, and the best F1 any model on the engine's levels
could reach.

    timeout 3000 uv run --group bench python benchmarks/dedupe_ceiling.py [--n 100000] [--seed 7]
        [--model MODEL.json]

Runs `kintrace dedupe --threshold 0` on the synthetic file of `dedupe_scale.py` (every pair
blocking keeps, scored), then, with the truth file:
- blocking recall: the share of true pairs among the scored ones (a pair blocking misses is
  lost whatever the model);
- the model's F1 at the review threshold and its best F1 over thresholds;
- the **level-pattern ceiling**: pairs grouped by the level every field reached (the pattern a
  Fellegi-Sunter model sees, name-frequency adjustments aside), the patterns taken in order of
  their true match rate, the best F1 of any such prefix. No choice of m and u on these levels
  can beat it (a model ranks pairs of one pattern alike), so it says whether a goal needs better
  parameters or more telling comparisons;
- the patterns with the most false positives at the threshold, and with the most true pairs
  below it.
The truth is read only to measure; nothing here feeds the engine.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from benchmarks._linkcsv import OutputPair, iter_output, kintrace_args, run_timed
from benchmarks._metrics import best_f1, prf_at_threshold
from benchmarks.dedupe_scale import dataset
from benchmarks.synthetic_people import read_truth
from matching import DEFAULT_REVIEW_THRESHOLD

SHOWN = 12


def pattern(explanation: str) -> str:
    """The levels the compared fields reached (missing fields left out), as one label."""
    fields = json.loads(explanation)["fields"]
    return " ".join(f"{name}={f['level']}" for name, f in fields.items() if f["level"] != "missing")


def level_ceiling(groups: Counter[str], hits: Counter[str], actual: int) -> tuple[float, int]:
    """The best F1 of the patterns taken best true-match-rate first, and how many it takes.

    For groups that must be taken whole, the F1-optimal set is such a prefix: swapping a group
    for one with a higher match rate never lowers the F1."""
    order = sorted(groups, key=lambda p: (-hits[p] / groups[p], p))
    best, taken, true_positives, predicted = 0.0, 0, 0, 0
    for index, label in enumerate(order, start=1):
        true_positives += hits[label]
        predicted += groups[label]
        f1 = 2 * true_positives / (predicted + actual)
        if f1 > best:
            best, taken = f1, index
    return best, taken


def tally(
    pairs: Iterable[OutputPair], truth: set[tuple[str, str]], threshold: float
) -> tuple[Counter[str], Counter[str], Counter[str], Counter[str]]:
    """Per pattern: pairs, true pairs, false positives at the threshold, true pairs below it."""
    groups: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    false_positives: Counter[str] = Counter()
    below: Counter[str] = Counter()
    for pair in pairs:
        label = pattern(pair.explanation)
        true = (min(pair.left_id, pair.right_id), max(pair.left_id, pair.right_id)) in truth
        groups[label] += 1
        hits[label] += true
        if pair.probability >= threshold and not true:
            false_positives[label] += 1
        elif pair.probability < threshold and true:
            below[label] += 1
    return groups, hits, false_positives, below


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model", type=Path, help="a `kintrace model train` file")
    args = parser.parse_args(argv)
    directory = dataset(args.n, args.seed)
    out = directory / "kintrace_all_pairs.csv"
    extra = ["--model", str(args.model)] if args.model else []
    command = kintrace_args(
        "dedupe", [directory / "people.csv"], out, threshold=0.0, top=None, extra=extra
    )
    run = run_timed(command)
    if run.returncode != 0:
        print(f"kintrace dedupe exited with status {run.returncode}", file=sys.stderr)
        return 1
    truth_pairs = read_truth(directory / "truth.csv")
    truth = {(min(a, b), max(a, b)) for a, b in truth_pairs}
    threshold = DEFAULT_REVIEW_THRESHOLD
    scored = [(p.left_id, p.right_id, p.probability) for p in iter_output(out)]
    groups, hits, false_positives, below = tally(iter_output(out), truth, threshold)
    found = sum(hits.values())
    at = prf_at_threshold(scored, truth_pairs, threshold, ordered=False).prf
    best = best_f1(scored, truth_pairs, ordered=False)
    ceiling, taken = level_ceiling(groups, hits, len(truth))
    print(f"\n{args.n:,} records, model {args.model or 'shipped'}: {len(scored):,} pairs scored")
    print(f"blocking recall      {found / len(truth):.3f} ({found:,} of {len(truth):,} true pairs)")
    print(f"F1 at {threshold}         {at.f1:.3f} (P {at.precision:.3f}, R {at.recall:.3f})")
    print(f"best F1              {best.prf.f1:.3f} @ {best.threshold:.4g}")
    print(f"level-pattern ceil.  {ceiling:.3f} ({taken} of {len(groups):,} patterns)")
    print(f"\nmost false positives at {threshold} (false, true pairs at or above it, pattern):")
    for label, count in false_positives.most_common(SHOWN):
        print(f"  {count:>7,} {hits[label] - below[label]:>7,}  {label}")
    print(f"\nmost true pairs below {threshold}:")
    for label, count in below.most_common(SHOWN):
        print(f"  {count:>7,}  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
