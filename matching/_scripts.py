"""Per-character and per-token script detection.

Scripts are told apart by Unicode block ranges rather than ``unicodedata.name`` look-ups: it is
faster, and names only need the handful of scripts that tracing work meets. Within a script a
few letters give away the language (Ukrainian ``і ї є ґ``, Pashto ``ټ ډ ړ ښ``), which picks the
romanisation convention.
"""

from __future__ import annotations

from bisect import bisect_right
from enum import StrEnum
from functools import lru_cache


class Script(StrEnum):
    """Writing systems the name engine distinguishes (ISO 15924 codes as values)."""

    LATIN = "Latn"
    ARABIC = "Arab"
    HEBREW = "Hebr"
    CYRILLIC = "Cyrl"
    GREEK = "Grek"
    ETHIOPIC = "Ethi"
    ARMENIAN = "Armn"
    GEORGIAN = "Geor"
    HAN = "Hani"
    KANA = "Kana"
    HANGUL = "Hang"
    DEVANAGARI = "Deva"
    THAI = "Thai"
    OTHER = "Zyyy"


class Language(StrEnum):
    """Romanisation conventions that differ within one script."""

    UNKNOWN = ""
    RUSSIAN = "ru"
    UKRAINIAN = "uk"
    ARABIC = "ar"
    PERSIAN = "fa"
    PASHTO = "ps"
    URDU = "ur"
    AMHARIC = "am"


_RANGES: tuple[tuple[int, int, Script], ...] = (
    (0x0041, 0x005A, Script.LATIN),
    (0x0061, 0x007A, Script.LATIN),
    (0x00C0, 0x024F, Script.LATIN),
    (0x0370, 0x03FF, Script.GREEK),
    (0x0400, 0x052F, Script.CYRILLIC),
    (0x0530, 0x058F, Script.ARMENIAN),
    (0x0590, 0x05FF, Script.HEBREW),
    (0x0600, 0x06FF, Script.ARABIC),
    (0x0750, 0x077F, Script.ARABIC),
    (0x0900, 0x097F, Script.DEVANAGARI),
    (0x0E00, 0x0E7F, Script.THAI),
    (0x10A0, 0x10FF, Script.GEORGIAN),
    (0x1100, 0x11FF, Script.HANGUL),
    (0x1200, 0x139F, Script.ETHIOPIC),
    (0x1C90, 0x1CBF, Script.GEORGIAN),
    (0x1E00, 0x1EFF, Script.LATIN),
    (0x1F00, 0x1FFF, Script.GREEK),
    (0x2D80, 0x2DDF, Script.ETHIOPIC),
    (0x3040, 0x30FF, Script.KANA),
    (0x3400, 0x4DBF, Script.HAN),
    (0x4E00, 0x9FFF, Script.HAN),
    (0xAB00, 0xAB2F, Script.ETHIOPIC),
    (0xAC00, 0xD7AF, Script.HANGUL),
    (0xF900, 0xFAFF, Script.HAN),
    (0xFB1D, 0xFB4F, Script.HEBREW),
    (0xFB50, 0xFDFF, Script.ARABIC),
    (0xFE70, 0xFEFF, Script.ARABIC),
    (0x20000, 0x2FA1F, Script.HAN),
)
_STARTS = [start for start, _, _ in _RANGES]

_UKRAINIAN = frozenset("іїєґ")
_RUSSIAN = frozenset("ыэъё")
_PASHTO = frozenset("ټډړښږځڅګۍېڼ")
_URDU = frozenset("ٹڈڑںےۓھہ")
_PERSIAN = frozenset("پچژگکی")


def char_script(ch: str) -> Script:
    """Script of one character; ``OTHER`` for digits, punctuation and unlisted blocks."""
    cp = ord(ch)
    i = bisect_right(_STARTS, cp) - 1
    if i >= 0:
        start, end, script = _RANGES[i]
        if start <= cp <= end:
            return script
    return Script.OTHER


@lru_cache(maxsize=65536)
def token_script(token: str) -> Script:
    """Majority script of the letters of a token (ties go to the first seen)."""
    counts: dict[Script, int] = {}
    for ch in token:
        s = char_script(ch)
        if s is not Script.OTHER:
            counts[s] = counts.get(s, 0) + 1
    if not counts:
        return Script.OTHER
    return max(counts, key=lambda s: counts[s])


def token_language(token: str, script: Script) -> Language:
    """Guess the romanisation convention of a token from letters peculiar to one language."""
    letters = set(token)
    if script is Script.CYRILLIC:
        if letters & _UKRAINIAN:
            return Language.UKRAINIAN
        return Language.RUSSIAN
    if script is Script.ARABIC:
        if letters & _PASHTO:
            return Language.PASHTO
        if letters & _URDU:
            return Language.URDU
        if letters & _PERSIAN:
            return Language.PERSIAN
        return Language.ARABIC
    if script is Script.ETHIOPIC:
        return Language.AMHARIC
    return Language.UNKNOWN
