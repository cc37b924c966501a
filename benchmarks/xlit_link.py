"""Cross-script names through `kintrace link`: recall@10 on the xlit dev files.

    uv run python benchmarks/xlit_link.py [--scripts arabic hebrew russian chinese]

For each native-script token of a dev file, `kintrace link --threshold 0 --top 10` ranks the
distinct English tokens of that file (each token a one-name record); a hit is any gold partner
in the top 10. Printed beside the anyascii + Jaro-Winkler baseline of the same run, and with the
engine's Wikidata-derived tables (learned romanisation, name frequencies) switched off.
A pair that blocking misses is a miss.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks._linkcsv import kintrace_args, read_scored_pairs, run_timed, write_link_csv
from benchmarks._metrics import format_table, recall_at_k
from benchmarks.xlit_tokens import SCRIPTS, baseline, load_dev

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scripts", nargs="+", default=list(SCRIPTS), choices=SCRIPTS)
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
