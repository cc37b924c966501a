"""Golden cross-script token comparisons per script, negatives, keys and properties."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matching.names
from matching.names import (
    MatchKey,
    analyse_name,
    analyse_token,
    compare_tokens,
    name_blocking_keys,
    similarity_matrix,
    token_blocking_keys,
    token_typo_keys,
)

STRONG = 0.85
WEAK = 0.80

# (left, right): the same name in two scripts or two romanisations.
SAME = [
    # seven spellings of one Cyrillic surname
    ("Горбачёв", "Gorbachev"),
    ("Горбачёв", "Gorbachov"),
    ("Горбачёв", "Gorbachyov"),
    ("Горбачёв", "Gorbatschow"),
    ("Горбачёв", "Gorbatchev"),
    ("Горбачёв", "Gorbačov"),
    ("Gorbachev", "Gorbatschow"),
    # Arabic: one name, many romanisations
    ("محمد", "Mohammed"),
    ("محمد", "Muhammad"),
    ("محمد", "Mohamed"),
    ("محمد", "Mehmet"),
    ("Mohammed", "Mehmet"),
    ("أحمد", "Ahmad"),
    ("حسين", "Hussein"),
    ("خالد", "Khaled"),
    ("عبدالله", "Abdullah"),
    ("فاطمة", "Fatima"),
    ("يوسف", "Youssef"),
    ("نصر", "Nasr"),
    ("أندري", "Andri"),
    # Ukrainian and Russian conventions
    ("Oleksandr", "Александр"),
    ("Oleksandr", "Aleksandr"),
    ("Olexandr", "Олександр"),
    ("Олександр", "Александр"),
    ("Юрій", "Yurii"),
    ("Шевченко", "Shevchenko"),
    ("Євген", "Yevhen"),
    # Persian, Pashto, Urdu
    ("حسین", "Hossein"),
    ("پرویز", "Parviz"),
    ("ګل", "Gul"),
    ("ملالۍ", "Malalai"),
    ("عمران", "Imran"),
    ("زرمینه", "Zarmina"),
    # Hebrew
    ("יוסף", "Yosef"),
    ("דוד", "David"),
    ("כהן", "Cohen"),
    ("אברהם", "Avraham"),
    ("לוי", "Levi"),
    # Ge'ez (Amharic, Tigrinya)
    ("ተስፋዬ", "Tesfaye"),
    ("ዮሐንስ", "Yohannes"),
    ("ኃይሌ", "Haile"),
    ("ገብረመድህን", "Gebremedhin"),
    ("ብርሃኑ", "Birhanu"),
    ("ሰላም", "Selam"),
    # Greek
    ("Γιώργος", "Giorgos"),
    ("Παπαδόπουλος", "Papadopoulos"),
    ("Δημήτρης", "Dimitris"),
    # Armenian
    ("Արամ", "Aram"),
    ("Խաչատրյան", "Khachatryan"),
    ("Գևորգ", "Gevorg"),
    # Georgian
    ("გიორგი", "Giorgi"),
    ("ნინო", "Nino"),
    ("ბერიძე", "Beridze"),
    # Chinese
    ("王", "Wang"),
    ("李", "Li"),
    ("伊莎貝拉", "Isabella"),
    ("张伟", "Zhangwei"),
    # Latin with diacritics
    ("Müller", "Mueller"),
    ("José", "Jose"),
    ("Łukasz", "Lukasz"),
    ("Øyvind", "Oyvind"),
]

# Different names that must not align strongly.
DIFFERENT = [
    ("Mohammed", "Ahmed"),
    ("محمد", "Mahmoud"),
    ("محمد", "Ali"),
    ("Ivanov", "Petrov"),
    ("Александр", "Alexei"),
    ("יוסף", "David"),
    ("王", "Zhang"),
    ("ተስፋዬ", "Haile"),
    ("Γιώργος", "Nikos"),
    ("Արամ", "Gevorg"),
    ("გიორგი", "Levan"),
    ("Fatima", "Khadija"),
    ("Hassan", "Hussein"),
]


@pytest.mark.parametrize(("left", "right"), SAME)
def test_same_name_across_scripts(left: str, right: str) -> None:
    m = compare_tokens(analyse_token(left), analyse_token(right))
    assert m.score >= STRONG, (left, right, m, analyse_token(left).forms)


@pytest.mark.parametrize(("left", "right"), DIFFERENT)
def test_different_names_stay_apart(left: str, right: str) -> None:
    m = compare_tokens(analyse_token(left), analyse_token(right))
    assert m.score < STRONG, (left, right, m)


@pytest.mark.parametrize(
    ("left", "right", "key"),
    [
        ("Mohammed", "Mohammed", MatchKey.EXACT),
        ("محمد", "Mehmet", MatchKey.VARIANT),
        ("Aleksandr", "Sasha", MatchKey.VARIANT),
        ("Müller", "Muller", MatchKey.EXACT),
        ("Müller", "Mueller", MatchKey.ROMANISATION),
        ("Шевченко", "Shevchenko", MatchKey.ROMANISATION),
        ("J", "John", MatchKey.INITIAL),
    ],
)
def test_match_key(left: str, right: str, key: MatchKey) -> None:
    assert compare_tokens(analyse_token(left), analyse_token(right)).key is key


def test_particles_and_initials_are_flagged() -> None:
    assert analyse_token("al").is_particle
    assert analyse_token("bin").is_particle
    assert analyse_token("van").is_particle
    assert analyse_token("d'").is_particle
    assert not analyse_token("Abd").is_particle
    assert analyse_token("J").is_initial


def test_identity_is_shared_by_variants() -> None:
    ids = {analyse_token(t).identity for t in ("محمد", "Mohammed", "Muhammad", "Mehmet")}
    assert len(ids) == 1
    assert analyse_token("Smith").identity != analyse_token("Jones").identity


def test_learned_table_can_be_switched_off() -> None:
    with_table = analyse_token("أندري", True)
    without = analyse_token("أندري", False)
    assert len(with_table.forms) > len(without.forms)
    assert (
        compare_tokens(without, analyse_token("Andri", False)).score
        < compare_tokens(with_table, analyse_token("Andri")).score
    )


def test_similarity_matrix_agrees_with_pairwise() -> None:
    tokens = [
        analyse_token(t)
        for t in [
            "محمد",
            "Mohamed",
            "J",
            "Olexandr",
            "Александр",
            "Sasha",
            "王",
            "Wang",
            "Li",
            "יוסף",
            "Yosef",
            "ተስፋዬ",
            "Tesfaye",
            "Abdelrahman",
            "al",
        ]
    ]
    mat = similarity_matrix(tokens, tokens)
    for i, a in enumerate(tokens):
        for j, b in enumerate(tokens):
            expected = compare_tokens(a, b).score
            assert mat[i, j] == pytest.approx(expected, abs=1e-5), (a.text, b.text)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("محمد", "Mohamed"),
        ("محمد", "Muhammad"),
        ("Олександр", "Oleksandr"),
        ("Александр", "Aleksandr"),
        ("Горбачёв", "Gorbachev"),
        ("Шевченко", "Shevchenko"),
        ("יוסף", "Yosef"),
        ("ተስፋዬ", "Tesfaye"),
        ("Γιώργος", "Giorgos"),
        ("王", "Wang"),
    ],
)
def test_blocking_keys_meet(left: str, right: str) -> None:
    assert token_blocking_keys(analyse_token(left)) & token_blocking_keys(analyse_token(right))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Хаджибегич", "Hadžibegić"),
        ("Джуканович", "Đukanović"),
        ("Кжицкий", "Krzycki"),
        ("Шимчик", "Szymczyk"),
        ("Зарембский", "Zarębski"),
        ("Жемчужников", "Žemčužnikov"),
    ],
)
def test_blocking_keys_meet_slavic_latin_spellings(left: str, right: str) -> None:
    """A Slavic Latin spelling folded plainly (hadzibegic) shares no key with the Cyrillic
    name's romanisations (khadzhibegich); its English-digraph spelling does."""
    assert token_blocking_keys(analyse_token(left)) & token_blocking_keys(analyse_token(right))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Алисия", "Alicia"),
        ("Айдукевич", "Ajdukiewicz"),
        ("Бианкетти", "Bianchetti"),
        ("Брайтвелл", "Brightwell"),
        ("Бушардон", "Bouchardon"),
        ("Бувар", "Bouvard"),
    ],
)
def test_blocking_keys_meet_cyrillic_loanwords(left: str, right: str) -> None:
    """Pairs of russian.train.tsv whose gold spelling is a later guess of the learned model:
    they met only once every kept spelling of a Cyrillic token was keyed."""
    assert token_blocking_keys(analyse_token(left)) & token_blocking_keys(analyse_token(right))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Novak", "Oovak"),  # the first letter: phonetic codes and prefixes differ
        ("Khalif", "Khalfi"),
        ("Ikraan", "Irkaan"),
        ("Nasima", "asima"),
        ("Rezaie", "RRezaie"),
    ],
)
def test_typo_keys_meet_across_one_typo(left: str, right: str) -> None:
    assert token_typo_keys(analyse_token(left)) & token_typo_keys(analyse_token(right))


def test_blocking_keys_are_few() -> None:
    keys = name_blocking_keys(analyse_name("محمد بن عبد الرحمن الحسيني"))
    assert 1 <= len(keys) <= 24
    assert all(key.count(":") == 1 for key in keys)
    assert not name_blocking_keys(analyse_name("J. R."))


NAMES = st.sampled_from(
    [t for pair in SAME + DIFFERENT for t in pair] + ["J", "al", "Abd", "ابن", "X Æ A-12"]
)


@settings(max_examples=150, deadline=None)
@given(NAMES, NAMES)
def test_token_similarity_is_symmetric(a: str, b: str) -> None:
    ta, tb = analyse_token(a), analyse_token(b)
    ab, ba = compare_tokens(ta, tb), compare_tokens(tb, ta)
    assert ab.score == pytest.approx(ba.score)
    assert ab.key is ba.key


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=12))
def test_any_text_compares_with_itself(text: str) -> None:
    token = analyse_token(text)
    if token.native:
        assert compare_tokens(token, token).score == 1.0
    assert 0.0 <= float(np.float32(compare_tokens(token, analyse_token("Ali")).score)) <= 1.0


def test_module_examples() -> None:
    assert doctest.testmod(matching.names).failed == 0
