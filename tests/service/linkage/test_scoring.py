"""Scoring candidate pairs in forked processes gives what one process gives, in order."""

from __future__ import annotations

import numpy as np

from matching import Matcher, PersonName, PersonRecord, parse_fuzzy_date
from service.linkage import scoring


def test_forked_processes_score_as_one_process_does(monkeypatch):
    matcher = Matcher()
    names = ["Ahmad Karimi", "Ahmed Karimy", "Karimi Ahmad", "Fatima Osman", "Ftaima Osman"]
    prepared = [
        matcher.prepare(PersonRecord(str(i), (PersonName(name),), "M", parse_fuzzy_date("1984")))
        for i, name in enumerate(names)
    ]
    lows = np.array([0, 0, 1, 3, 0], dtype=np.int64)
    highs = np.array([1, 2, 2, 4, 3], dtype=np.int64)
    monkeypatch.setattr(scoring, "CHUNK", 2)
    done: list[int] = []

    def run(jobs: int) -> list[tuple[int, int, float]]:
        scored = scoring.score_pairs(
            prepared, lows, highs, matcher, threshold=0.2, jobs=jobs, progress=done.append
        )
        return [(low, high, c.probability) for low, high, c in scored]

    alone = run(1)
    assert sum(done) == 5
    assert run(2) == alone
    assert sum(done) == 10
    assert [(low, high) for low, high, _ in alone] == [(0, 1), (0, 2), (1, 2), (3, 4)]
