"""Keys derived from Latin spellings of a token: comparison form, skeleton, phonetic codes,
variant classes and particles.

Every key is a function of a Latin string so that a token in any script gets the same kinds of
key through its romanisations, and two spellings meet when any of their keys meet.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources

import jellyfish
from rapidfuzz.distance import Indel, JaroWinkler

from matching._romanise import (
    romanisations,
    rule_romanisations,
    slavic_spelling,
    umlaut_spelling,
)
from matching._scripts import Language, Script, token_language, token_script
from matching._text import latin_fold, normalise_token, strip_marks

_VOWELS = frozenset("aeiouy")

# Digraphs first (longest first); each maps to one class letter of the cross-lingual code.
_XPHONE_DIGRAPHS: tuple[tuple[str, str], ...] = (
    ("tsch", "j"),
    ("dsch", "j"),
    ("sch", "s"),
    ("tch", "j"),
    ("dzh", "j"),
    ("zh", "j"),
    ("dj", "j"),
    ("dh", "t"),
    ("th", "t"),
    ("ph", "f"),
    ("kh", "k"),
    ("gh", "k"),
    ("ch", "j"),
    ("sh", "s"),
    ("ts", "s"),
    ("tz", "s"),
    ("ck", "k"),
    ("ks", "s"),
    ("qu", "k"),
)
_XPHONE_CLASS = str.maketrans(
    {
        "p": "b",
        "v": "f",
        "w": "f",
        "d": "t",
        "g": "k",
        "q": "k",
        "c": "k",
        "x": "s",
        "z": "s",
    }
)
_XPHONE_SPLIT = re.compile("|".join(d for d, _ in _XPHONE_DIGRAPHS) + "|.")
_XPHONE_MAP = dict(_XPHONE_DIGRAPHS)


@lru_cache(maxsize=131072)
def collapse(latin: str) -> str:
    """Collapse doubled letters: romanisers double (Muhammad) or not (Muhamad) at will."""
    out: list[str] = []
    for ch in latin:
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=131072)
def skeleton(latin: str) -> str:
    """Consonant skeleton: the letters an abjad writes (محمد -> mhmd = Muhammad, Mohamed)."""
    return collapse("".join(ch for ch in latin if ch not in _VOWELS))


@lru_cache(maxsize=131072)
def xphone(latin: str) -> str:
    """Cross-lingual phonetic code of a Latin spelling.

    English-made codes (Soundex, Metaphone) encode English spelling rules; romanisations of the
    same name differ instead in voicing (p/b, t/d, k/g), in digraphs (kh/h/ch, sh/sch, dj/j/g)
    and in vowels. This code maps consonants to such classes, drops vowels, ``h``, ``y`` and
    collapses repeats made by a doubled letter, but keeps repeats across a vowel
    (Muhammad = Mehmet = mmt).
    """
    units = _XPHONE_SPLIT.findall(latin)
    out: list[str] = []
    prev = ""
    for unit in units:
        cls = _XPHONE_MAP.get(unit, unit).translate(_XPHONE_CLASS)
        if cls == prev:
            continue
        prev = cls
        if cls in _VOWELS or cls == "h":
            continue
        out.append(cls)
    if units and units[0] in _VOWELS:
        out.insert(0, "a")
    return "".join(out)


@lru_cache(maxsize=131072)
def metaphone(latin: str) -> str:
    """jellyfish Metaphone of a Latin spelling (useful between two Latin-script records)."""
    return jellyfish.metaphone(latin).lower() if latin else ""


# A compound of "servant of" + divine name is written joined, hyphenated or split, with the
# article in any vowel (Abd al-Rahman, Abdel Rahman, Abdelrahman, Abdulrahman, Abdurrahman).
_ABD = re.compile(r"^(abd|abu|abou)(?:[aeiou]{1,2}l?)?(?=[a-z]{3})")


@lru_cache(maxsize=131072)
def compound_core(latin: str) -> str:
    """Normal form of Arabic theophoric compounds: Abdelrahman/Abdulrahman -> abdrahman."""
    m = _ABD.match(latin)
    if not m:
        return latin
    head = "abd" if m.group(1) == "abd" else "abu"
    return collapse(head + latin[m.end() :])


def _data_lines(name: str) -> list[str]:
    text = resources.files("matching").joinpath("data", name).read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def _fold_member(word: str) -> str:
    native = normalise_token(word)
    return latin_fold(native) if token_script(native) is Script.LATIN else native


@lru_cache(maxsize=1)
def particles() -> frozenset[str]:
    """Particles and connectors (folded Latin and native forms) kept for display only."""
    words: set[str] = set()
    for line in _data_lines("name_particles.txt"):
        words.update(_fold_member(w) for w in line.split())
    return frozenset(words)


@lru_cache(maxsize=1)
def _variant_index() -> dict[str, str]:
    """Spelling -> class id (the class's first spelling) from the curated variant classes."""
    index: dict[str, str] = {}
    for line in _data_lines("name_variants.txt"):
        members = [_fold_member(m) for m in line.split()]
        cid = members[0]
        for member in members:
            index.setdefault(member, cid)
    return index


def variant_class(forms: tuple[str, ...]) -> str | None:
    """Class id of the first of ``forms`` (native form first, then Latin spellings) in the table."""
    index = _variant_index()
    for form in forms:
        cid = index.get(form)
        if cid is not None:
            return cid
    return None


class MatchKey(StrEnum):
    """Through which key two tokens met, strongest first (the order is the ladder)."""

    EXACT = "exact"
    VARIANT = "variant"
    ROMANISATION = "romanisation"
    PHONETIC = "phonetic"
    SKELETON = "skeleton"
    FUZZY = "fuzzy"
    INITIAL = "initial"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class TokenAnalysis:
    """Everything the engine derives from one name token, computed once and cached.

    ``forms`` are Latin comparison spellings (doubled letters collapsed), most trusted first:
    for a Latin token its folded spelling; for another script the learned and rule-based
    romanisations. ``identity`` is the stable id a scorer counts term frequencies on.
    """

    text: str
    native: str
    script: Script
    language: Language
    is_particle: bool
    is_initial: bool
    forms: tuple[str, ...]
    skeletons: frozenset[str]
    phonetic: frozenset[str]
    metaphone: str
    variant: str | None
    identity: str
    with_model: bool


@dataclass(frozen=True, slots=True)
class TokenMatch:
    """Similarity of two tokens in [0, 1] and the key that produced it."""

    score: float
    key: MatchKey


MAX_FORMS = 8
# A Cyrillic token keeps more of its learned spellings (see `MAX_LEARNED_BY_SCRIPT`).
MAX_FORMS_BY_SCRIPT = {Script.CYRILLIC: 16}
KEYED_FORMS = 3
RANK_PENALTY = 0.005
VARIANT_SCORE = 0.97
ROMANISATION_SCORE = 0.95
INITIAL_SCORE = 0.7
# A shared phonetic code or skeleton lifts a fuzzy score towards these ceilings, keeping the
# order among candidates that share the key.
PHONETIC_FLOOR = 0.80
SKELETON_FLOOR = 0.76
KEY_SLOPE = 0.15
# Jaro-Winkler favours short candidates sharing a prefix; a share of Indel (edit) similarity
# keeps length differences in view.
INDEL_WEIGHT = 0.3
# Two tokens in different curated variant classes are known to be different names (Muhammad and
# Mahmud share the abjad skeleton mhmd): their similarity is capped below any alignment.
CONFLICT_CAP = 0.75
_SKELETON_SCRIPTS = frozenset({Script.ARABIC, Script.HEBREW})


def _dedup(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for s in items if s))


@lru_cache(maxsize=262144)
def analyse_token(text: str, use_model: bool = True) -> TokenAnalysis:
    """Analyse one raw token (as split by ``split_tokens``); cached because tokens repeat."""
    native = normalise_token(text)
    script = token_script(native)
    language = token_language(strip_marks(text), script)
    native = _native_compound(native)
    romans = romanisations(native, script, language, use_model)
    if script is Script.ARABIC and len(native) > 4 and strip_marks(text).startswith("ال"):
        # The article is written with a bare alef; أل begins foreign names (Alessio). Keep both
        # readings: al-Husseini is written Husseini as often as Alhusseini.
        bare = romanisations(native[2:], script, language, use_model)
        romans = (*romans[:2], *bare[:2], *romans[2:], *bare[2:])
    if script is Script.LATIN:
        romans = (*romans, umlaut_spelling(text))
        slavic = slavic_spelling(text)
        if slavic:
            romans = (*romans, slavic)
    max_forms = MAX_FORMS_BY_SCRIPT.get(script, MAX_FORMS)
    forms = _dedup([collapse(compound_core(r)) for r in romans])[:max_forms]
    folded = latin_fold(native) if script is Script.LATIN else ""
    elided = len(text) == 2 and text[1] in "'’"
    is_particle = elided or (len(native) > 1 and (folded or native) in particles())
    is_initial = script is Script.LATIN and len(folded) == 1
    keyed = forms[:KEYED_FORMS]
    skeletons = {skeleton(f) for f in keyed}
    if script in _SKELETON_SCRIPTS:
        skeletons.update(skeleton(r) for r in rule_romanisations(native, script, language)[:1])
    lookup = [native]
    if script is Script.LATIN:
        lookup.append(folded)
    elif script not in _SKELETON_SCRIPTS and script is not Script.HAN and forms:
        lookup.append(forms[0])
    variant = variant_class(tuple(lookup))
    primary = forms[0] if forms else native
    return TokenAnalysis(
        text=text,
        native=native,
        script=script,
        language=language,
        is_particle=is_particle,
        is_initial=is_initial,
        forms=forms,
        skeletons=frozenset(s for s in skeletons if len(s) >= 2),
        phonetic=frozenset(c for c in (xphone(f) for f in keyed) if len(c) >= 2),
        metaphone=metaphone(primary),
        variant=variant,
        identity=f"v:{variant}" if variant else f"t:{primary}",
        with_model=use_model,
    )


def _native_compound(native: str) -> str:
    """Drop the article inside a joined Arabic-script compound (عبدالرحمن -> عبدرحمن)."""
    for head in ("عبد", "ابو"):
        if native.startswith(head + "ال") and len(native) > len(head) + 4:
            return head + native[len(head) + 2 :]
    return native


# Jaro-Winkler's share of the string similarity, and the similarity's ceiling (both measures at
# 1), which bounds what a pair of forms can score before it is computed.
_JW_WEIGHT = 1 - INDEL_WEIGHT
_CEILING = _JW_WEIGHT * 1.0 + INDEL_WEIGHT * 1.0


def _best_similarity(a_forms: tuple[str, ...], b_forms: tuple[str, ...], best: float) -> float:
    """``best``, raised to the highest string similarity (Jaro-Winkler with a share of Indel)
    of a form of each side less ``RANK_PENALTY * (i + j)`` for the forms' ranks i and j.

    Both measures are at most 1, so a pair's bound is known before any measure is taken, and
    it only falls along a row and down the rows: the search stops where no pair left can beat
    ``best``, and Indel is skipped where Jaro-Winkler with a perfect Indel could not. Rounding
    is monotone, so a skipped pair could not have won, and a kept value is computed in the same
    order of operations as when every pair was measured: the result is the same float.
    """
    for i, fa in enumerate(a_forms):
        if _CEILING - RANK_PENALTY * i <= best:
            break
        for j, fb in enumerate(b_forms):
            penalty = RANK_PENALTY * (i + j)
            if _CEILING - penalty <= best:
                break
            jw = _JW_WEIGHT * JaroWinkler.normalized_similarity(fa, fb)
            if jw + INDEL_WEIGHT - penalty <= best:
                continue
            s = jw + INDEL_WEIGHT * Indel.normalized_similarity(fa, fb) - penalty
            if s > best:
                best = s
    return best


def fuzzy_score(a: TokenAnalysis, b: TokenAnalysis) -> float:
    """Best string similarity (Jaro-Winkler with a share of Indel) over the two tokens' Latin
    forms, less a small penalty for using a less trusted romanisation (so the model's first
    guess wins a tie)."""
    return _best_similarity(a.forms, b.forms, 0.0)


def compare_tokens(a: TokenAnalysis, b: TokenAnalysis) -> TokenMatch:
    """Similarity of two analysed tokens (cached per pair of token texts; see
    :func:`compare_analyses` for the ladder)."""
    if a is analyse_token(a.text, a.with_model) and b is analyse_token(b.text, b.with_model):
        return _compare_texts(a.text, a.with_model, b.text, b.with_model)
    return compare_analyses(a, b)


@lru_cache(maxsize=1 << 20)
def _compare_texts(a: str, a_model: bool, b: str, b_model: bool) -> TokenMatch:
    return compare_analyses(analyse_token(a, a_model), analyse_token(b, b_model))


def compare_tokens_above(
    a: TokenAnalysis, b: TokenAnalysis, floor: float, weak: bool = True
) -> TokenMatch | None:
    """:func:`compare_analyses`, or None when its score is below ``floor`` and neither token is
    an initial (an initial's match is always given, as an aligner may take it at any score),
    and, unless ``weak``, when it would be made through a key weaker than a shared
    romanisation (phonetic, skeleton or fuzzy).

    An aligner needs no score below its threshold, and proving a score is below it is cheaper
    than finding it: a capped conflict of variant classes needs no string measure at all, and
    a fuzzy search skips the pairs of forms that cannot reach ``floor``. Without weak keys
    there is no fuzzy search at all but for a score above the romanisation score.
    """
    if a.native and a.native == b.native:
        return TokenMatch(1.0, MatchKey.EXACT)
    if a.variant is not None and b.variant is not None:
        if a.variant == b.variant:
            return TokenMatch(VARIANT_SCORE, MatchKey.VARIANT)
        if CONFLICT_CAP < floor and not (a.is_initial or b.is_initial):
            return None
        match = _unconstrained(a, b, floor, weak)
        if match is None:
            return None
        return TokenMatch(min(match.score, CONFLICT_CAP), match.key)
    return _unconstrained(a, b, floor, weak)


def compare_analyses(a: TokenAnalysis, b: TokenAnalysis) -> TokenMatch:
    """Similarity of two analysed tokens and the strongest key through which they met.

    The ladder: same normalised text in the same script (exact); same variant class
    (Mohammed = محمد), while different classes cap the score; a shared Latin spelling after
    romanisation; a shared cross-lingual phonetic code or consonant skeleton (lifting the
    fuzzy score); fuzzy Jaro-Winkler over all romanisations; an initial agreeing with the
    other token's first letter.
    """
    match = compare_tokens_above(a, b, 0.0)
    assert match is not None  # nothing is below a floor of 0
    return match


def _unconstrained(
    a: TokenAnalysis, b: TokenAnalysis, floor: float, weak: bool = True
) -> TokenMatch | None:
    """The ladder below the variant classes; None only when the score is below ``floor`` > 0
    (with no key to lift it, the score is the fuzzy score itself) or, unless ``weak``, when no
    romanisation is shared."""
    if a.is_initial or b.is_initial:
        return _initial_match(a, b)
    if _share_form(a, b):
        # max(ROMANISATION_SCORE, fuzzy score), found without measuring pairs that cannot win.
        return TokenMatch(
            _best_similarity(a.forms, b.forms, ROMANISATION_SCORE), MatchKey.ROMANISATION
        )
    if not weak:
        return None
    phonetic = not a.phonetic.isdisjoint(b.phonetic)
    skeleton = not a.skeletons.isdisjoint(b.skeletons)
    if floor > 0.0 and not (phonetic or skeleton):
        # Just below the floor: a fuzzy score at the floor or above is then found exactly.
        fuzzy = _best_similarity(a.forms, b.forms, math.nextafter(floor, -math.inf))
        if fuzzy < floor:
            return None
    else:
        fuzzy = _best_similarity(a.forms, b.forms, 0.0)
    best, key = fuzzy, MatchKey.FUZZY
    if phonetic:
        lifted = PHONETIC_FLOOR + KEY_SLOPE * fuzzy
        if lifted > best:
            best, key = lifted, MatchKey.PHONETIC
    if skeleton:
        lifted = SKELETON_FLOOR + KEY_SLOPE * fuzzy
        if lifted > best:
            best, key = lifted, MatchKey.SKELETON
    return TokenMatch(max(0.0, min(best, 1.0)), key)


def _share_form(a: TokenAnalysis, b: TokenAnalysis) -> bool:
    """Do the tokens share a spelling among their trusted forms?"""
    return not set(a.forms[:KEYED_FORMS]).isdisjoint(b.forms[:KEYED_FORMS])


def _initial_match(a: TokenAnalysis, b: TokenAnalysis) -> TokenMatch:
    if a.is_initial and b.is_initial:
        if a.forms[:1] == b.forms[:1]:
            return TokenMatch(INITIAL_SCORE, MatchKey.INITIAL)
        return TokenMatch(0.0, MatchKey.NONE)
    initial, other = (a, b) if a.is_initial else (b, a)
    letter = initial.forms[0] if initial.forms else ""
    if letter and any(f.startswith(letter) for f in other.forms[:KEYED_FORMS]):
        return TokenMatch(INITIAL_SCORE, MatchKey.INITIAL)
    return TokenMatch(0.0, MatchKey.NONE)
