"""Normalisation, script detection, romanisation and key derivation (table-driven)."""

from __future__ import annotations

import pytest

from matching._name_keys import collapse, compound_core, skeleton, xphone
from matching._romanise import (
    learned_romanisations,
    romanisations,
    rule_romanisations,
    slavic_spelling,
)
from matching._scripts import Language, Script, token_language, token_script
from matching._text import latin_fold, normalise_token, split_tokens, strip_marks
from matching.names import analyse_token, compare_tokens


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("أحمد", "احمد"),  # alef with hamza above
        ("إبراهيم", "ابراهيم"),  # alef with hamza below
        ("آمنة", "امنه"),  # madda, ta marbuta
        ("مُحَمَّد", "محمد"),  # harakat and shadda
        ("محـــمد", "محمد"),  # tatweel
        ("مصطفى", "مصطفي"),  # alef maqsura
        ("علی", "علي"),  # Persian yeh
        ("کریم", "كريم"),  # keheh
        ("ګل", "گل"),  # Pashto gaf
        ("ښکلی", "شكلي"),  # Pashto shin
        ("زهره\u200cای", "زهرهاي"),  # ZWNJ
        ("שָׁלוֹם", "שלומ"),  # niqqud, final mem
        ("José", "jose"),
        ("MÜLLER", "muller"),
        ("Γιώργος", "γιωργοσ"),  # tonos, final sigma
        ("Йосиф", "йосиф"),  # the breve of й is a letter
        ("Фёдор", "федор"),
        ("Ї", "ї"),
        ("O'Brien", "obrien"),
    ],
)
def test_normalise_token(raw: str, expected: str) -> None:
    assert normalise_token(raw) == expected
    assert normalise_token(expected) == expected  # idempotent


@pytest.mark.parametrize(
    ("token", "script", "language"),
    [
        ("Smith", Script.LATIN, Language.UNKNOWN),
        ("محمد", Script.ARABIC, Language.ARABIC),
        ("پرویز", Script.ARABIC, Language.PERSIAN),
        ("ګلالۍ", Script.ARABIC, Language.PASHTO),
        ("عمران\u06be", Script.ARABIC, Language.URDU),
        ("Александр", Script.CYRILLIC, Language.RUSSIAN),
        ("Олександр", Script.CYRILLIC, Language.RUSSIAN),
        ("Євген", Script.CYRILLIC, Language.UKRAINIAN),
        ("Олексій", Script.CYRILLIC, Language.UKRAINIAN),
        ("יוסף", Script.HEBREW, Language.UNKNOWN),
        ("Γιώργος", Script.GREEK, Language.UNKNOWN),
        ("ተስፋዬ", Script.ETHIOPIC, Language.AMHARIC),
        ("Արամ", Script.ARMENIAN, Language.UNKNOWN),
        ("გიორგი", Script.GEORGIAN, Language.UNKNOWN),
        ("王", Script.HAN, Language.UNKNOWN),
        ("123", Script.OTHER, Language.UNKNOWN),
    ],
)
def test_script_and_language(token: str, script: Script, language: Language) -> None:
    native = normalise_token(token)
    assert token_script(native) is script
    assert token_language(strip_marks(token), script) is language


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Abd al-Rahman", ["Abd", "al", "Rahman"]),
        ("  Jean-Luc  Picard ", ["Jean", "Luc", "Picard"]),
        ("d'Ambrosio, Maria", ["d'", "Ambrosio", "Maria"]),
        ("O'Brien", ["O'Brien"]),
        ("محمد بن سلمان", ["محمد", "بن", "سلمان"]),
        ("李 小龙 (Bruce)", ["李", "小龙", "Bruce"]),
    ],
)
def test_split_tokens(text: str, tokens: list[str]) -> None:
    assert split_tokens(text) == tokens


@pytest.mark.parametrize(
    ("native", "expected"),
    [
        ("александр", "aleksandr"),
        ("олександр", "oleksandr"),
        ("γιωργοσ", "giorgos"),
        ("გიორგი", "giorgi"),
        ("ተስፋዬ", "tesfaye"),
        ("արամ", "aram"),
        ("王", "wang"),
        ("muller", "muller"),
    ],
)
def test_rule_romanisation_first_is_anyascii(native: str, expected: str) -> None:
    script = token_script(native)
    assert rule_romanisations(native, script, token_language(native, script))[0] == expected


@pytest.mark.parametrize(
    ("native", "spellings"),
    [
        ("олександр", {"oleksandr", "olexandr"}),
        ("юрий", {"yuriy", "yury", "juri", "iurii"}),
        ("горбачев", {"gorbachev", "gorbatschew"}),
        ("müller", {"muller", "mueller"}),
    ],
)
def test_rule_alternatives(native: str, spellings: set[str]) -> None:
    script = token_script(native)
    found = set(rule_romanisations(native, script, token_language(native, script)))
    assert found & spellings, found


@pytest.mark.parametrize(
    ("native", "script", "expected"),
    [
        ("محمد", Script.ARABIC, {"muhammad", "mohamed", "mohammed", "mohammad", "muhamad"}),
        ("اندري", Script.ARABIC, {"andre", "andri", "andrei", "andrey"}),
        ("יוסף", Script.HEBREW, {"yosef", "yossef", "josef", "yusuf", "yusef", "jusef"}),
        ("דוד", Script.HEBREW, {"david", "dud", "dod", "dawid"}),
        ("伊莎貝拉", Script.HAN, {"isabella", "isabela", "izabela", "isabel"}),
        ("джентилини", Script.CYRILLIC, {"gentilini", "djentilini", "dzhentilini"}),
    ],
)
def test_learned_romanisation(native: str, script: Script, expected: set[str]) -> None:
    found = {collapse(s) for s, _ in learned_romanisations(normalise_token(native), script)}
    assert found & {collapse(e) for e in expected}, found


@pytest.mark.parametrize(
    ("native", "script", "spellings", "scores"),
    [
        # ژ is not in the model: its anyascii reading stands in
        (
            "ژاله",
            Script.ARABIC,
            "zhala zhaa zha zhla zhale zhalah",
            (-4.132, -4.393, -4.75, -4.767, -4.914, -5.166),
        ),
        # Exactly equal scores keep the order in which the search made them
        (
            "שפייר",
            Script.HEBREW,
            "speir spair spir speier spaier spier",
            (-3.69, -3.69, -3.828, -3.919, -3.919, -4.021),
        ),
        ("颛顼", Script.HAN, "zhuanxu zhunxu zhuaanxu", (-0.693, -1.386, -1.386)),
        # Cyrillic keeps twelve spellings
        (
            "охара",
            Script.CYRILLIC,
            "ohara ochara ojara koshara unshara ohar ohaa oara oharah ohare ohra ohari",
            (
                -0.424,
                -2.455,
                -3.487,
                -3.867,
                -3.867,
                -3.965,
                -4.026,
                -4.181,
                -4.674,
                -4.728,
                -4.883,
                -5.399,
            ),
        ),
    ],
)
def test_learned_romanisations_pinned(
    native: str, script: Script, spellings: str, scores: tuple[float, ...]
) -> None:
    """Exact output of the shipped model, pinned when the beam search was rewritten for speed (the
    rewrite had to be output-identical); re-pin only when the model itself is retrained."""
    found = learned_romanisations(normalise_token(native), script)
    assert found == tuple(zip(spellings.split(), scores, strict=True))


def test_model_is_optional() -> None:
    with_model = romanisations("محمد", Script.ARABIC, Language.ARABIC, use_model=True)
    without = romanisations("محمد", Script.ARABIC, Language.ARABIC, use_model=False)
    assert without == ("mhmd",)
    assert len(with_model) > len(without)


@pytest.mark.parametrize(
    ("spellings", "code"),
    [
        (["muhammad", "mohamed", "mehmet", "mohammad", "mhmd"], "mmt"),
        (["gorbachev", "gorbatschow", "gorbachov", "gorbatchev"], "krbjf"),
        (["yusuf", "yousef", "youssef", "yosef", "josef"], None),
    ],
)
def test_xphone_brings_romanisations_together(spellings: list[str], code: str | None) -> None:
    codes = {xphone(collapse(latin_fold(s))) for s in spellings}
    if code is not None:
        assert codes == {code}
    else:
        assert len(codes) <= 2


@pytest.mark.parametrize(
    ("a", "b"), [("muhammad", "mohamed"), ("hussein", "husayn"), ("abdallah", "abdullah")]
)
def test_skeleton(a: str, b: str) -> None:
    assert skeleton(compound_core(a)) == skeleton(compound_core(b))


@pytest.mark.parametrize(
    "spelling", ["abdelrahman", "abdulrahman", "abdalrahman", "abdurrahman", "abdrahman"]
)
def test_compound_core(spelling: str) -> None:
    assert compound_core(spelling) == "abdrahman"


def test_compound_core_leaves_other_names() -> None:
    assert compound_core("abebe") == "abebe"
    assert compound_core("alexander") == "alexander"


def test_alphabets_put_the_standard_spelling_first() -> None:
    assert analyse_token("Александр").forms[0] == "aleksandr"
    assert analyse_token("Шевченко").identity == "t:shevchenko"


def test_ukrainian_national_spelling_comes_first_for_ukrainian() -> None:
    forms = rule_romanisations("олексій", Script.CYRILLIC, Language.UKRAINIAN)
    assert forms[1] == "oleksii"


def test_arabic_article_is_optional() -> None:
    token = analyse_token("الحسيني")
    for spelling in ("Husseini", "Alhusseini", "Elhusseini"):
        assert compare_tokens(token, analyse_token(spelling)).score >= 0.85, spelling


@pytest.mark.parametrize(
    ("latin", "spelling"),
    [
        ("Hadžibegić", "hadzhibegich"),
        ("Đukanović", "djukanovich"),
        ("Krzycki", "kzhytski"),
        ("Szczepański", "shchepanski"),
        ("Dąbrowski", "dombrowski"),
        ("Wałęsa", "walensa"),
        ("Dvořák", "dvorzhak"),
        ("Smith", ""),  # nothing to spell otherwise
        ("Chekhov", ""),
    ],
)
def test_slavic_spelling(latin: str, spelling: str) -> None:
    assert slavic_spelling(latin) == spelling
