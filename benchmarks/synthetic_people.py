"""Seeded synthetic person records across scripts, with corrupted duplicates and their truth.

    timeout 3000 uv run python benchmarks/synthetic_people.py --n 1000000 --seed 7 --out DIR

Writes `DIR/people.csv` (the `kintrace link` input contract) and `DIR/truth.csv`
(`left_id, right_id, corruptions`: the original, which always comes first in the file, its
duplicate, and the corruptions applied, `|`-separated). Every random choice comes from one
`random.Random(seed)`: the same arguments give byte-identical files.

People come from eight cultures with the authentic name tables of `service.demo.names`
(Arabic, Persian, Pashto, Russian, Ukrainian, Tigrinya/Amharic in Ge'ez script, Somali) plus a
small table of Latin European names with diacritics here. Non-Latin cultures are written in the
native script or in one of the table's romanisations. A share `--dup-rate` of the originals
(default 10%) gets exactly one duplicate, rendered again independently (column layout, date
format, whether birth place and nationality are given) and corrupted at the rates of
`CORRUPTION_RATES`, drawn independently (about 18% draw none and differ only by that rendering).
A corruption that does not apply (another romanisation of a native-script name, dropping a
father's name that is not there, corrupting a missing date) is skipped and not counted.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks._linkcsv import open_link_writer
from service.demo import names as N

NameEntry = tuple[str, ...]

GENERATOR_VERSION = 2  # bump when the output changes; cached files of other versions are rebuilt

# Probability that a duplicate receives each corruption (drawn independently).
CORRUPTION_RATES: dict[str, float] = {
    "typo": 0.30,  # one insert / delete / substitute / transpose in one name part
    "swap": 0.15,  # family name first (or given and family columns swapped)
    "variant": 0.30,  # another romanisation of one romanised name part from the table
    "script": 0.20,  # the whole name in the other script (native <-> romanised)
    "drop_father": 0.20,  # father's name dropped (when there is one)
    "date": 0.30,  # one of DATE_CORRUPTIONS, uniformly among those applicable
}
DATE_CORRUPTIONS: tuple[str, ...] = ("year_only", "off_by_one_year", "day_month_swapped", "missing")
TYPO_KINDS: tuple[str, ...] = ("insert", "delete", "substitute", "transpose")

EUROPEAN_MALE: tuple[NameEntry, ...] = (
    ("José", "Jose"),
    ("François", "Francois", "Francis"),
    ("Jürgen", "Juergen", "Jurgen"),
    ("Łukasz", "Lukasz", "Lucas"),
    ("Stefan", "Stephan", "Steffen"),
    ("Tomás", "Tomas", "Thomas"),
    ("Jörg", "Joerg", "Jorg"),
    ("Andrzej", "Andrej", "Andreas"),
    ("Giuseppe", "Guiseppe", "Joseph"),
    ("Nicolás", "Nicolas", "Nikolaus"),
    ("Björn", "Bjoern", "Bjorn"),
    ("Sébastien", "Sebastien", "Sebastian"),
    ("Piotr", "Peter", "Pjotr"),
    ("João", "Joao", "Joan"),
    ("Michał", "Michal", "Michael"),
    ("René", "Rene"),
    ("Jean-Luc", "Jean Luc", "Jeanluc"),
    ("Matthias", "Mathias", "Matias"),
    ("Wojciech", "Wojtek", "Voytech"),
    ("Antoine", "Anton", "Antonio"),
    ("Karl", "Carl", "Carlo"),
    ("Frédéric", "Frederic", "Friedrich"),
    ("Miguel", "Michel", "Mikel"),
    ("Håkan", "Hakan", "Haakan"),
    ("Zoltán", "Zoltan"),
)
EUROPEAN_FEMALE: tuple[NameEntry, ...] = (
    ("Zoë", "Zoe", "Zoey"),
    ("Anaïs", "Anais"),
    ("Małgorzata", "Malgorzata", "Margarete"),
    ("Hélène", "Helene", "Helena"),
    ("Maria", "Marija", "Marie"),
    ("Agnieszka", "Agnes", "Agneska"),
    ("Jutta", "Juta"),
    ("Inés", "Ines", "Agnes"),
    ("Katarzyna", "Katharina", "Katarina"),
    ("Chloé", "Chloe"),
    ("Sofía", "Sofia", "Sophia"),
    ("Françoise", "Francoise", "Franziska"),
    ("Åsa", "Asa", "Aasa"),
    ("Elżbieta", "Elzbieta", "Elisabeth"),
    ("Brigitte", "Brigite", "Birgit"),
    ("Mónica", "Monica", "Monika"),
    ("Léa", "Lea"),
    ("Dörte", "Doerte", "Dorte"),
    ("Ana", "Anna", "Anne"),
    ("Giulia", "Julia", "Giula"),
    ("Renée", "Renee"),
    ("Joanna", "Johanna", "Ioana"),
)
EUROPEAN_FAMILY: tuple[NameEntry, ...] = (
    ("Müller", "Mueller", "Muller"),
    ("Schröder", "Schroeder", "Schroder"),
    ("García", "Garcia"),
    ("Nowak", "Novak"),
    ("Lefèvre", "Lefevre", "Lefebvre"),
    ("Kowalczyk", "Kovalchik"),
    ("Rossi", "Rosi"),
    ("Meyer", "Maier", "Mayer", "Meier"),
    ("Schmidt", "Schmitt", "Schmid"),
    ("Fernández", "Fernandez"),
    ("Wiśniewski", "Wisniewski", "Vishnevsky"),
    ("Dubois", "Du Bois"),
    ("Hoffmann", "Hofmann", "Hoffman"),
    ("Lewandowski", "Levandovski"),
    ("Ferrari", "Ferrary"),
    ("Martínez", "Martinez"),
    ("Gonçalves", "Goncalves"),
    ("Weiß", "Weiss", "Weis"),
    ("Bäcker", "Baecker", "Becker"),
    ("Núñez", "Nunez"),
    ("Van der Berg", "van den Berg", "Vandenberg"),
    ("De Luca", "Deluca", "di Luca"),
    ("O'Brien", "OBrien", "O Brien"),
    ("Jovanović", "Jovanovic", "Jovanovich"),
    ("Nagy", "Nagi"),
    ("Şahin", "Sahin"),
    ("Kovács", "Kovacs"),
    ("Lindqvist", "Lindquist"),
    ("Fischer", "Fisher"),
    ("Moreau", "Moro"),
)


@dataclass(frozen=True, slots=True)
class Culture:
    """Name tables, the chance of the native script, nationalities and birth places of one
    culture. `latin` cultures have no second script: their index 0 form is just one spelling."""

    code: str
    weight: float
    male: tuple[NameEntry, ...]
    female: tuple[NameEntry, ...]
    family: tuple[NameEntry, ...]
    native_share: float
    nationalities: tuple[str, ...]
    places: tuple[NameEntry, ...]
    latin: bool = False
    slavic: bool = False


CULTURES: tuple[Culture, ...] = (
    Culture(
        "arabic",
        0.22,
        N.ARABIC_MALE + N.SUDANESE_MALE,
        N.ARABIC_FEMALE,
        N.ARABIC_FAMILY + N.IRAQI_TRIBAL,
        0.4,
        ("SY", "IQ", "SD"),
        (("حلب", "Aleppo", "Halab"), ("دمشق", "Damascus", "Dimashq"), ("الموصل", "Mosul")),
    ),
    Culture(
        "persian",
        0.12,
        N.PERSIAN_MALE,
        N.PERSIAN_FEMALE,
        N.IRANIAN_FAMILY + N.AFGHAN_DARI_FAMILY,
        0.4,
        ("IR", "AF"),
        (("تهران", "Tehran", "Teheran"), ("هرات", "Herat"), ("مشهد", "Mashhad", "Meshed")),
    ),
    Culture(
        "pashto",
        0.10,
        N.PASHTO_MALE,
        N.PASHTO_FEMALE,
        N.PASHTO_TRIBES,
        0.4,
        ("AF", "PK"),
        (("کندهار", "Kandahar", "Qandahar"), ("جلال آباد", "Jalalabad"), ("کابل", "Kabul")),
    ),
    Culture(
        "russian",
        0.10,
        N.RUSSIAN_MALE,
        N.RUSSIAN_FEMALE,
        N.RUSSIAN_FAMILY,
        0.5,
        ("RU",),
        (("Москва", "Moskva", "Moscow"), ("Ростов-на-Дону", "Rostov-na-Donu", "Rostov")),
        slavic=True,
    ),
    Culture(
        "ukrainian",
        0.08,
        N.UKRAINIAN_MALE,
        N.UKRAINIAN_FEMALE,
        N.UKRAINIAN_FAMILY,
        0.5,
        ("UA",),
        (("Харків", "Kharkiv", "Charkiw"), ("Маріуполь", "Mariupol"), ("Київ", "Kyiv", "Kiew")),
        slavic=True,
    ),
    Culture(
        "geez",
        0.12,
        N.GEEZ_MALE,
        N.GEEZ_FEMALE,
        N.GEEZ_MALE,  # grandfather's given name in the family-name position
        0.4,
        ("ER", "ET"),
        (("አስመራ", "Asmara", "Asmera"), ("መቐለ", "Mekelle", "Mekele"), ("ኣዲስ ኣበባ", "Addis Ababa")),
    ),
    Culture(
        "somali",
        0.14,
        N.SOMALI_MALE,
        N.SOMALI_FEMALE,
        N.SOMALI_MALE,  # grandfather's given name in the family-name position
        0.5,
        ("SO",),
        (
            ("Muqdisho", "Mogadishu", "Mogadiscio"),
            ("Hargeysa", "Hargeisa"),
            ("Kismaayo", "Kismayo"),
        ),
        latin=True,
    ),
    Culture(
        "european",
        0.12,
        EUROPEAN_MALE,
        EUROPEAN_FEMALE,
        EUROPEAN_FAMILY,
        0.5,
        ("DE", "FR", "PL", "ES", "IT"),
        (("Köln", "Koeln", "Cologne"), ("Kraków", "Krakow", "Cracow"), ("Sevilla", "Seville")),
        latin=True,
    ),
)


@dataclass(frozen=True, slots=True)
class Person:
    """One rendering of a person: name entries with the chosen form index of each, the true
    birth date, and how this record writes it. `forms` holds per-part text overrides."""

    culture: Culture
    sex: str
    given: NameEntry
    father: NameEntry | None
    family: NameEntry
    forms: tuple[int, int, int]
    year: int
    month: int
    day: int
    date_style: str  # iso | dmy | year | none
    layout: str  # parts | full
    swapped: bool
    place: NameEntry
    nationality: str
    show_place: bool
    show_nationality: bool
    texts: tuple[str | None, str | None, str | None] = (None, None, None)


def _feminine(entry: NameEntry, culture: Culture) -> NameEntry:
    """Russian and Ukrainian women's surnames: -ов/-ев/-ин take -а (in every script)."""
    if culture.slavic and entry[0].endswith(("ов", "ев", "ёв", "ин")):
        return tuple(form + "a" if i else form + "а" for i, form in enumerate(entry))
    return entry


def _form(rng: random.Random, entry: NameEntry, native: bool, culture: Culture) -> int:
    """Index of the form a record uses: 0 for the native script, else a romanisation."""
    if culture.latin:
        return rng.randrange(len(entry))
    if native or len(entry) == 1:
        return 0
    return rng.randrange(1, len(entry))


def _pick_culture(rng: random.Random) -> Culture:
    return rng.choices(CULTURES, weights=[c.weight for c in CULTURES])[0]


def new_person(rng: random.Random) -> Person:
    """A new original record."""
    culture = _pick_culture(rng)
    sex = "M" if rng.random() < 0.5 else "F"
    given = rng.choice(culture.male if sex == "M" else culture.female)
    father = rng.choice(culture.male) if rng.random() < 0.8 else None
    family = rng.choice(culture.family)
    if sex == "F":
        family = _feminine(family, culture)
    native = rng.random() < culture.native_share
    forms = (
        _form(rng, given, native, culture),
        _form(rng, father, native, culture) if father else 0,
        _form(rng, family, native, culture),
    )
    roll = rng.random()
    completeness = "full" if roll < 0.88 else "year" if roll < 0.95 else "none"
    return Person(
        culture=culture,
        sex=sex,
        given=given,
        father=father,
        family=family,
        forms=forms,
        year=rng.randint(1940, 2020),
        month=rng.randint(1, 12),
        day=rng.randint(1, 28),
        date_style=_date_format(rng) if completeness == "full" else completeness,
        layout="parts" if rng.random() < 0.7 else "full",
        swapped=False,
        place=rng.choice(culture.places),
        nationality=rng.choice(culture.nationalities),
        show_place=rng.random() < 0.5,
        show_nationality=rng.random() < 0.7,
    )


def _date_format(rng: random.Random) -> str:
    return "iso" if rng.random() < 0.8 else "dmy"


def typo(rng: random.Random, text: str) -> tuple[str, str]:
    """One character edit of `text` with characters from `text` itself (so the script stays
    the same); returns the new text and the kind of edit."""
    kinds = [k for k in TYPO_KINDS if k != "delete" or len(text) >= 3]
    if len(text) < 2 or len(set(text)) < 2:
        kinds = ["insert"]
    kind = rng.choice(kinds)
    i = rng.randrange(len(text))
    letters = [c for c in text if c.isalpha()] or list(text)
    if kind == "insert":
        return text[:i] + rng.choice(letters) + text[i:], kind
    if kind == "delete":
        return text[:i] + text[i + 1 :], kind
    if kind == "substitute":
        others = [c for c in letters if c != text[i]] or letters
        return text[:i] + rng.choice(others) + text[i + 1 :], kind
    i = min(i, len(text) - 2)
    if text[i] == text[i + 1]:
        return text[:i] + rng.choice(letters) + text[i + 1 :], "substitute"
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :], kind


def _parts(person: Person) -> list[NameEntry | None]:
    return [person.given, person.father, person.family]


def _flip_script(rng: random.Random, person: Person) -> tuple[int, int, int]:
    """Forms of the whole name in the other script (another spelling for Latin cultures)."""
    forms = []
    for entry, form in zip(_parts(person), person.forms, strict=True):
        if entry is None:
            forms.append(0)
        elif person.culture.latin:
            forms.append((form + 1) % len(entry))
        elif form == 0:
            forms.append(rng.randrange(1, len(entry)) if len(entry) > 1 else 0)
        else:
            forms.append(0)
    return forms[0], forms[1], forms[2]


def _variant(rng: random.Random, person: Person) -> tuple[int, int, int] | None:
    """Another romanisation (or spelling) of one name part, or None when no part has one."""
    options = []
    for index, (entry, form) in enumerate(zip(_parts(person), person.forms, strict=True)):
        if entry is None:
            continue
        if form == 0 and not person.culture.latin:
            continue  # a native-script part has one spelling; "script" covers the switch
        start = 0 if person.culture.latin else 1
        others = [f for f in range(start, len(entry)) if f != form and entry[f] != entry[form]]
        if others:
            options.append((index, others))
    if not options:
        return None
    index, others = rng.choice(options)
    forms = list(person.forms)
    forms[index] = rng.choice(others)
    return forms[0], forms[1], forms[2]


def _corrupt_date(rng: random.Random, person: Person) -> tuple[Person, str] | None:
    """Apply one applicable date corruption; None when the date is already missing."""
    if person.date_style == "none":
        return None
    kinds = ["off_by_one_year", "missing"]
    if person.date_style in ("iso", "dmy"):
        kinds.append("year_only")
        if person.day <= 12 and person.day != person.month:
            kinds.append("day_month_swapped")
    kind = rng.choice(kinds)
    if kind == "off_by_one_year":
        return replace(person, year=person.year + rng.choice((-1, 1))), kind
    if kind == "missing":
        return replace(person, date_style="none"), kind
    if kind == "year_only":
        return replace(person, date_style="year"), kind
    return replace(person, month=person.day, day=person.month), kind


def duplicate(rng: random.Random, original: Person) -> tuple[Person, list[str]]:
    """An independent rendering of `original` with corruptions; returns it and their labels."""
    full_date = original.date_style in ("iso", "dmy")
    dup = replace(
        original,
        date_style=_date_format(rng) if full_date else original.date_style,
        layout="parts" if rng.random() < 0.7 else "full",
        show_place=rng.random() < 0.5,
        show_nationality=rng.random() < 0.7,
    )
    applied: list[str] = []
    draws = {kind: rng.random() < rate for kind, rate in CORRUPTION_RATES.items()}
    if draws["script"]:
        dup = replace(dup, forms=_flip_script(rng, dup))
        applied.append("script")
    if draws["variant"]:
        forms = _variant(rng, dup)
        if forms is not None:
            dup = replace(dup, forms=forms)
            applied.append("variant")
    if draws["drop_father"] and dup.father is not None:
        dup = replace(dup, father=None)
        applied.append("drop_father")
    if draws["swap"]:
        dup = replace(dup, swapped=True)
        applied.append("swap")
    if draws["date"]:
        corrupted = _corrupt_date(rng, dup)
        if corrupted is not None:
            dup = corrupted[0]
            applied.append(f"date:{corrupted[1]}")
    if draws["typo"]:
        dup, kind = _typo_in_name(rng, dup)
        applied.append(f"typo:{kind}")
    return dup, applied


def _typo_in_name(rng: random.Random, person: Person) -> tuple[Person, str]:
    """A typo in one present name part (given, father or family)."""
    texts = list(_texts(person))
    present = [i for i, text in enumerate(texts) if text]
    index = rng.choice(present)
    new, kind = typo(rng, texts[index] or "")
    texts[index] = new
    return replace(person, texts=(texts[0], texts[1], texts[2])), kind


def _texts(person: Person) -> tuple[str | None, str | None, str | None]:
    """The written given, father and family name of this rendering."""
    out: list[str | None] = []
    for entry, form, override in zip(_parts(person), person.forms, person.texts, strict=True):
        out.append(None if entry is None else override or entry[form])
    return out[0], out[1], out[2]


def _date_text(person: Person) -> str:
    if person.date_style == "iso":
        return f"{person.year:04d}-{person.month:02d}-{person.day:02d}"
    if person.date_style == "dmy":
        return f"{person.day:02d}/{person.month:02d}/{person.year:04d}"
    if person.date_style == "year":
        return f"{person.year:04d}"
    return ""


def _place_text(person: Person) -> str:
    if not person.show_place:
        return ""
    native = person.forms[0] == 0 and not person.culture.latin
    return person.place[0] if native or len(person.place) == 1 else person.place[1]


def row(person: Person, record_id: str) -> list[str]:
    """The CSV cells of `person` in `LINK_COLUMNS` order."""
    given, father, family = _texts(person)
    given, father, family = given or "", father or "", family or ""
    full = given_col = father_col = family_col = ""
    if person.layout == "parts":
        given_col, father_col, family_col = given, father, family
        if person.swapped:
            given_col, family_col = family_col, given_col
    elif person.culture.slavic or person.culture.code == "european":
        words = [family, given] if person.swapped else [given, family]
        full, father_col = " ".join(w for w in words if w), father
    else:
        words = [family, given, father] if person.swapped else [given, father, family]
        full = " ".join(w for w in words if w)
    return [
        record_id,
        full,
        given_col,
        family_col,
        father_col,
        "",
        person.sex,
        _date_text(person),
        _place_text(person),
        person.nationality if person.show_nationality else "",
    ]


@dataclass(frozen=True, slots=True)
class Summary:
    """What a generation run produced."""

    rows: int
    originals: int
    duplicates: int
    corruptions: dict[str, int]
    seconds: float


def plan(n: int, dup_rate: float) -> tuple[int, int]:
    """Split `n` rows into originals and duplicates so that `dup_rate` of originals have one."""
    originals = round(n / (1 + dup_rate))
    return originals, n - originals


def _records(
    rng: random.Random, n: int, dup_rate: float, corruptions: Counter[str]
) -> Iterator[tuple[list[str], str | None, list[str]]]:
    """Yield `(row, original_id, corruptions)` in file order; `original_id` is None for an
    original. Duplicates are held back a random number of rows (at most 200,000)."""
    originals, duplicates = plan(n, dup_rate)
    with_dup = set(rng.sample(range(originals), duplicates))
    window = max(1, min(n, 200_000))
    pending: list[tuple[int, int, Person, str, list[str]]] = []
    position = 0

    def next_id() -> str:
        return f"P{position:07d}"

    for index in range(originals):
        while pending and pending[0][0] <= position:
            _, _, person, original_id, applied = heapq.heappop(pending)
            yield row(person, next_id()), original_id, applied
            position += 1
        person = new_person(rng)
        record_id = next_id()
        yield row(person, record_id), None, []
        position += 1
        if index in with_dup:
            dup, applied = duplicate(rng, person)
            corruptions.update(a.split(":")[0] for a in applied)
            corruptions.update(a for a in applied if ":" in a)
            due = position + rng.randint(0, window)
            heapq.heappush(pending, (due, index, dup, record_id, applied))
    while pending:
        _, _, person, original_id, applied = heapq.heappop(pending)
        yield row(person, next_id()), original_id, applied
        position += 1


def generate(n: int, seed: int, out: Path, *, dup_rate: float = 0.1) -> Summary:
    """Write `out/people.csv` and `out/truth.csv` (streamed) and `out/summary.json`."""
    start = time.perf_counter()
    rng = random.Random(seed)
    corruptions: Counter[str] = Counter()
    out.mkdir(parents=True, exist_ok=True)
    with (
        open_link_writer(out / "people.csv") as writer,
        (out / "truth.csv").open("w", encoding="utf-8", newline="") as truth,
    ):
        truth.write("left_id,right_id,corruptions\r\n")
        for cells, original_id, applied in _records(rng, n, dup_rate, corruptions):
            writer.write(cells)
            if original_id is not None:
                truth.write(f"{original_id},{cells[0]},{'|'.join(applied)}\r\n")
    originals, duplicates = plan(n, dup_rate)
    summary = Summary(n, originals, duplicates, dict(sorted(corruptions.items())), 0.0)
    summary = replace(summary, seconds=time.perf_counter() - start)
    meta = {"version": GENERATOR_VERSION, "n": n, "seed": seed, "dup_rate": dup_rate}
    meta["originals"] = originals
    meta |= {"duplicates": duplicates, "corruptions": summary.corruptions}
    meta["seconds"] = round(summary.seconds, 2)
    (out / "summary.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return summary


def read_truth(path: Path) -> list[tuple[str, str]]:
    """The `(left_id, right_id)` duplicate pairs of a truth file."""
    with path.open(encoding="utf-8") as handle:
        next(handle)
        pairs = []
        for line in handle:
            left, right, _ = line.split(",", 2)
            pairs.append((left, right))
        return pairs


def describe(summary: Summary) -> str:
    """The stated corruption rates and what was observed, as printable text."""
    share = summary.duplicates / summary.originals if summary.originals else 0.0
    lines = [
        f"{summary.rows:,} rows: {summary.originals:,} originals, {summary.duplicates:,} "
        f"duplicates ({share:.1%} of originals have one; {summary.duplicates / summary.rows:.1%} "
        f"of rows) in {summary.seconds:.1f} s",
        "corruption       stated  observed",
    ]
    for kind, rate in CORRUPTION_RATES.items():
        seen = summary.corruptions.get(kind, 0) / summary.duplicates if summary.duplicates else 0
        lines.append(f"  {kind:<14} {rate:>6.0%}  {seen:>8.1%}")
    lines.append("  (variant, drop_father and date are skipped where they do not apply)")
    detail = {k: v for k, v in summary.corruptions.items() if ":" in k}
    lines.append("  detail: " + ", ".join(f"{k} {v:,}" for k, v in detail.items()))
    return "\n".join(lines)


def describe_file(directory: Path) -> str:
    """`describe` for a generated directory, from its `summary.json`."""
    meta = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    summary = Summary(
        meta["n"], meta["originals"], meta["duplicates"], meta["corruptions"], meta["seconds"]
    )
    return describe(summary)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: generate and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="rows to write")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dup-rate", type=float, default=0.1, help="share of originals")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    args = parser.parse_args(argv)
    summary = generate(args.n, args.seed, args.out, dup_rate=args.dup_rate)
    print(describe(summary))
    print(f"wrote {args.out / 'people.csv'} and {args.out / 'truth.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
