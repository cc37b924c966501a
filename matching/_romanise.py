"""Romanisation of name tokens: several Latin spellings per token, best first.

Two sources are combined:

* **Rules**: anyascii (ISC, covers every script we meet, one reading per character) plus small
  hand tables of the alternatives human romanisers use (Russian vs Ukrainian vs "English"
  Cyrillic, German umlauts, Ge'ez vowel orders, abjad vowel insertion for Arabic-script letters
  that the learned model has not seen).
* **Learned**: a character-alignment model trained on the xlit *train* pairs
  (``benchmarks/train_name_model.py``): P(Latin substring | native letter, previous, next),
  decoded by beam search. It knows that in names ``ج`` is j, g or dj, that ``貝`` is "be" in
  Isabella, and where unwritten vowels go. It is optional (``use_model=False``) so benchmarks can
  report the engine with and without the table.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from importlib import resources
from operator import itemgetter

from anyascii import anyascii

from matching._scripts import Language, Script
from matching._text import latin_fold

Options = tuple[tuple[str, float], ...]
Table = dict[tuple[str, ...], Options]
Beams = list[tuple[str, float]]

_SCORE = itemgetter(1)

# Where the script writes every sound, the standard transliteration is the most trusted
# spelling; in abjads and Han the learned model's first guess is.
_ALPHABETS = frozenset({Script.CYRILLIC, Script.GREEK, Script.ARMENIAN, Script.GEORGIAN})

BEAM = 24
MAX_LEARNED = 6
# Names written in Cyrillic come from every language (French, Spanish, Japanese or Chinese
# names in Russian spelling), so the right Latin spelling is often far down the model's list.
MAX_LEARNED_BY_SCRIPT = {Script.CYRILLIC: 12}


@lru_cache(maxsize=1)
def _model() -> dict[str, Table]:
    """Load the shipped alignment model once (about 1 MB of JSON)."""
    path = resources.files("matching").joinpath("data", "xlit_model.json")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    tables: dict[str, Table] = {}
    for script, table in raw["tables"].items():
        tables[script] = {
            tuple(key.split("\t")): tuple((str(s), float(lp)) for s, lp in subs)
            for key, subs in table.items()
        }
    return tables


def model_scripts() -> frozenset[Script]:
    """Scripts the learned model covers."""
    return frozenset(Script(s) for s in _model())


def _options(table: Table, native: str, i: int) -> Options:
    prev = native[i - 1] if i > 0 else "^"
    nxt = native[i + 1] if i + 1 < len(native) else "$"
    c = native[i]
    for ctx in ((prev, c, nxt), (c, nxt), (c,)):
        found = table.get(ctx)
        if found:
            return found
    fallback = latin_fold(anyascii(c))
    return ((fallback, -2.0),)


@lru_cache(maxsize=65536)
def learned_romanisations(native: str, script: Script) -> tuple[tuple[str, float], ...]:
    """Most probable Latin spellings of a normalised native token, with log-probabilities.

    Beam search over the letters; different alignments that spell the same string are merged
    (their probabilities added), which is what makes a spelling likely rather than one path.
    """
    table = _model().get(script.value)
    if not table or not native:
        return ()
    beams: Beams = [("", 0.0)]
    for i in range(len(native)):
        beams = _extend(beams, _options(table, native, i))
    limit = MAX_LEARNED_BY_SCRIPT.get(script, MAX_LEARNED)
    return tuple((s, round(lp, 3)) for s, lp in beams[:limit] if s)


def _extend(beams: Beams, options: Options) -> Beams:
    """One step of the search: every beam extended by every option, the best ``BEAM`` kept, best
    first.

    Floating-point sums depend on their order and equal scores are ranked by it, so both follow
    the order in which the extensions are made (beams best first, options in table order): the
    merge adds probabilities in that order and the stable sort keeps it among ties.
    """
    grown: dict[str, float] = {}
    setdefault = grown.setdefault
    for prefix, lp in beams:
        for sub, slp in options:
            key = prefix + sub
            score = lp + slp
            old = setdefault(key, score)
            if old is not score:  # a new float is never an object already stored: key was there
                grown[key] = _logaddexp(old, score)
    return sorted(grown.items(), key=_SCORE, reverse=True)[:BEAM]


def _logaddexp(a: float, b: float) -> float:
    hi, lo = (a, b) if a >= b else (b, a)
    return hi + math.log1p(math.exp(lo - hi))


# Alternative readings of Cyrillic letters used by different romanisation habits: Ukrainian
# national (и=y, г=h, і=i), informal "English", and German spellings (anyascii gives the
# Russian BGN-like one).
_UKRAINIAN_NATIONAL = {
    "г": "h",
    "и": "y",
    "і": "i",
    "ї": "yi",
    "є": "ye",
    "й": "i",
    "х": "kh",
    "щ": "shch",
}
_CYRILLIC_ALTS: tuple[dict[str, str], ...] = (
    {"х": "h", "кс": "x", "ий": "y", "ый": "y", "ье": "ie", "ж": "j", "ю": "iu", "я": "ia"},
    {
        "е": "e",
        "ж": "sch",
        "ш": "sch",
        "ч": "tsch",
        "в": "w",
        "й": "j",
        "я": "ja",
        "ю": "ju",
        "х": "ch",
        "ц": "z",
        "з": "s",
    },
)

_GERMAN_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def umlaut_spelling(text: str) -> str:
    """German transcription of umlauts (Müller -> mueller), which plain folding loses."""
    return latin_fold(text.casefold().translate(_GERMAN_UMLAUTS))


# Letters that Slavic, Baltic and Turkic Latin alphabets write with a diacritic (and the
# Polish digraphs) where romanisations of Cyrillic write an English-style digraph.
_SLAVIC_LETTERS = str.maketrans(
    {
        "ž": "zh",
        "ż": "zh",
        "ź": "zh",
        "č": "ch",
        "ć": "ch",
        "ç": "ch",
        "š": "sh",
        "ś": "sh",
        "ş": "sh",
        "ș": "sh",
        "đ": "dj",
        "ř": "rzh",
    }
)
_POLISH_DIGRAPHS = (("szcz", "shch"), ("sz", "sh"), ("cz", "ch"), ("rz", "zh"))
_LONE_C = re.compile("c(?!h)")
_NASALS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile("ę(?=[bp])"), "em"),
    (re.compile("ą(?=[bp])"), "om"),
    (re.compile("ę"), "en"),
    (re.compile("ą"), "on"),
)


def slavic_spelling(text: str) -> str:
    """The spelling a romanised Cyrillic name shares with a Slavic Latin one, which plain folding
    loses (Hadžibegić -> hadzhibegich, not hadzibegic; Krzycki -> kzhytski, as Кжицкий reads;
    Zarębski -> zarembski): the letters with a caron, acute or cedilla and the Polish digraphs
    as English digraphs, the Polish nasal vowels as a vowel and m or n, and a remaining ``c`` as
    the ``ts`` it is in those alphabets. "" for a token without any of them."""
    lowered = text.casefold()
    spelled = lowered
    for source, target in _POLISH_DIGRAPHS:  # before the letters: ř becomes rzh, not zhh
        spelled = spelled.replace(source, target)
    for pattern, nasal in _NASALS:
        spelled = pattern.sub(nasal, spelled)
    spelled = spelled.translate(_SLAVIC_LETTERS)
    if spelled == lowered:
        return ""
    return latin_fold(spelled.replace("ch", "\0").replace("c", "ts").replace("\0", "ch"))


def _cyrillic_variants(native: str, language: Language) -> list[str]:
    tables = (_UKRAINIAN_NATIONAL, *_CYRILLIC_ALTS)
    if language is not Language.UKRAINIAN:
        tables = (*_CYRILLIC_ALTS[:1], _UKRAINIAN_NATIONAL, *_CYRILLIC_ALTS[1:])
    out = []
    for table in tables:
        text = native
        for src in sorted(table, key=len, reverse=True):
            text = text.replace(src, table[src])
        out.append(latin_fold(text))
    return out


# Ge'ez syllables carry their vowel; anyascii writes the 6th order (sadis) as bare consonant or
# with "e"/"i" depending on the letter. Romanisers vary between e, a, and nothing there.
def _ethiopic_variants(native: str) -> list[str]:
    base = latin_fold(anyascii(native))
    return [base, base.replace("e", "a"), base.replace("ee", "e"), base.replace("e", "")]


@lru_cache(maxsize=65536)
def rule_romanisations(native: str, script: Script, language: Language) -> tuple[str, ...]:
    """Rule-based Latin spellings of a normalised token (anyascii first, then alternatives)."""
    base = latin_fold(anyascii(native))
    out = [base] if base else []
    if script is Script.CYRILLIC:
        out.extend(_cyrillic_variants(native, language))
    elif script is Script.ETHIOPIC:
        out.extend(_ethiopic_variants(native))
    seen: dict[str, None] = {}
    for s in out:
        if s:
            seen.setdefault(s, None)
    return tuple(seen)


def romanisations(
    native: str, script: Script, language: Language, use_model: bool = True
) -> tuple[str, ...]:
    """All Latin spellings of a normalised token, most trusted first, without duplicates."""
    rules = rule_romanisations(native, script, language)
    if script is Script.LATIN or not use_model:
        return rules
    learned = [s for s, _ in learned_romanisations(native, script)]
    if script in _ALPHABETS:
        order = (*rules[:1], *learned[:1], *learned[1:], *rules[1:])
    else:
        order = (*learned[:1], *rules[:1], *learned[1:], *rules[1:])
    return tuple(dict.fromkeys(order))
