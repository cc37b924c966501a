"""Comparing person records: Fellegi-Sunter evidence, a calibrated probability, an explanation.

`Matcher.compare(left, right)` ranks nothing and normalises nothing against other candidates:
the probability of a pair depends on that pair alone, so it means the same in every search and
one threshold (`DEFAULT_REVIEW_THRESHOLD`) serves every caseworker.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from matching._fields import (
    MISSING,
    STRONG_PART,
    FieldLevel,
    NameMatch,
    PreparedRecord,
    compare_fields,
    prepare,
)
from matching._model import (
    FLAT_FREQUENCIES,
    Model,
    NameFrequencies,
    default_frequencies,
    default_model,
)
from matching.calibration import Calibration, fit_calibration
from matching.records import PersonRecord

DEFAULT_REVIEW_THRESHOLD = 0.5
"""Pairs at or above this probability are proposed to reviewers: "more likely than not".

Fixed before any benchmark was run; it is a probability, so it does not move with the data.
"""

PART_FREQUENCY_CAP = (-2.0, 3.0)
NAME_FREQUENCY_CAP = (-3.0, 4.0)
MAX_CACHED_EVIDENCE = 1 << 16


@dataclass(frozen=True, slots=True)
class PartEvidence:
    """One aligned pair of name parts: what met what, through which key, and how rare it is."""

    left: str
    right: str
    key: str
    similarity: float
    frequency: float
    bits: float


@dataclass(frozen=True, slots=True)
class FieldEvidence:
    """A field's level on its ladder and its contribution in bits."""

    field: str
    level: str
    bits: float
    detail: str
    parts: tuple[PartEvidence, ...] = ()


@dataclass(frozen=True, slots=True)
class Comparison:
    """How likely two records are the same person, and why."""

    left_id: str
    right_id: str
    probability: float
    match_weight: float
    fields: tuple[FieldEvidence, ...]
    model_version: str

    def explanation(self) -> dict[str, Any]:
        """A compact, JSON-ready explanation (levels, bits, aligned name parts)."""
        fields: dict[str, Any] = {}
        for evidence in self.fields:
            entry: dict[str, Any] = {"level": evidence.level, "bits": round(evidence.bits, 2)}
            if evidence.parts:
                entry["parts"] = [
                    [p.left, p.right, p.key, round(p.similarity, 2), round(p.bits, 2)]
                    for p in evidence.parts
                ]
            fields[evidence.field] = entry
        return {"model": self.model_version, "fields": fields}

    def explanation_json(self) -> str:
        """The explanation as compact JSON (one CSV cell, one database column)."""
        return json.dumps(self.explanation(), ensure_ascii=False, separators=(",", ":"))

    def explain(self) -> str:
        """The explanation as plain text a reviewer can read."""
        lines = [
            f"probability {self.probability:.4f} (evidence {self.match_weight:+.1f} bits, "
            f"model {self.model_version})"
        ]
        for evidence in self.fields:
            if evidence.level == MISSING:
                lines.append(f"  {evidence.field:<17} not compared (missing on one side)")
                continue
            lines.append(
                f"  {evidence.field:<17} {evidence.level:<19} {evidence.bits:+6.1f} bits  "
                f"{evidence.detail}"
            )
            for part in evidence.parts:
                lines.append(
                    f"      {part.left} = {part.right} via {part.key} "
                    f"(similarity {part.similarity:.2f}, name frequency {part.frequency:.2g}, "
                    f"{part.bits:+.1f} bits)"
                )
        return "\n".join(lines)


def _clip(value: float, bounds: tuple[float, float]) -> float:
    return max(bounds[0], min(bounds[1], value))


def _part_evidence(match: NameMatch, frequencies: NameFrequencies) -> tuple[PartEvidence, ...]:
    """Aligned parts with their frequency adjustment: a shared rare name is stronger evidence.

    The adjustment of a part is log2(typical frequency / frequency of the part), the more
    common spelling of the two sides counting, scaled by the similarity and capped; weak
    (fuzzy) agreements get none.
    """
    parts = []
    for pair in match.alignment.pairs:
        left_tokens = [match.left.parts[i].token for i in pair.left]
        right_tokens = [match.right.parts[i].token for i in pair.right]
        frequency = max(frequencies.of(t.identity) for t in (*left_tokens, *right_tokens))
        bits = 0.0
        if pair.score >= STRONG_PART:
            bits = _clip(math.log2(frequencies.typical / frequency), PART_FREQUENCY_CAP)
            bits *= pair.score
        parts.append(
            PartEvidence(
                left=" ".join(t.text for t in left_tokens),
                right=" ".join(t.text for t in right_tokens),
                key=pair.key.value,
                similarity=pair.score,
                frequency=frequency,
                bits=bits,
            )
        )
    return tuple(parts)


class Matcher:
    """Scores pairs of person records with one model version.

    `use_name_model=False` switches off the learned romanisation table of the name analysis
    and `use_name_frequencies=False` the name-frequency table (both derived from Wikidata), for
    measuring what they add. A model trained with name frequencies brings its own table, used
    in place of the shipped one.
    """

    def __init__(
        self,
        model: Model | None = None,
        frequencies: NameFrequencies | None = None,
        *,
        use_name_model: bool = True,
        use_name_frequencies: bool = True,
        calibration: Calibration | None = None,
    ) -> None:
        self.model = model or default_model()
        default = self.model.frequencies or default_frequencies()
        self.frequencies = frequencies or (default if use_name_frequencies else FLAT_FREQUENCIES)
        self.use_name_model = use_name_model
        self.calibration = calibration
        self._weights: dict[tuple[str, str], float] = {}
        self._plain: dict[tuple[str, str, str], FieldEvidence] = {}

    @property
    def model_version(self) -> str:
        """Version of the model this matcher scores with (with its calibration, if any)."""
        if self.calibration is None:
            return self.model.version
        return f"{self.model.version}+{self.calibration.label}"

    def probability(self, match_weight: float) -> float:
        """The probability of a match weight: the model's one fixed prior applied, or the
        calibration fitted to reviewers' decisions, so that evidence added outside the record
        comparison means the same everywhere."""
        if self.calibration is not None:
            return self.calibration.probability(match_weight)
        return self.model.probability(match_weight)

    def recalibrated(
        self, weights: Sequence[float], same_person: Sequence[bool], label: str
    ) -> Matcher:
        """A matcher of the same model whose probabilities are fitted to decided pairs (their
        match weights, and whether reviewers confirmed them): a new model version, `label`."""
        calibration = fit_calibration(weights, same_person, self.model.prior_bits, label)
        return Matcher(
            self.model,
            self.frequencies,
            use_name_model=self.use_name_model,
            calibration=calibration,
        )

    def prepare(self, record: PersonRecord | PreparedRecord) -> PreparedRecord:
        """Analyse a record once for many comparisons (idempotent)."""
        if isinstance(record, PreparedRecord):
            return record
        return prepare(record, self.use_name_model)

    def _evidence(self, level: FieldLevel) -> FieldEvidence:
        if level.names is None:
            return self._plain_evidence(level.field, level.level, level.detail)
        bits = self._weight(level.field, level.level)
        parts = _part_evidence(level.names, self.frequencies)
        bits += _clip(sum(p.bits for p in parts), NAME_FREQUENCY_CAP)
        return FieldEvidence(level.field, level.level, bits, level.detail, parts)

    def _weight(self, field: str, level: str) -> float:
        """The model's weight of a level, computed once per matcher and model."""
        key = (field, level)
        bits = self._weights.get(key)
        if bits is None:
            bits = self._weights[key] = self.model.weight(field, level)
        return bits

    def _plain_evidence(self, field: str, level: str, detail: str) -> FieldEvidence:
        """Evidence of a field without name parts: a function of its level and detail alone,
        so the same (immutable) one serves every pair that reaches them."""
        key = (field, level, detail)
        evidence = self._plain.get(key)
        if evidence is None:
            if len(self._plain) >= MAX_CACHED_EVIDENCE:
                self._plain.clear()
            evidence = FieldEvidence(field, level, self._weight(field, level), detail)
            self._plain[key] = evidence
        return evidence

    def compare(
        self, left: PersonRecord | PreparedRecord, right: PersonRecord | PreparedRecord
    ) -> Comparison:
        """The probability that two records are the same person, with the evidence per field."""
        a, b = self.prepare(left), self.prepare(right)
        evidence = tuple(self._evidence(level) for level in compare_fields(a, b))
        weight = sum(e.bits for e in evidence)
        return Comparison(
            left_id=a.record.id,
            right_id=b.record.id,
            probability=self.probability(weight),
            match_weight=weight,
            fields=evidence,
            model_version=self.model_version,
        )

    def compare_one_to_many(
        self,
        record: PersonRecord | PreparedRecord,
        candidates: Iterable[PersonRecord | PreparedRecord],
        *,
        threshold: float = 0.0,
        top: int | None = None,
    ) -> list[Comparison]:
        """Compare one record with candidates; best first (ties by id), at or above threshold."""
        prepared = self.prepare(record)
        results = [
            c
            for c in (self.compare(prepared, candidate) for candidate in candidates)
            if c.probability >= threshold
        ]
        results.sort(key=lambda c: (-c.match_weight, c.right_id))
        return results if top is None else results[:top]

    def compare_many_to_many(
        self,
        lefts: Sequence[PersonRecord | PreparedRecord],
        rights: Sequence[PersonRecord | PreparedRecord],
        *,
        threshold: float = 0.0,
        top: int | None = None,
    ) -> Iterator[Comparison]:
        """Every left record against every right record (use blocking for large inputs)."""
        prepared_rights = [self.prepare(r) for r in rights]
        for left in lefts:
            yield from self.compare_one_to_many(left, prepared_rights, threshold=threshold, top=top)
