"""The one-way dependency rule: `matching/` and `schemas/` import nothing from the repo."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = {"service", "matching", "schemas", "migrations", "tests", "benchmarks"}
ALLOWED = {
    "matching": {"matching"},
    "schemas": {"schemas"},
    "service": {"service", "matching", "schemas", "migrations"},
    "migrations": {"migrations", "service"},
}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & FIRST_PARTY


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_follow_the_layering(package):
    offenders = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        wrong = _imported_packages(path) - ALLOWED[package]
        if wrong:
            offenders[str(path.relative_to(ROOT))] = sorted(wrong)
    assert offenders == {}


def test_matching_imports_only_its_allowed_libraries():
    allowed = {
        "anyascii",
        "convertdate",
        "hijridate",
        "jdatetime",
        "jellyfish",
        "numpy",
        "rapidfuzz",
        "matching",
        "habesha_names",
    }
    import sys

    stdlib = set(sys.stdlib_module_names)
    offenders = {}
    for path in sorted((ROOT / "matching").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        wrong = names - allowed - stdlib
        if wrong:
            offenders[str(path.relative_to(ROOT))] = sorted(wrong)
    assert offenders == {}
