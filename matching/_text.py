"""Unicode normalisation and tokenisation of names.

Two forms are derived from any text: the *native* form keeps the script but removes what writers
use inconsistently (vowel marks, tatweel, joiners, letter variants such as the alef forms), and
the *Latin fold* reduces Latin text to plain lower-case ``a-z``. Both are idempotent.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

from matching._scripts import Script, char_script

_REMOVE = dict.fromkeys(
    map(
        ord,
        "\u0640\u200b\u200c\u200d\u200e\u200f\u061c\u00ad\u2060\ufeff",
    )
)

# Letters written interchangeably in names across Arabic-script orthographies. Retroflex and
# other language-specific letters go to their nearest Arabic letter: the romanisation keeps the
# distinction where it matters (see _romanise), the native key deliberately does not.
_ARABIC_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ٲ": "ا",
        "ٳ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ې": "ي",
        "ۍ": "ي",
        "ێ": "ي",
        "ے": "ي",
        "ۓ": "ي",
        "ئ": "ي",
        "ؤ": "و",
        "ۆ": "و",
        "ة": "ه",
        "ۃ": "ه",
        "ہ": "ه",
        "ھ": "ه",
        "ە": "ه",
        "ک": "ك",
        "ګ": "گ",
        "ټ": "ت",
        "ٹ": "ت",
        "ډ": "د",
        "ڈ": "د",
        "ړ": "ر",
        "ڑ": "ر",
        "ڕ": "ر",
        "ڼ": "ن",
        "ں": "ن",
        "ښ": "ش",
        "ږ": "ژ",
        "ڵ": "ل",
        "ڤ": "ف",
        "ء": "",
        "\u0674": "",
    }
)

_HEBREW_FOLD = str.maketrans({"ך": "כ", "ם": "מ", "ן": "נ", "ף": "פ", "ץ": "צ", "׳": "'", "״": '"'})

# Marks are stripped only over scripts whose marks are optional diacritics. In Cyrillic the
# breve of й and the diaeresis of ї are letters; in Indic scripts the marks are vowels.
_STRIP_MARKS = frozenset({Script.LATIN, Script.GREEK, Script.ARABIC, Script.HEBREW, Script.OTHER})

_SPLIT = re.compile(r"[\s,;/()\[\]{}\"“”„«»|+&.:!?·・،؛]+")
_HYPHENS = re.compile(r"[-‐‑‒–—―_]+")
_APOSTROPHES = re.compile(r"['’‘`´ʼʻʿʾ′]")
_ELIDED = re.compile(r"^([dlDL])['’‘`´ʼ](?=\w{2})")


@lru_cache(maxsize=131072)
def normalise_token(token: str) -> str:
    """Native-script normal form of one token: NFKC, case-folded, optional marks removed.

    Vowel marks (harakat, niqqud, Latin and Greek accents) are written by some and omitted by
    most, so they cannot count as evidence; the letter variants folded here are the ones that
    writers of Arabic-script languages swap freely (أ/ا, ى/ي, ة/ه, Persian and Urdu forms).
    """
    text = strip_marks(token).translate(_ARABIC_FOLD).translate(_HEBREW_FOLD)
    text = text.replace("ё", "е")
    return _APOSTROPHES.sub("", text)


@lru_cache(maxsize=131072)
def strip_marks(token: str) -> str:
    """NFKC, case folding, joiners and optional marks removed; letters kept as written (the
    language-specific letters that tell Pashto from Persian survive here)."""
    text = unicodedata.normalize("NFKC", token).translate(_REMOVE).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    out: list[str] = []
    base = Script.OTHER
    for ch in decomposed:
        if unicodedata.combining(ch):
            if base in _STRIP_MARKS:
                continue
        else:
            base = char_script(ch)
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


@lru_cache(maxsize=131072)
def latin_fold(text: str) -> str:
    """Plain ``a-z`` form of Latin (or any) text: diacritics removed, ``ß`` -> ``ss``, etc."""
    folded = anyascii(unicodedata.normalize("NFKC", text)).lower()
    return "".join(ch for ch in folded if "a" <= ch <= "z")


def split_tokens(text: str) -> list[str]:
    """Split a name into raw tokens on spaces, punctuation and hyphens.

    Elided Romance particles (``d'Ambrosio``, ``l'Aquila``) become their own token so that the
    particle can be dropped; other apostrophes are kept inside the token and removed later.
    """
    tokens: list[str] = []
    for chunk in _SPLIT.split(text):
        for part in _HYPHENS.split(chunk):
            if not part:
                continue
            m = _ELIDED.match(part)
            if m:
                tokens.append(m.group(1) + "'")
                part = part[m.end() :]
            if _APOSTROPHES.sub("", part):
                tokens.append(part)
    return tokens
