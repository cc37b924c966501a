"""Train the character-alignment romanisation model shipped in ``matching/data/``.

    uv run python benchmarks/train_name_model.py [--scripts arabic ...] [--jobs N] [--out PATH]

About 15 minutes on two cores (Han and Cyrillic take longest).

Reads ONLY ``benchmarks/data/xlit/*.train.tsv`` (never the dev files). For each script it learns,
by expectation-maximisation over all monotone many-to-one alignments, the probability that a
native letter in context (previous letter, next letter) is written as a Latin substring of 0 to
3 letters (4 for Han, where one character is a syllable). Contexts back off from
(prev, letter, next) to (letter, next) to (letter), interpolated by their evidence. The result is
pruned to the likely substrings and written as JSON; ``matching._romanise`` decodes it with a beam
search into several ranked romanisations per token.

Deterministic: same input files, same output bytes.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matching._text import latin_fold, normalise_token  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "xlit"
OUT = ROOT / "matching" / "data" / "xlit_model.json"
SCRIPTS = {"arabic": "Arab", "hebrew": "Hebr", "russian": "Cyrl", "chinese": "Hani"}
MAX_SUB = {"Hani": 4}
# EM iterations per script (the shipped model); Han converges in fewer and costs the most.
ITERATIONS = {"Arab": 8, "Hebr": 8, "Cyrl": 8, "Hani": 5}
BACKOFF_K = 3.0
KEEP_PROB = 0.004
KEEP_TOP = 12
MIN_CONTEXT = 3.0

Ctx = tuple[str, ...]
Dist = dict[str, float]


def load_pairs(path: Path) -> list[tuple[str, str, float]]:
    """(native, latin, weight) triples; the weight grows slowly with the pair's count."""
    merged: dict[tuple[str, str], float] = defaultdict(float)
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            lat, nat, count = line.rstrip("\n").split("\t")
            native = normalise_token(nat.replace(" ", ""))
            latin = latin_fold(lat)
            if native and latin:
                merged[(native, latin)] += float(count)
    return [(n, lt, 1.0 + math.log(c)) for (n, lt), c in sorted(merged.items())]


def contexts(native: str, i: int) -> tuple[Ctx, Ctx, Ctx]:
    prev = native[i - 1] if i > 0 else "^"
    nxt = native[i + 1] if i + 1 < len(native) else "$"
    c = native[i]
    return (c,), (c, nxt), (prev, c, nxt)


def m_step(counts: list[dict[Ctx, Dist]]) -> tuple[dict[Ctx, Dist], list[dict[Ctx, float]]]:
    """Back-off estimates for every context level; also returns the evidence per context."""
    p0: dict[Ctx, Dist] = {}
    for ctx, dist in counts[0].items():
        total = sum(dist.values())
        p0[ctx] = {s: v / total for s, v in dist.items()}
    p1: dict[Ctx, Dist] = {}
    for ctx, dist in counts[1].items():
        total = sum(dist.values())
        back = p0.get(ctx[:1], {})
        p1[ctx] = {
            s: (dist.get(s, 0.0) + BACKOFF_K * back.get(s, 0.0)) / (total + BACKOFF_K)
            for s in set(dist) | set(back)
        }
    p2: dict[Ctx, Dist] = {}
    for ctx, dist in counts[2].items():
        total = sum(dist.values())
        back = p1.get(ctx[1:], {})
        p2[ctx] = {
            s: (dist.get(s, 0.0) + BACKOFF_K * back.get(s, 0.0)) / (total + BACKOFF_K)
            for s in set(dist) | set(back)
        }
    merged = {**p0, **p1, **p2}
    evidence = [{ctx: sum(d.values()) for ctx, d in level.items()} for level in counts]
    return merged, evidence


def resolve(model: dict[Ctx, Dist], native: str, i: int) -> Dist:
    """Distribution of the most specific context of position ``i`` that the model knows."""
    for ctx in reversed(contexts(native, i)):
        dist = model.get(ctx)
        if dist is not None:
            return dist
    return {}


def length_prior(sub: str) -> float:
    return (0.15, 0.5, 0.25, 0.08, 0.02)[len(sub)]


def e_step(
    pairs: list[tuple[str, str, float]], model: dict[Ctx, Dist] | None, max_sub: int
) -> tuple[list[dict[Ctx, Dist]], float]:
    """Forward-backward over monotone alignments; expected counts per context level."""
    counts: list[dict[Ctx, Dist]] = [defaultdict(lambda: defaultdict(float)) for _ in range(3)]
    loglik = 0.0
    for native, latin, weight in pairs:
        n, m = len(native), len(latin)
        if m > n * max_sub:
            continue
        emit: list[dict[tuple[int, int], float]] = []
        for i in range(n):
            dist = None if model is None else resolve(model, native, i)
            row: dict[tuple[int, int], float] = {}
            for j in range(m + 1):
                for k in range(max_sub + 1):
                    if j + k > m:
                        break
                    sub = latin[j : j + k]
                    row[(j, k)] = length_prior(sub) if dist is None else dist.get(sub, 1e-6)
            emit.append(row)
        alpha = [[0.0] * (m + 1) for _ in range(n + 1)]
        alpha[0][0] = 1.0
        for i in range(n):
            a_i, a_next, row = alpha[i], alpha[i + 1], emit[i]
            for j in range(m + 1):
                a = a_i[j]
                if a == 0.0:
                    continue
                for k in range(max_sub + 1):
                    if j + k > m:
                        break
                    a_next[j + k] += a * row[(j, k)]
        z = alpha[n][m]
        if z <= 0.0:
            continue
        loglik += weight * math.log(z)
        beta = [[0.0] * (m + 1) for _ in range(n + 1)]
        beta[n][m] = 1.0
        for i in range(n - 1, -1, -1):
            b_i, b_next, row = beta[i], beta[i + 1], emit[i]
            for j in range(m + 1):
                total = 0.0
                for k in range(max_sub + 1):
                    if j + k > m:
                        break
                    total += row[(j, k)] * b_next[j + k]
                b_i[j] = total
        for i in range(n):
            ctxs = contexts(native, i)
            a_i, b_next, row = alpha[i], beta[i + 1], emit[i]
            for j in range(m + 1):
                a = a_i[j]
                if a == 0.0:
                    continue
                for k in range(max_sub + 1):
                    if j + k > m:
                        break
                    post = a * row[(j, k)] * b_next[j + k] / z
                    if post < 1e-4:
                        continue
                    sub = latin[j : j + k]
                    for level, ctx in enumerate(ctxs):
                        counts[level][ctx][sub] += weight * post
    return counts, loglik


def prune(
    model: dict[Ctx, Dist], evidence: list[dict[Ctx, float]]
) -> dict[str, list[list[object]]]:
    """Keep contexts with enough evidence and their likely substrings, as log-probabilities."""
    out: dict[str, list[list[object]]] = {}
    for ctx in sorted(model):
        if evidence[len(ctx) - 1].get(ctx, 0.0) < (0.0 if len(ctx) == 1 else MIN_CONTEXT):
            continue
        dist = model[ctx]
        items = sorted(dist.items(), key=lambda kv: (-kv[1], kv[0]))
        kept = [(s, p) for s, p in items[:KEEP_TOP] if p >= KEEP_PROB]
        if not kept:
            continue
        out["\t".join(ctx)] = [[s, round(math.log(p), 3)] for s, p in kept]
    return out


def train_script(name: str, iterations: int) -> dict[str, list[list[object]]]:
    print(f"training {name}", file=sys.stderr)
    script = SCRIPTS[name]
    pairs = load_pairs(DATA / f"{name}.train.tsv")
    max_sub = MAX_SUB.get(script, 3)
    model: dict[Ctx, Dist] | None = None
    evidence: list[dict[Ctx, float]] = [{}, {}, {}]
    for it in range(iterations):
        t0 = time.perf_counter()
        counts, loglik = e_step(pairs, model, max_sub)
        model, evidence = m_step(counts)
        print(
            f"  {name} iteration {it + 1}: log-likelihood {loglik:.0f} "
            f"({time.perf_counter() - t0:.0f}s)",
            file=sys.stderr,
        )
    assert model is not None
    return prune(model, evidence)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--iterations",
        type=int,
        default=0,
        help="EM iterations for every script (default: ITERATIONS per script)",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--scripts", nargs="*", default=sorted(SCRIPTS))
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="scripts trained in parallel (one process each)",
    )
    args = parser.parse_args()
    result: dict[str, object] = {"version": 1, "source": "xlit *.train.tsv (Wikidata, CC0)"}
    names = sorted(args.scripts, key=lambda n: -(DATA / f"{n}.train.tsv").stat().st_size)
    with multiprocessing.Pool(min(args.jobs, len(names))) as pool:
        jobs = [(n, args.iterations or ITERATIONS[SCRIPTS[n]]) for n in names]
        trained = pool.starmap(train_script, jobs)
    result["tables"] = {SCRIPTS[n]: t for n, t in sorted(zip(names, trained, strict=True))}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(result, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
        encoding="utf-8",
    )
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)", file=sys.stderr)


if __name__ == "__main__":
    main()
