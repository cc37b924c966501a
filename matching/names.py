"""Names: normalisation, script detection, romanisation, keys and part-wise alignment.

The public entry points of the name sub-area. A name is analysed once
(:func:`analyse_name`, every token cached), after which comparisons are cheap:

>>> left = analyse_name("محمد بن عبد الرحمن")
>>> right = analyse_name("Abdelrahman Mohamed")
>>> alignment = align_names(left, right)
>>> [(p.left, p.right, p.key.value) for p in alignment.pairs]
[((0,), (1,), 'variant'), ((2, 3), (0,), 'romanisation')]
>>> alignment.unmatched_left, alignment.unmatched_right, alignment.in_order
((), (), False)

(``بن`` is a connector, part 1, left out of the comparison; parts 2-3 "عبد الرحمن" met the
joined "Abdelrahman" as a compound.)

Pieces, for a scorer:

* :func:`analyse_token` / :func:`compare_tokens` -- one token against one token, with the key
  (exact, variant class, romanisation, phonetic, skeleton, fuzzy, initial) that made them meet.
* :func:`similarity_matrix` -- the same score for many tokens against many, vectorised.
* :func:`align_names` -- optimal part-wise assignment tolerating swapped order, missing and extra
  parts, initials and joined or split compounds; lists aligned and unmatched parts.
* :func:`name_blocking_keys` -- the few index strings per name used for candidate generation.
* ``TokenAnalysis.identity`` -- the stable token id to count term frequencies on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import Indel, JaroWinkler
from rapidfuzz.process import cdist

from matching._align import (
    AlignedPair,
    AnalysedName,
    NameAlignment,
    NamePart,
    PartRole,
    align_names,
    analyse_name,
)
from matching._name_keys import (
    CONFLICT_CAP,
    INDEL_WEIGHT,
    KEY_SLOPE,
    KEYED_FORMS,
    PHONETIC_FLOOR,
    RANK_PENALTY,
    ROMANISATION_SCORE,
    SKELETON_FLOOR,
    VARIANT_SCORE,
    MatchKey,
    TokenAnalysis,
    TokenMatch,
    analyse_token,
    compare_tokens,
    xphone,
)
from matching._romanise import model_scripts
from matching._scripts import Language, Script, char_script, token_script
from matching._text import latin_fold, normalise_token, split_tokens

__all__ = [
    "AlignedPair",
    "AnalysedName",
    "Language",
    "MatchKey",
    "NameAlignment",
    "NamePart",
    "PartRole",
    "Script",
    "TokenAnalysis",
    "TokenMatch",
    "align_names",
    "analyse_name",
    "analyse_token",
    "char_script",
    "compare_tokens",
    "latin_fold",
    "model_scripts",
    "name_blocking_keys",
    "name_typo_keys",
    "normalise_token",
    "similarity_matrix",
    "split_tokens",
    "token_blocking_keys",
    "token_typo_keys",
    "token_script",
]

Matrix = npt.NDArray[np.float32]


def _postings(tokens: Sequence[TokenAnalysis], keys: str) -> dict[str, list[int]]:
    index: dict[str, list[int]] = defaultdict(list)
    for j, t in enumerate(tokens):
        if keys == "forms":
            values: Sequence[str] = t.forms[:KEYED_FORMS]
        elif keys == "phonetic":
            values = sorted(t.phonetic)
        elif keys == "skeletons":
            values = sorted(t.skeletons)
        elif keys == "variant":
            values = [t.variant] if t.variant else []
        else:
            values = [t.native] if t.native else []
        for v in values:
            index[v].append(j)
    return index


def similarity_matrix(
    lefts: Sequence[TokenAnalysis], rights: Sequence[TokenAnalysis], workers: int = 1
) -> Matrix:
    """``compare_tokens(l, r).score`` for every pair, computed in bulk (rapidfuzz ``cdist``
    over the forms, inverted indexes for the keys). Use it to rank one token against many."""
    n, m = len(lefts), len(rights)
    out = np.zeros((n, m), dtype=np.float32)
    if n == 0 or m == 0:
        return out
    depth_l = max(len(t.forms) for t in lefts)
    depth_r = max(len(t.forms) for t in rights)
    for i in range(depth_l):
        rows = np.array([i < len(t.forms) for t in lefts])
        query = [t.forms[i] if i < len(t.forms) else "" for t in lefts]
        for j in range(depth_r):
            cols = np.array([j < len(t.forms) for t in rights])
            choices = [t.forms[j] if j < len(t.forms) else "" for t in rights]
            mat = cdist(
                query,
                choices,
                scorer=JaroWinkler.normalized_similarity,
                dtype=np.float32,
                workers=workers,
            )
            indel = cdist(
                query,
                choices,
                scorer=Indel.normalized_similarity,
                dtype=np.float32,
                workers=workers,
            )
            mat = np.float32(1 - INDEL_WEIGHT) * mat + np.float32(INDEL_WEIGHT) * indel
            mat -= np.float32(RANK_PENALTY * (i + j))
            mat[~rows, :] = 0.0
            mat[:, ~cols] = 0.0
            np.maximum(out, mat, out=out)
    fuzzy = out.copy()
    for keys, floor in (("phonetic", PHONETIC_FLOOR), ("skeletons", SKELETON_FLOOR)):
        index = _postings(rights, keys)
        for i, t in enumerate(lefts):
            values = t.phonetic if keys == "phonetic" else t.skeletons
            cols_hit = sorted({j for v in values for j in index.get(v, ())})
            if cols_hit:
                lifted = np.float32(floor) + np.float32(KEY_SLOPE) * fuzzy[i, cols_hit]
                out[i, cols_hit] = np.maximum(out[i, cols_hit], lifted)
    index = _postings(rights, "forms")
    for i, t in enumerate(lefts):
        cols_hit = sorted({j for f in t.forms[:KEYED_FORMS] for j in index.get(f, ())})
        if cols_hit:
            out[i, cols_hit] = np.maximum(fuzzy[i, cols_hit], np.float32(ROMANISATION_SCORE))
    initial_rows = [i for i, t in enumerate(lefts) if t.is_initial]
    initial_cols = [j for j, t in enumerate(rights) if t.is_initial]
    for i in initial_rows:
        for j in range(m):
            out[i, j] = compare_tokens(lefts[i], rights[j]).score
    for j in initial_cols:
        for i in range(n):
            out[i, j] = compare_tokens(lefts[i], rights[j]).score
    classed = np.array([t.variant is not None for t in rights])
    for i, t in enumerate(lefts):
        if t.variant is not None:
            row = out[i]
            np.minimum(row, np.where(classed, np.float32(CONFLICT_CAP), np.float32(2.0)), out=row)
    for keys, value in (("variant", VARIANT_SCORE), ("native", 1.0)):
        index = _postings(rights, keys)
        for i, t in enumerate(lefts):
            key = t.variant if keys == "variant" else t.native
            if key:
                for j in index.get(key, ()):
                    out[i, j] = value
    np.clip(out, 0.0, 1.0, out=out)
    return out


BLOCKING_FORMS = 4
# Every kept spelling of a Cyrillic token is keyed: in the train data, the right spelling of a
# loanword (French, Spanish, Japanese) is often the model's fifth guess or later, and it is
# mostly blocking, not ranking, that loses such a pair.
BLOCKING_FORMS_BY_SCRIPT = {Script.CYRILLIC: 16}
DELETION_KEYS_FROM = 4  # letters; shorter spellings' one-deletion neighbours say too little


def _deletion_keys(form: str) -> set[str]:
    """The spelling and every one-letter deletion of it (a symmetric-deletion neighbourhood):
    two spellings one typo apart (insert, delete, substitute or transpose) always share one,
    even when the typo hits the first letter, which defeats phonetic codes and prefixes."""
    if len(form) < DELETION_KEYS_FROM:
        return set()
    return {f"d:{form}"} | {f"d:{form[:i]}{form[i + 1 :]}" for i in range(len(form))}


@lru_cache(maxsize=1 << 18)
def token_blocking_keys(token: TokenAnalysis) -> frozenset[str]:
    """Index keys of one token (cached: tokens are analysed once and repeat across records).

    ``v:`` the variant class; ``p:`` the cross-lingual phonetic code of each of the four most
    trusted spellings (all kept spellings of a Cyrillic token; codes shorter than two letters
    get the spelling's first letter, to stay selective); ``q:`` the first three letters of
    those codes, which lets a spelling variant at the end of a long name (a dropped or added
    final syllable) still meet. On the xlit dev files a native token shares a key with a gold
    English spelling about 9 times in 10 while reaching well under 1% of the English tokens.
    Typos are `token_typo_keys`. Callers pass a name's content tokens (`AnalysedName.tokens`):
    a particle counts where the alignment keeps it, at the end of a name or alone ("Vanden",
    "Dos"), so that such a name can be found at all.
    """
    if token.is_initial:
        return frozenset()
    keys: set[str] = set()
    if token.variant:
        keys.add(f"v:{token.variant}")
    for form in token.forms[: BLOCKING_FORMS_BY_SCRIPT.get(token.script, BLOCKING_FORMS)]:
        code = xphone(form)
        keys.add(f"p:{code}" if len(code) >= 2 else f"p:{form[:1]}{code}")
        if len(code) > 3:
            keys.add(f"q:{code[:3]}")
    return frozenset(keys)


@lru_cache(maxsize=1 << 18)
def token_typo_keys(token: TokenAnalysis) -> frozenset[str]:
    """``d:`` keys of one token: the one-deletion neighbourhood of its most trusted spelling, so
    that two spellings one typo apart meet. Alone they are common in a large archive; the
    record's blocking keys pair them with the birth year."""
    if token.is_initial or not token.forms:
        return frozenset()
    return frozenset(_deletion_keys(token.forms[0]))


def name_blocking_keys(name: AnalysedName) -> frozenset[str]:
    """Index keys of a whole name: the union of its content tokens' and compounds' keys."""
    keys: set[str] = set()
    for token in name.tokens:
        keys |= token_blocking_keys(token)
    for compound in name.compounds:
        keys |= token_blocking_keys(compound.token)
    return frozenset(keys)


def name_typo_keys(name: AnalysedName) -> frozenset[str]:
    """Typo keys of a whole name: the union of its content tokens' `token_typo_keys`."""
    keys: set[str] = set()
    for token in name.tokens:
        keys |= token_typo_keys(token)
    return frozenset(keys)
