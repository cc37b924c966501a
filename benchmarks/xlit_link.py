"""Cross-script names through `kintrace link`: recall@10 on the xlit dev files.

    uv run python benchmarks/xlit_link.py [--scripts arabic hebrew russian chinese]

For each native-script token of a dev file, `kintrace link --threshold 0 --top 10` ranks the
distinct English tokens of that file (each token a one-name record); a hit is any gold partner
in the top 10. Printed beside the anyascii + Jaro-Winkler baseline of the same run, and with the
engine's Wikidata-derived tables (learned romanisation, name frequencies) switched off.
A pair that blocking misses is a miss. `--misses` sorts the misses: a *blocking* miss is a
native token whose gold partner, compared directly, would score above the tenth candidate it
got (blocking never offered it); a *scoring* miss is one whose gold partner scores no better.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from pathlib import Path

from benchmarks._linkcsv import kintrace_args, read_scored_pairs, run_timed, write_link_csv
from benchmarks._metrics import format_table, recall_at_k
from benchmarks.xlit_tokens import SCRIPTS, baseline, load_dev
from matching import Matcher, PersonName, PersonRecord

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "xlit_link"
GOALS = {"arabic": 0.85, "hebrew": 0.80, "russian": 0.95, "chinese": 0.65}


def write_inputs(script: str, folder: Path) -> tuple[Path, Path, list[tuple[str, str]], float]:
    """Left (native tokens) and right (English tokens) files, the gold pairs, the baseline."""
    natives, english, gold = load_dev(script)
    folder.mkdir(parents=True, exist_ok=True)
    left, right = folder / "native.csv", folder / "english.csv"
    write_link_csv(left, ({"id": f"n{i}", "full_name": n} for i, n in enumerate(natives)))
    write_link_csv(right, ({"id": f"e{j}", "full_name": e} for j, e in enumerate(english)))
    truth = [(f"n{i}", f"e{j}") for i, n in enumerate(natives) for j in gold[n]]
    started = time.perf_counter()
    base = baseline(natives, english, gold)
    print(f"  {script}: baseline in {time.perf_counter() - started:.0f} s", flush=True)
    return left, right, truth, base


def engine_recall(
    left: Path, right: Path, truth: list[tuple[str, str]], out: Path, tables: bool
) -> tuple[float, float]:
    """Recall@10 of `kintrace link` and its wall time."""
    args = kintrace_args("link", [left, right], out, threshold=0.0, top=10)
    if not tables:
        args.append("--no-wikidata-tables")
    run = run_timed(args)
    if run.returncode != 0:
        raise RuntimeError(f"kintrace link exited with {run.returncode}")
    recall = recall_at_k(read_scored_pairs(out), truth, 10, ordered=True)
    return recall.recall, run.wall_seconds


def sort_misses(script: str, pairs: Path, shown: int = 15) -> None:
    """Print how many misses blocking caused and how many scoring did, with examples."""
    natives, english, gold = load_dev(script)
    got: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for left, right, probability in read_scored_pairs(pairs):
        got[int(left[1:])].append((int(right[1:]), probability))
    matcher = Matcher()

    def token(text: str) -> PersonRecord:
        return PersonRecord(id=text, names=(PersonName(full=text),))

    blocking: list[str] = []
    scoring: list[str] = []
    for i, native in enumerate(natives):
        found = got.get(i, [])
        if gold[native] & {j for j, _ in found}:
            continue
        tenth = min(p for _, p in found) if len(found) >= 10 else 0.0
        best, partner = max(
            (matcher.compare(token(native), token(english[j])).probability, english[j])
            for j in gold[native]
        )
        line = f"{native} -> {partner}: {best:.3f} directly, tenth candidate {tenth:.3f}"
        (blocking if best > tenth else scoring).append(line)
    print(f"{script}: {len(blocking) + len(scoring):,} misses of {len(natives):,}: ", end="")
    print(f"{len(blocking):,} blocking, {len(scoring):,} scoring")
    rng = random.Random(1)
    for label, lines in (("blocking", blocking), ("scoring", scoring)):
        for line in rng.sample(lines, min(shown, len(lines))):
            print(f"  {label}: {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scripts", nargs="+", default=list(SCRIPTS), choices=SCRIPTS)
    parser.add_argument("--misses", action="store_true", help="sort the misses (see above)")
    args = parser.parse_args()
    rows = []
    for script in args.scripts:
        folder = OUT / script
        left, right, truth, base = write_inputs(script, folder)
        with_tables, seconds = engine_recall(left, right, truth, folder / "pairs.csv", True)
        without, seconds_without = engine_recall(
            left, right, truth, folder / "pairs-no-tables.csv", False
        )
        rows.append(
            [
                script,
                f"{len({left for left, _ in truth}):,}",
                f"{base:.3f}",
                f"{without:.3f}",
                f"{with_tables:.3f}",
                f">= {GOALS[script]:.2f}",
                "yes" if with_tables >= GOALS[script] else "NO",
                f"{seconds:.0f} / {seconds_without:.0f}",
            ]
        )
        if args.misses:
            sort_misses(script, folder / "pairs.csv")
        print(f"  {script}: done", flush=True)
    print("recall@10 through `kintrace link --threshold 0 --top 10` (xlit dev files)")
    headers = [
        "script",
        "natives",
        "anyascii+JW",
        "kintrace, no wikidata tables",
        "kintrace",
        "goal",
        "met",
        "seconds (with / without)",
    ]
    print(format_table(headers, rows))


if __name__ == "__main__":
    main()
