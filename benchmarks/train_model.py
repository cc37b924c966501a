"""Train a scoring model on unlabelled synthetic records (a candidate for the shipped model).

    timeout 1800 uv run python benchmarks/train_model.py [--n 20000] [--seed 90210] [--out F]

Writes `benchmarks/out/model-synthetic.json` by default. Measured with the held-out benchmarks
(FEBRL4, people across scripts: copy the file over `matching/data/model.json` and rerun them),
it scored worse than the shipped prior model, so it is not shipped; see `benchmarks/README.md`.

The records come from the seeded synthetic generator (`benchmarks/synthetic_people.py`) with a
seed no benchmark uses; only `people.csv` is read, never the truth file the generator also
writes. Training is `matching.train_model`, the same code as `kintrace model train`: u from
random pairs (less the matches among them), m by EM with u fixed over pairs born the same day,
the birth date's own m from pairs of the same name, the prior kept from the shipped model (see
`matching/training.py`): the prior is a documented constant, not a training result. The same
arguments give the same model (and version).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from benchmarks.synthetic_people import generate
from matching import default_model, train_model
from service.linkage.csvfile import read_records

ROOT = Path(__file__).resolve().parents[1]
MODEL_PATH = ROOT / "benchmarks" / "out" / "model-synthetic.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=90210)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        generate(args.n, args.seed, Path(folder))
        records = read_records(Path(folder) / "people.csv").records
    report = train_model(records, base=default_model(), seed=args.seed)
    model = report.model
    document = model.to_json() | {
        "description": f"{model.description} Records: benchmarks/synthetic_people.py "
        f"--n {args.n} --seed {args.seed} (unlabelled)."
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"model {model.version}: prior {model.prior:g} (kept)")
    print(document["description"])
    for line in model.weight_lines():
        print(f"  {line}")


if __name__ == "__main__":
    main()
