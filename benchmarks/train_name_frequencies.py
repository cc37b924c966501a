"""Build `matching/data/name_frequencies.json` from the xlit *train* files (never dev).

    uv run python benchmarks/train_name_frequencies.py

Each train line is a person-name token as written in English and in another script, with how
often Wikidata pairs them. Summed per token identity (the engine's variant class or canonical
key, so that Mohammed, Muhammad and محمد count together) and normalised, the counts give the
relative frequency of a name part; the scorer weighs a shared rare part more than a common one.
Identities seen fewer than `MIN_COUNT` times are left out: they are rare and get the floor.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from matching.names import analyse_token

ROOT = Path(__file__).resolve().parents[1]
XLIT = ROOT / "benchmarks" / "data" / "xlit"
OUT = ROOT / "matching" / "data" / "name_frequencies.json"
MIN_COUNT = 3


def count_identities(paths: list[Path]) -> Counter[str]:
    """Summed pair counts per token identity, over both sides of every train pair."""
    counts: Counter[str] = Counter()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            latin, native, count = line.split("\t")
            weight = int(count)
            for token in (latin, native.replace(" ", "")):
                counts[analyse_token(token, False).identity] += weight
    return counts


def typical_frequency(counts: Counter[str]) -> float:
    """Frequency of the name part met by half of all name occurrences (mass-weighted median).

    A shared part this common is average evidence; rarer parts add bits, commoner ones remove.
    """
    total = sum(counts.values())
    seen = 0
    for _, count in counts.most_common():
        seen += count
        if seen * 2 >= total:
            return count / total
    return 1.0 / total


def frequency_document(counts: Counter[str]) -> dict[str, object]:
    """Relative frequencies, the floor for unseen identities and the typical frequency."""
    total = sum(counts.values())
    table = {k: float(f"{v / total:.3g}") for k, v in counts.most_common() if v >= MIN_COUNT}
    return {
        "source": "xlit train files (Wikidata person-name token pairs, CC0)",
        "total": total,
        "floor": MIN_COUNT / total / 2,
        "typical": typical_frequency(counts),
        "table": table,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    counts = count_identities(sorted(XLIT.glob("*.train.tsv")))
    document = frequency_document(counts)
    args.out.write_text(json.dumps(document, ensure_ascii=False, sort_keys=True) + "\n")
    print(
        f"{len(document['table'])} identities from {document['total']} token occurrences -> "
        f"{args.out}"
    )


if __name__ == "__main__":
    main()
