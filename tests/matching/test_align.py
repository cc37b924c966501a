"""Part-wise name alignment: order swaps, dropped and extra parts, initials, compounds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.names import MatchKey, PartRole, align_names, analyse_name


def _texts(name: str, indices: tuple[int, ...]) -> list[str]:
    parts = analyse_name(name).parts
    return [parts[i].token.text for i in indices]


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Abd al-Rahman", "Abdelrahman"),
        ("Abdel Rahman", "Abdulrahman"),
        ("Abd al-Rahman", "Abdurrahman"),
        ("عبد الرحمن", "Abdelrahman"),
        ("عبدالرحمن", "Abdel Rahman"),
        ("Mao Zedong", "毛泽东"),
        ("Jean-Luc Picard", "Jeanluc Picard"),
    ],
)
def test_compounds_meet(left: str, right: str) -> None:
    alignment = align_names(analyse_name(left), analyse_name(right))
    assert alignment.score >= 0.9, alignment
    assert not alignment.unmatched_left and not alignment.unmatched_right


def test_swapped_order() -> None:
    alignment = align_names(analyse_name("Ivan Petrov"), analyse_name("Петров Иван"))
    assert len(alignment.pairs) == 2
    assert not alignment.in_order
    assert alignment.score >= 0.9


def test_dropped_patronymic() -> None:
    left = analyse_name("Ivan Sergeyevich Petrov")
    right = analyse_name("Ivan Petrov")
    alignment = align_names(left, right)
    assert len(alignment.pairs) == 2
    assert _texts("Ivan Sergeyevich Petrov", alignment.unmatched_left) == ["Sergeyevich"]
    assert alignment.coverage == 1.0


def test_extra_nasab_parts() -> None:
    left = analyse_name("محمد بن أحمد بن علي الحسيني")
    right = analyse_name("Mohamed Ahmed Al-Husseini")
    alignment = align_names(left, right)
    assert alignment.coverage == 1.0
    assert _texts("محمد بن أحمد بن علي الحسيني", alignment.unmatched_left) == ["علي"]
    assert {p.key for p in alignment.pairs} <= {
        MatchKey.VARIANT,
        MatchKey.ROMANISATION,
        MatchKey.PHONETIC,
        MatchKey.SKELETON,
        MatchKey.FUZZY,
        MatchKey.EXACT,
    }


def test_initials() -> None:
    alignment = align_names(analyse_name("J. R. Smith"), analyse_name("John Robert Smith"))
    keys = sorted(p.key.value for p in alignment.pairs)
    assert keys == ["exact", "initial", "initial"]


def test_structured_parts_keep_roles() -> None:
    name = analyse_name("Tesfaye Haile", given="ተስፋዬ", father="ኃይሌ")
    roles = [p.role for p in name.parts]
    assert roles[:2] == [PartRole.GIVEN, PartRole.FATHER]
    other = analyse_name(given="Tesfaye", father="Haile", grandfather="Gebremedhin")
    alignment = align_names(name, other)
    assert alignment.coverage == 1.0


def test_full_string_does_not_double_parts() -> None:
    name = analyse_name("Ivan Petrov", given="Ivan", family="Petrov")
    assert len(name.content) == 2


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Mohammed Ahmed", "Mahmoud Hassan"),
        ("Ivan Petrov", "Sergei Ivanov"),
        ("יוסף כהן", "David Levi"),
        ("王伟", "Zhang Li"),
    ],
)
def test_different_names_align_weakly(left: str, right: str) -> None:
    assert align_names(analyse_name(left), analyse_name(right)).score < 0.6


def test_particles_are_kept_for_display_only() -> None:
    name = analyse_name("Ludwig van Beethoven")
    assert [p.token.text for p in name.parts] == ["Ludwig", "van", "Beethoven"]
    assert len(name.content) == 2
    alignment = align_names(name, analyse_name("Ludwig Beethoven"))
    assert alignment.score == 1.0


NAME_TEXT = st.sampled_from(
    [
        "محمد بن عبد الرحمن",
        "Ivan Sergeyevich Petrov",
        "J. R. R. Tolkien",
        "毛泽东",
        "ተስፋዬ ኃይሌ",
        "Maria da Silva Santos",
        "Γιώργος Παπαδόπουλος",
        "Abdel Rahman",
        "A B C D E F G H I J K L",
    ]
)


@settings(max_examples=40, deadline=None)
@given(NAME_TEXT)
def test_name_aligns_perfectly_with_itself(text: str) -> None:
    name = analyse_name(text)
    alignment = align_names(name, name)
    assert alignment.score == pytest.approx(1.0)
    assert not alignment.unmatched_left and not alignment.unmatched_right


@settings(max_examples=40, deadline=None)
@given(NAME_TEXT, NAME_TEXT)
def test_alignment_score_is_symmetric(a: str, b: str) -> None:
    left, right = analyse_name(a), analyse_name(b)
    assert align_names(left, right).score == pytest.approx(align_names(right, left).score)
