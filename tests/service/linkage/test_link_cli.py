"""`kintrace link` and `kintrace dedupe` end to end (the output contract): the contract as a
real process, the other cases through the same command-line application in the test's process
(a new Python process costs seconds of imports each)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from matching import default_model
from service.cli.main import app
from service.linkage.csvfile import iter_pairs

LEFT = (
    "id,full_name,sex,birth_date\n"
    "L1,محمد أحمد الحسن,M,hijri:1410-08-15\n"
    "L2,Олександр Коваленко,M,1979-11-02\n"
    ",nobody,,\n"
)
RIGHT = (
    "\ufeffid,full_name,given_name,family_name,sex,birth_date,other_names,shoe_size\n"
    "R1,Mohammed Al-Hassan,,,male,1990-03-12,,42\n"
    "R2,Mohamed Ahmed Alhassan,,,M,1990,,41\n"
    "R3,,Oleksandr,Kovalenko,M,1979-11-02,Sasha,40\n"
    "R4,Leila Karimi,,,F,1990,,38\n"
)


def kintrace_process(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as its own process."""
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "KINTRACE_LOG_JSON": "true"},
    )


@dataclass(frozen=True)
class Done:
    returncode: int
    stderr: str


def kintrace(*args: str) -> Done:
    """The command through the `kintrace` application, in this process."""
    result = CliRunner().invoke(app, list(args), env={"KINTRACE_LOG_JSON": "true"})
    return Done(result.exit_code, result.stderr)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_link_writes_the_contract(tmp_path):
    left, right = write(tmp_path, "left.csv", LEFT), write(tmp_path, "right.csv", RIGHT)
    out = tmp_path / "pairs.csv"
    done = kintrace_process("link", str(left), str(right), "--out", str(out), "--threshold", "0")
    assert done.returncode == 0, done.stderr
    assert "left.csv: line 4: no id, row skipped" in done.stderr
    assert done.stderr.count("unknown columns ignored: shoe_size") == 1
    rows = list(iter_pairs(out))
    assert list(rows[0]) == ["left_id", "right_id", "probability", "match_weight", "explanation"]
    by_left: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_left.setdefault(row["left_id"], []).append(row)
        assert len(row["probability"].split(".")[1]) >= 4
        assert json.loads(row["explanation"])["fields"]["name"]["level"]
    assert by_left["L1"][0]["right_id"] == "R1"
    assert by_left["L2"][0]["right_id"] == "R3"
    for pairs in by_left.values():
        weights = [float(p["match_weight"]) for p in pairs]
        assert weights == sorted(weights, reverse=True)
    assert "R4" not in {row["right_id"] for row in rows if row["left_id"] == "L2"}


def test_link_top_and_threshold(tmp_path):
    left, right = write(tmp_path, "left.csv", LEFT), write(tmp_path, "right.csv", RIGHT)
    out = tmp_path / "pairs.csv"
    done = kintrace(
        "link", str(left), str(right), "--out", str(out), "--threshold", "0", "--top", "1"
    )
    assert done.returncode == 0, done.stderr
    rows = list(iter_pairs(out))
    assert sorted(row["left_id"] for row in rows) == ["L1", "L2"]
    strict = tmp_path / "strict.csv"
    kintrace("link", str(left), str(right), "--out", str(strict), "--threshold", "0.999999")
    assert all(float(row["probability"]) >= 0.999999 for row in iter_pairs(strict))


def test_dedupe_writes_each_pair_once_left_first_in_file(tmp_path):
    file = write(
        tmp_path,
        "people.csv",
        RIGHT + "R5,Fatima Hassan,,,F,1960,,\nR6,Mohammed Al Hassan,,,M,1990-03-12,,\n",
    )
    out = tmp_path / "pairs.csv"
    done = kintrace("dedupe", str(file), "--out", str(out), "--threshold", "0")
    assert done.returncode == 0, done.stderr
    rows = list(iter_pairs(out))
    pairs = [(row["left_id"], row["right_id"]) for row in rows]
    assert len(pairs) == len({frozenset(pair) for pair in pairs})
    order = ["R1", "R2", "R3", "R4", "R5", "R6"]
    assert all(order.index(a) < order.index(b) for a, b in pairs)
    assert ("R1", "R6") in pairs


def test_unreadable_or_empty_files_fail(tmp_path):
    out = tmp_path / "pairs.csv"
    missing = kintrace("dedupe", str(tmp_path / "absent.csv"), "--out", str(out))
    assert missing.returncode != 0
    empty = write(tmp_path, "empty.csv", "id,full_name\n,no id\n")
    done = kintrace("dedupe", str(empty), "--out", str(out))
    assert done.returncode != 0
    assert "no usable row" in done.stderr
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("id,full_name\n1,Müller\n".encode("latin-1"))
    assert kintrace("dedupe", str(latin1), "--out", str(out)).returncode != 0


def test_a_model_trained_on_the_files_is_used_by_link(tmp_path: Path) -> None:
    left, right = write(tmp_path, "left.csv", LEFT), write(tmp_path, "right.csv", RIGHT)
    model = tmp_path / "model.json"
    trained = kintrace("model", "train", str(left), str(right), "--out", str(model))
    assert trained.returncode == 0, trained.stderr
    document = json.loads(model.read_text(encoding="utf-8"))
    assert document["version"].startswith("em-")
    out = tmp_path / "pairs.csv"
    model_option = ("--model", str(model), "--threshold", "0")
    done = kintrace("link", str(left), str(right), "--out", str(out), *model_option)
    assert done.returncode == 0, done.stderr
    pairs = list(iter_pairs(out))
    assert pairs and all(
        json.loads(pair["explanation"])["model"] == document["version"] for pair in pairs
    )


def test_name_frequencies_of_the_file_come_with_the_shipped_parameters(tmp_path: Path) -> None:
    left = write(tmp_path, "left.csv", LEFT)
    model = tmp_path / "model.json"
    train = ("model", "train", str(left), "--out", str(model))
    trained = kintrace(*train, "--no-parameters", "--frequencies")
    assert trained.returncode == 0, trained.stderr
    document = json.loads(model.read_text(encoding="utf-8"))
    shipped = default_model()
    assert document["version"].startswith(f"{shipped.version}+tf-")
    assert document["levels"] == shipped.to_json()["levels"]
    assert document["name_frequencies"]["typical"] > 0
    out = tmp_path / "pairs.csv"
    done = kintrace("dedupe", str(left), "--out", str(out), "--model", str(model))
    assert done.returncode == 0, done.stderr
    nothing = kintrace(*train, "--no-parameters")
    assert nothing.returncode == 2
    assert "nothing to train" in nothing.stderr


def test_a_model_file_that_cannot_be_read_is_refused(tmp_path: Path) -> None:
    left = write(tmp_path, "left.csv", LEFT)
    broken = write(tmp_path, "model.json", '{"version": "x", "levels": {}}')
    out = tmp_path / "pairs.csv"
    for model in (broken, tmp_path / "absent.json"):
        done = kintrace("dedupe", str(left), "--out", str(out), "--model", str(model))
        assert done.returncode == 2
        assert "cannot read the model" in done.stderr
