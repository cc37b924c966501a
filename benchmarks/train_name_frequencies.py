"""Build `matching/data/name_frequencies.json` from the xlit *train* files (never dev).

    uv run python benchmarks/train_name_frequencies.py

Each train line is a person-name token as written in English and in another script, with how
often Wikidata pairs them. Summed per token identity (the engine's variant class or canonical
key, so that Mohammed, Muhammad and محمد count together) and normalised, the counts give the
relative frequency of a name part; the scorer weighs a shared rare part more than a common one.
Identities seen fewer than `matching._model.MIN_COUNT` (3) times are left out: they are rare and
get the floor.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from matching._model import frequencies_from_counts
from matching.names import analyse_token

ROOT = Path(__file__).resolve().parents[1]
XLIT = ROOT / "benchmarks" / "data" / "xlit"
OUT = ROOT / "matching" / "data" / "name_frequencies.json"


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


def frequency_document(counts: Counter[str]) -> dict[str, object]:
    """Relative frequencies, the floor for unseen identities and the typical frequency (as
    `kintrace model train --frequencies` builds them from records)."""
    return {
        "source": "xlit train files (Wikidata person-name token pairs, CC0)",
        "total": sum(counts.values()),
        **frequencies_from_counts(counts).to_json(),
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
