"""Kintrace's matching engine: a pure library behind this facade.

Compare two person records and get the probability that they are the same person, the
evidence in bits and an explanation a reviewer can read:

>>> from matching import Matcher, PersonRecord, PersonName, parse_fuzzy_date
>>> left = PersonRecord("1", (PersonName("محمد أحمد"),), "M", parse_fuzzy_date("1990"))
>>> right = PersonRecord("2", (PersonName("Mohammed Ahmed"),), "M", parse_fuzzy_date("1990"))
>>> Matcher().compare(left, right).probability > 0.0
True

Everything not listed in `__all__` is private.
"""

from matching._fields import PreparedRecord
from matching._model import Model, default_model, load_model
from matching.blocking import (
    SEED_KINDS,
    KeyIndex,
    blocking_keys,
    lookup_keys,
    lookup_plan,
    rank_weight,
)
from matching.bulk import BULK_CANDIDATES, BulkRecords, candidate_pairs
from matching.calibration import Calibration, fit_calibration, identity_calibration, log_loss
from matching.dates import (
    DEFAULT_UNCERTAINTY_YEARS,
    Calendar,
    DateComparison,
    DateLevel,
    FuzzyDate,
    FuzzyDateError,
    compare_dates,
    date_bounds,
    format_fuzzy_date,
    parse_fuzzy_date,
    to_gregorian,
)
from matching.names import Script, token_script
from matching.records import PersonName, PersonRecord
from matching.scoring import (
    DEFAULT_REVIEW_THRESHOLD,
    Comparison,
    FieldEvidence,
    Matcher,
    PartEvidence,
)
from matching.training import TrainingReport, train_model, with_record_frequencies

__all__ = [
    "BULK_CANDIDATES",
    "DEFAULT_REVIEW_THRESHOLD",
    "SEED_KINDS",
    "DEFAULT_UNCERTAINTY_YEARS",
    "Calendar",
    "BulkRecords",
    "Calibration",
    "Comparison",
    "DateComparison",
    "DateLevel",
    "FieldEvidence",
    "FuzzyDate",
    "FuzzyDateError",
    "KeyIndex",
    "Matcher",
    "Model",
    "PartEvidence",
    "PersonName",
    "PersonRecord",
    "PreparedRecord",
    "Script",
    "TrainingReport",
    "blocking_keys",
    "candidate_pairs",
    "compare_dates",
    "date_bounds",
    "default_model",
    "fit_calibration",
    "format_fuzzy_date",
    "identity_calibration",
    "load_model",
    "log_loss",
    "lookup_keys",
    "lookup_plan",
    "parse_fuzzy_date",
    "rank_weight",
    "to_gregorian",
    "token_script",
    "train_model",
    "with_record_frequencies",
]
