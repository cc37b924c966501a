"""In-memory candidate generation for bulk linkage, with the engine's own blocking keys.

An inverted index maps each key to the records carrying it. A record's candidates are the
records sharing at least one name key (`n:`), keys shared by more than `max_postings` records
being skipped as too common; candidates are then ranked by how many keys they share (names,
father's name, birth years) and the best `max_candidates` are scored. The database does the
same with an indexed keys table (a pair that blocking misses is a miss).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

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
        keys: frozenset[str],
        *,
        max_postings: int = MAX_POSTINGS,
        max_candidates: int = MAX_CANDIDATES,
    ) -> list[int]:
        """Positions sharing a name key, best (most shared keys) first, at most max_candidates."""
        shared: Counter[int] = Counter()
        seeded = False
        for key in keys:
            posting = self.postings.get(key)
            if posting is None or len(posting) > max_postings:
                continue
            if key.startswith("n:"):
                seeded = True
            shared.update(posting)
        if not seeded:
            return []
        name_seeded = {
            position
            for key in keys
            if key.startswith("n:") and len(self.postings.get(key, ())) <= max_postings
            for position in self.postings.get(key, ())
        }
        ranked = sorted(
            (position for position in shared if position in name_seeded),
            key=lambda position: (-shared[position], position),
        )
        return ranked[:max_candidates]
