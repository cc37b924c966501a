"""Token-level cross-script benchmark on the xlit dev files.

    uv run python benchmarks/xlit_tokens.py [--scripts arabic hebrew ...] [--sample N]

For each native-script token of a dev file, rank all distinct English tokens of that dev file by
similarity; a hit is any gold partner in the top 10. Prints recall@10 per script for:

* baseline: anyascii + rapidfuzz Jaro-Winkler (off-the-shelf transliteration),
* engine without the learned table (rules, keys and variant classes only),
* engine with the learned table (trained on the *train* files by train_name_model.py),

and, for the engine with the table, how often the native token shares a blocking key with a
gold partner and how many English tokens share a key on average (selectivity).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from anyascii import anyascii
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cdist

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matching.names import analyse_token, similarity_matrix, token_blocking_keys  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "xlit"
SCRIPTS = ("arabic", "hebrew", "russian", "chinese")
TOP = 10
CHUNK = 1500


def load_dev(name: str) -> tuple[list[str], list[str], dict[str, set[int]]]:
    """Native tokens, distinct English tokens, and the gold English indices per native token."""
    pairs: list[tuple[str, str]] = []
    with (DATA / f"{name}.dev.tsv").open(encoding="utf-8") as fh:
        for line in fh:
            lat, nat, _ = line.rstrip("\n").split("\t")
            pairs.append((lat, nat.replace(" ", "")))
    english = sorted({lat for lat, _ in pairs})
    index = {e: i for i, e in enumerate(english)}
    gold: dict[str, set[int]] = defaultdict(set)
    for lat, nat in pairs:
        gold[nat].add(index[lat])
    return sorted(gold), english, gold


def recall_at(scores: np.ndarray, natives: list[str], gold: dict[str, set[int]]) -> int:
    hits = 0
    for i, nat in enumerate(natives):
        top = np.argpartition(-scores[i], TOP)[:TOP]
        if gold[nat].intersection(top.tolist()):
            hits += 1
    return hits


def baseline(natives: list[str], english: list[str], gold: dict[str, set[int]]) -> float:
    choices = [anyascii(e).lower() for e in english]
    hits = 0
    for start in range(0, len(natives), CHUNK):
        chunk = natives[start : start + CHUNK]
        query = [anyascii(n).lower() for n in chunk]
        scores = cdist(
            query, choices, scorer=JaroWinkler.normalized_similarity, dtype=np.float32, workers=-1
        )
        hits += recall_at(scores, chunk, gold)
    return hits / len(natives)


def engine(
    natives: list[str], english: list[str], gold: dict[str, set[int]], use_model: bool
) -> float:
    rights = [analyse_token(e, use_model) for e in english]
    hits = 0
    for start in range(0, len(natives), CHUNK):
        chunk = natives[start : start + CHUNK]
        lefts = [analyse_token(n, use_model) for n in chunk]
        scores = similarity_matrix(lefts, rights, workers=-1)
        hits += recall_at(scores, chunk, gold)
    return hits / len(natives)


def blocking(
    natives: list[str], english: list[str], gold: dict[str, set[int]]
) -> tuple[float, float]:
    postings: dict[str, set[int]] = defaultdict(set)
    for j, e in enumerate(english):
        for key in token_blocking_keys(analyse_token(e)):
            postings[key].add(j)
    found = 0
    sizes = 0
    for nat in natives:
        candidates: set[int] = set()
        for key in token_blocking_keys(analyse_token(nat)):
            candidates |= postings.get(key, set())
        sizes += len(candidates)
        if gold[nat] & candidates:
            found += 1
    return found / len(natives), sizes / len(natives)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scripts", nargs="*", default=list(SCRIPTS))
    parser.add_argument(
        "--sample",
        type=int,
        default=0,
        help="rank only N random native tokens (all English tokens stay)",
    )
    args = parser.parse_args()
    header = (
        f"{'script':<9}{'natives':>8}{'english':>8}  {'baseline':>9}{'no table':>9}"
        f"{'engine':>9}  {'block rec':>9}{'block size':>10}{'time':>7}"
    )
    print(f"recall@{TOP} (native token -> all English tokens of the dev file)")
    print(header)
    for name in args.scripts:
        t0 = time.perf_counter()
        natives, english, gold = load_dev(name)
        if args.sample and args.sample < len(natives):
            natives = sorted(random.Random(0).sample(natives, args.sample))
        base = baseline(natives, english, gold)
        plain = engine(natives, english, gold, use_model=False)
        full = engine(natives, english, gold, use_model=True)
        block_recall, block_size = blocking(natives, english, gold)
        print(
            f"{name:<9}{len(natives):>8}{len(english):>8}  {base:>9.3f}{plain:>9.3f}"
            f"{full:>9.3f}  {block_recall:>9.3f}{block_size:>10.1f}"
            f"{time.perf_counter() - t0:>6.0f}s",
            flush=True,
        )


if __name__ == "__main__":
    main()
