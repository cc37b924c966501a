"""In-memory candidate generation for bulk linkage, with the engine's own blocking keys.

An inverted index maps each key to the records carrying it. A record's candidates are the
records sharing at least one seeding key (a name key or the full birth date), keys shared by
more than `max_postings` records being skipped as too common. Candidates are ranked by the
pieces of the probe's evidence they meet (`matching.lookup_plan`: each name part, the father's
name, the birth date), each counted once at the rarest key that meets it, and the best
`max_candidates` are scored. The database does the same with an indexed keys table (a pair
that blocking misses is a miss).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from matching import SEED_KINDS, rank_weight

MAX_POSTINGS = 2000
MAX_CANDIDATES = 200


class KeyIndex:
    """Postings of blocking keys over a list of records (positions in that list)."""

    def __init__(self, keys: Sequence[frozenset[str]]) -> None:
        postings: dict[str, list[int]] = defaultdict(list)
        for position, record_keys in enumerate(keys):
            for key in record_keys:
                postings[key].append(position)
        self.postings = dict(postings)

    def candidates(
        self,
        plan: Mapping[str, int],
        *,
        max_postings: int = MAX_POSTINGS,
        max_candidates: int = MAX_CANDIDATES,
    ) -> list[int]:
        """Positions sharing a seeding key with a probe's `lookup_plan`, best first (the pieces of
        evidence met, each at its rarest key: `rank_weight`), at most max_candidates."""
        cap = max_postings + 1
        best: dict[tuple[int, int], float] = {}
        seeded: set[int] = set()
        for key, slot in plan.items():
            posting = self.postings.get(key)
            if posting is None or len(posting) >= cap:
                continue
            weight = rank_weight(len(posting), cap)
            for position in posting:
                if best.get((position, slot), -1.0) < weight:
                    best[(position, slot)] = weight
            if key[0] in SEED_KINDS:
                seeded.update(posting)
        score: dict[int, float] = defaultdict(float)
        for (position, _), weight in best.items():
            if position in seeded:
                score[position] += weight
        ranked = sorted(score, key=lambda position: (-score[position], position))
        return ranked[:max_candidates]
