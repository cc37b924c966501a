"""PFIF 1.4 (Person Finder Interchange Format) import and export.

PFIF is how Google Person Finder and other disaster tracing sites exchange records: a `person`
(names, sex, birth date or age, home address) and `note`s about them (a status such as
`believed_alive`, a last known location, free text). This module reads such files into plain
records, maps them to Kintrace registrations, and writes Kintrace persons back as PFIF.

Reading is hardened because PFIF files come from outside: XML with a DTD (and with it every
entity trick: billion laughs, external entities reading local files) is refused before anything
is expanded, and the input size and the number of records are capped. Files in the PFIF 1.2 and
1.3 namespaces are read too, with their older names for the same fields (`first_name`,
`last_name`, `other`); everything else (unknown elements, other namespaces) is ignored.

A record that is wrong (no id, a bad date, an unknown sex) does not stop the file: it becomes
a `PfifProblem` naming its position, and the rest is read, as the CSV import reports a bad row.

PFIF contact fields (`author_email`, `author_phone`, `email_of_found_person`,
`phone_of_found_person`) and note photos are neither read nor written: Kintrace keeps contact
details only with consent, and an exchange format is no place to pass them on.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from pydantic import ValidationError

from schemas.enums import NameKind, PersonRole, RegistrationKind, Sex
from schemas.persons import NamePublic, PersonPublic, RegistrationCreate
from schemas.values import FuzzyDatePublic

PFIF_NAMESPACE: Final = "http://zesty.ca/pfif/1.4"
PFIF_NAMESPACES: Final = {
    "1.4": PFIF_NAMESPACE,
    "1.3": "http://zesty.ca/pfif/1.3",
    "1.2": "http://zesty.ca/pfif/1.2",
}
MAX_PFIF_BYTES: Final = 50 * 1024 * 1024
MAX_PFIF_PERSONS: Final = 100_000
MAX_PFIF_NOTES: Final = 500_000
NOTES_MAX_LENGTH: Final = 10_000
"""`max_length` of a registration's `notes` (`LongText`; a test keeps the two equal)."""

PfifSex = Literal["female", "male", "other"]
PfifStatus = Literal[
    "information_sought", "is_note_author", "believed_alive", "believed_missing", "believed_dead"
]
RecordType = Literal["person", "note"]


class PfifError(ValueError):
    """A PFIF file, record or mapping that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class PfifNote:
    """What someone said about a person at some time: a status, a place, free text.

    Fields are declared in PFIF 1.4 order, which is the order they are written in. A note is
    validated and normalised when it is made (text stripped, line ends unified, times in UTC
    to the second), so every note that exists is valid PFIF and reads back equal.
    """

    note_record_id: str
    person_record_id: str
    linked_person_record_id: str | None = None
    entry_date: datetime.datetime | None = None
    author_name: str | None = None
    source_date: datetime.datetime | None = None
    author_made_contact: bool | None = None
    status: PfifStatus | None = None
    last_known_location: str | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        _normalise_fields(self)
        _check_record_id("note_record_id", self.note_record_id)
        _check_record_id("person_record_id", self.person_record_id)
        if self.linked_person_record_id is not None:
            _check_record_id("linked_person_record_id", self.linked_person_record_id)
        _check_choice("status", self.status, get_args(PfifStatus))


@dataclass(frozen=True, slots=True)
class PfifPerson:
    """A person as PFIF 1.4 records them, with the notes about them.

    Fields are declared in PFIF 1.4 order. `alternate_names` and `profile_urls` are one entry
    per line in PFIF, so an entry cannot contain a line break. `date_of_birth` is `YYYY`,
    `YYYY-MM` or `YYYY-MM-DD`; `age` is `N` or `N-M`, the age at `source_date`. Every note's
    `person_record_id` is this person's.
    """

    person_record_id: str
    entry_date: datetime.datetime | None = None
    expiry_date: datetime.datetime | None = None
    author_name: str | None = None
    source_name: str | None = None
    source_date: datetime.datetime | None = None
    source_url: str | None = None
    full_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    alternate_names: tuple[str, ...] = ()
    description: str | None = None
    sex: PfifSex | None = None
    date_of_birth: str | None = None
    age: str | None = None
    home_street: str | None = None
    home_neighborhood: str | None = None
    home_city: str | None = None
    home_state: str | None = None
    home_postal_code: str | None = None
    home_country: str | None = None
    photo_url: str | None = None
    profile_urls: tuple[str, ...] = ()
    notes: tuple[PfifNote, ...] = ()

    def __post_init__(self) -> None:
        _normalise_fields(self)
        _check_record_id("person_record_id", self.person_record_id)
        _check_choice("sex", self.sex, get_args(PfifSex))
        if self.date_of_birth is not None:
            _check_date_of_birth(self.date_of_birth)
        if self.age is not None:
            age_range(self.age)
        _check_notes(self.person_record_id, self.notes)


@dataclass(frozen=True, slots=True)
class PfifProblem:
    """A record of the file that was not read: its 1-based position among the file's
    top-level records, its type, its id when one could be read, and why."""

    position: int
    record: RecordType
    record_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class PfifDocument:
    """What was read from a PFIF file: its version, the persons (with their notes attached),
    and the records that could not be read."""

    version: str
    persons: list[PfifPerson]
    problems: list[PfifProblem]


# Validation and normalisation of records

_RECORD_ID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/\S+")
_DATE_OF_BIRTH = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_AGE = re.compile(r"(\d{1,3})(?:-(\d{1,3}))?")
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_LINE_FIELDS: Final = frozenset({"alternate_names", "profile_urls"})


def _normalise_fields(record: PfifPerson | PfifNote) -> None:
    """Put every field of a new record in its one written form, so that writing a record and
    reading it back gives an equal record: XML turns `\\r\\n` into `\\n` and PFIF dates carry
    whole seconds in UTC."""
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        if isinstance(value, str):
            value = _clean_text(field.name, value)
        elif isinstance(value, datetime.datetime):
            value = _utc_seconds(field.name, value)
        elif field.name in _LINE_FIELDS:
            value = _clean_lines(field.name, value)
        elif field.name == "notes":
            value = tuple(value)
        object.__setattr__(record, field.name, value)


def _clean_text(name: str, value: str) -> str | None:
    """Text stripped, with unified line ends; `None` when blank. Control characters are
    refused because XML 1.0 cannot carry them: writing them would make a file nobody reads."""
    if _NOT_IN_XML.search(value):
        raise PfifError(f"{name}: contains a control character XML cannot carry")
    return value.replace("\r\n", "\n").replace("\r", "\n").strip() or None


def _clean_lines(name: str, values: Iterable[str]) -> tuple[str, ...]:
    """The non-blank entries of a one-per-line field; an entry cannot hold a line break."""
    cleaned = []
    for value in values:
        text = _clean_text(name, value)
        if text is not None and "\n" in text:
            raise PfifError(f"{name}: an entry cannot contain a line break")
        if text is not None:
            cleaned.append(text)
    return tuple(cleaned)


def _utc_seconds(name: str, value: datetime.datetime) -> datetime.datetime:
    """`value` in UTC to the second, as PFIF writes times (`YYYY-MM-DDThh:mm:ssZ`)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise PfifError(f"{name}: a time needs a time zone (PFIF times are in UTC)")
    try:
        return value.astimezone(datetime.UTC).replace(microsecond=0)
    except OverflowError:
        raise PfifError(f"{name}: {value.isoformat()} is out of range in UTC") from None


def _check_record_id(name: str, value: str | None) -> None:
    """PFIF record ids are `domain/local-id`: the domain says which repository owns the
    record, which is what lets records from many sites be merged without clashing."""
    if value is None:
        raise PfifError(f"{name} is missing")
    if not _RECORD_ID.fullmatch(value):
        raise PfifError(f"{name} {value!r} is not of the form domain/local-id")


def _check_choice(name: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise PfifError(f"{name} {value!r} is not one of {', '.join(allowed)}")


def _check_date_of_birth(value: str) -> None:
    """PFIF dates of birth may be partial (a year, a month) but must exist in the calendar."""
    match = _DATE_OF_BIRTH.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        year, month, day = (int(part) if part else 1 for part in match.groups())
        datetime.date(year, month, day)
    except ValueError:
        raise PfifError(f"date_of_birth {value!r} is not YYYY, YYYY-MM or YYYY-MM-DD") from None


def age_range(age: str) -> tuple[int, int]:
    """The youngest and oldest age a PFIF `age` allows (`30` -> (30, 30), `30-35`)."""
    match = _AGE.fullmatch(age)
    if match is None:
        raise PfifError(f"age {age!r} is not N or N-M")
    low = int(match[1])
    high = low if match[2] is None else int(match[2])
    if high < low:
        raise PfifError(f"age {age!r} is a range whose end comes before its start")
    return low, high


def _check_notes(person_record_id: str, notes: tuple[PfifNote, ...]) -> None:
    seen: set[str] = set()
    for note in notes:
        if note.person_record_id != person_record_id:
            raise PfifError(
                f"note {note.note_record_id} is about {note.person_record_id}, "
                f"not {person_record_id}"
            )
        if note.note_record_id in seen:
            raise PfifError(f"note {note.note_record_id} appears twice")
        seen.add(note.note_record_id)


# Reading

_LEGACY_NAMES: Final = {
    "first_name": "given_name",
    "last_name": "family_name",
    "other": "description",
}
_TIME_FIELDS: Final = frozenset({"entry_date", "expiry_date", "source_date"})
_PERSON_FIELDS: Final = frozenset(f.name for f in dataclasses.fields(PfifPerson)) - {"notes"}
_NOTE_FIELDS: Final = frozenset(f.name for f in dataclasses.fields(PfifNote))


def parse_pfif(
    data: bytes, *, max_bytes: int = MAX_PFIF_BYTES, max_persons: int = MAX_PFIF_PERSONS
) -> PfifDocument:
    """Read a PFIF 1.4 (or 1.3, 1.2) file: its persons, each with every note about them
    (nested in the person or at the top level of the file), and the records it could not read.

    Raises `PfifError` for a file that cannot be read at all: too large, not well-formed, with
    a DTD or entities, not PFIF, or with more than `max_persons` persons. A note whose person
    is not in the file is a problem rather than lost silently; a person with a note that cannot
    be read is a problem too, because without that note its status could be wrong.
    """
    root = _parse_xml(data, max_bytes)
    version, namespace = _pfif_version(root)
    records = [child for child in root if _local_name(child.tag, namespace) in ("person", "note")]
    _check_counts(root, namespace, max_persons)
    persons: dict[str, tuple[int, PfifPerson]] = {}
    loose_notes: list[tuple[int, PfifNote]] = []
    problems: list[PfifProblem] = []
    spoilt: dict[str, int] = {}
    for position, element in enumerate(records, start=1):
        record: RecordType = "person" if _local_name(element.tag, namespace) == "person" else "note"
        try:
            if record == "person":
                person = _read_person(element, namespace, version)
                if person.person_record_id in persons:
                    raise PfifError("person_record_id appears twice in the file")
                persons[person.person_record_id] = (position, person)
            else:
                loose_notes.append((position, _read_note(element, namespace, version, None)))
        except PfifError as error:
            record_id = _raw_text(element, namespace, f"{record}_record_id")
            problems.append(PfifProblem(position, record, record_id, str(error)))
            about = _raw_text(element, namespace, "person_record_id")
            if record == "note" and about is not None:
                spoilt.setdefault(about, position)
    problems += _attach(persons, loose_notes)
    kept, refused = _without_spoilt(persons, spoilt)
    problems = sorted(problems + refused, key=lambda problem: problem.position)
    return PfifDocument(version=version, persons=kept, problems=problems)


def _parse_xml(data: bytes, max_bytes: int) -> ET.Element:
    """The root element, parsed with every DTD refused: a DTD is where entity expansion (the
    billion laughs) and external entities (reading `/etc/passwd` into a record) come from, and
    PFIF never needs one."""
    if len(data) > max_bytes:
        raise PfifError(f"the file is larger than {max_bytes} bytes")
    try:
        root: ET.Element = SafeET.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException:
        raise PfifError(
            "the file declares a DTD or entities, which PFIF does not use and which are "
            "refused for safety"
        ) from None
    except ET.ParseError as error:
        raise PfifError(f"the file is not well-formed XML: {error}") from None
    return root


def _pfif_version(root: ET.Element) -> tuple[str, str]:
    for version, namespace in PFIF_NAMESPACES.items():
        if root.tag == f"{{{namespace}}}pfif":
            return version, namespace
    raise PfifError(f"not a PFIF 1.2-1.4 file: the root element is {root.tag}")


def _check_counts(root: ET.Element, namespace: str, max_persons: int) -> None:
    """Refuse a file with too many records as a whole, rather than import a silently cut part."""
    persons = root.findall(f"{{{namespace}}}person")
    notes = len(root.findall(f"{{{namespace}}}note"))
    notes += sum(len(person.findall(f"{{{namespace}}}note")) for person in persons)
    if len(persons) > max_persons:
        raise PfifError(f"the file has more than {max_persons} persons")
    if notes > MAX_PFIF_NOTES:
        raise PfifError(f"the file has more than {MAX_PFIF_NOTES} notes")


def _local_name(tag: object, namespace: str) -> str | None:
    """The PFIF name of an element, `None` for comments and elements of other namespaces."""
    prefix = f"{{{namespace}}}"
    if isinstance(tag, str) and tag.startswith(prefix):
        return tag[len(prefix) :]
    return None


def _raw_text(element: ET.Element, namespace: str, name: str) -> str | None:
    """A field as written, for naming a record that could not be read."""
    text = element.findtext(f"{{{namespace}}}{name}", default="").strip()
    return text or None


def _fields(
    element: ET.Element, namespace: str, version: str, wanted: frozenset[str]
) -> dict[str, Any]:
    """The known fields of a record element, converted; a field given twice is an error
    rather than a guess at which one the source meant."""
    values: dict[str, Any] = {}
    for child in element:
        name = _local_name(child.tag, namespace)
        if name is not None and version != "1.4":
            name = _LEGACY_NAMES.get(name, name)
        if name not in wanted:
            continue
        if name in values:
            raise PfifError(f"{name} is given twice")
        values[name] = _field_value(name, child.text or "")
    return values


def _field_value(name: str, text: str) -> Any:
    if name in _TIME_FIELDS:
        return _read_time(name, text)
    if name in _LINE_FIELDS:
        return tuple(text.split("\n"))
    if name == "author_made_contact":
        return _read_bool(name, text)
    if name in ("sex", "status"):
        return text.strip().lower()
    return text


def _read_time(name: str, text: str) -> datetime.datetime | None:
    """A PFIF time; one without a zone is taken as UTC, which PFIF says all times are."""
    if not text.strip():
        return None
    try:
        value = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise PfifError(f"{name}: {text.strip()!r} is not a date and time") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)


def _read_bool(name: str, text: str) -> bool | None:
    words = {"true": True, "false": False, "": None}
    value = text.strip().lower()
    if value not in words:
        raise PfifError(f"{name}: {text.strip()!r} is not true or false")
    return words[value]


def _read_person(element: ET.Element, namespace: str, version: str) -> PfifPerson:
    values = _fields(element, namespace, version, _PERSON_FIELDS)
    record_id = values.pop("person_record_id", "").strip()
    _check_record_id("person_record_id", record_id or None)
    notes = tuple(
        _read_note(child, namespace, version, record_id)
        for child in element
        if _local_name(child.tag, namespace) == "note"
    )
    return PfifPerson(person_record_id=record_id, notes=notes, **values)


def _read_note(
    element: ET.Element, namespace: str, version: str, person_record_id: str | None
) -> PfifNote:
    """A note; one nested in a person may leave out its `person_record_id`."""
    values = _fields(element, namespace, version, _NOTE_FIELDS)
    record_id = values.pop("note_record_id", "")
    about = values.pop("person_record_id", None) or person_record_id or ""
    if person_record_id is not None and about.strip() != person_record_id:
        raise PfifError(f"note {record_id.strip()} is nested in a person it is not about")
    try:
        return PfifNote(note_record_id=record_id, person_record_id=about, **values)
    except PfifError as error:
        if person_record_id is None:
            raise
        raise PfifError(f"note {record_id.strip() or '(no id)'}: {error}") from None


def _attach(
    persons: dict[str, tuple[int, PfifPerson]], notes: list[tuple[int, PfifNote]]
) -> list[PfifProblem]:
    """Give each top-level note to its person; the notes that have none are problems."""
    problems = []
    for position, note in notes:
        if note.person_record_id not in persons:
            reason = f"its person {note.person_record_id} is not in the file (or was not read)"
            problems.append(PfifProblem(position, "note", note.note_record_id, reason))
            continue
        person_position, person = persons[note.person_record_id]
        try:
            person = dataclasses.replace(person, notes=(*person.notes, note))
        except PfifError as error:
            problems.append(PfifProblem(position, "note", note.note_record_id, str(error)))
            continue
        persons[note.person_record_id] = (person_position, person)
    return problems


def _without_spoilt(
    persons: dict[str, tuple[int, PfifPerson]], spoilt: dict[str, int]
) -> tuple[list[PfifPerson], list[PfifProblem]]:
    """The persons none of whose notes failed, and a problem for each of the others."""
    kept, refused = [], []
    for record_id, (position, person) in persons.items():
        if record_id in spoilt:
            reason = f"its note at position {spoilt[record_id]} could not be read"
            refused.append(PfifProblem(position, "person", record_id, reason))
        else:
            kept.append(person)
    return kept, refused


# Writing


def serialize_pfif(persons: Sequence[PfifPerson]) -> bytes:
    """A PFIF 1.4 file (UTF-8) of `persons`, each with its notes nested in it.

    Raises `PfifError` when two persons share a record id: PFIF readers would take one for
    an update of the other.
    """
    root = ET.Element(_tag("pfif"))
    seen: set[str] = set()
    for person in persons:
        if person.person_record_id in seen:
            raise PfifError(f"person_record_id {person.person_record_id} appears twice")
        seen.add(person.person_record_id)
        element = _write_fields(ET.SubElement(root, _tag("person")), person)
        for note in person.notes:
            _write_fields(ET.SubElement(element, _tag("note")), note)
    ET.indent(root)
    written: bytes = ET.tostring(
        root, encoding="utf-8", xml_declaration=True, default_namespace=PFIF_NAMESPACE
    )
    return written


def _tag(name: str) -> str:
    return f"{{{PFIF_NAMESPACE}}}{name}"


def _write_fields(element: ET.Element, record: PfifPerson | PfifNote) -> ET.Element:
    """Append the record's set fields in declaration order, which is PFIF 1.4 order."""
    for field in dataclasses.fields(record):
        text = _field_text(getattr(record, field.name))
        if field.name != "notes" and text:
            ET.SubElement(element, _tag(field.name)).text = text
    return element


def _field_text(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None).isoformat() + "Z"
    if isinstance(value, tuple):
        return "\n".join(str(item) for item in value)
    return None if value is None else str(value)


# Mapping to Kintrace

_STATUS_KINDS: Final[dict[str, RegistrationKind | None]] = {
    "believed_dead": RegistrationKind.DECEASED,
    "believed_alive": RegistrationKind.SAFE_AND_WELL,
    "is_note_author": RegistrationKind.SAFE_AND_WELL,
    "information_sought": None,
    "believed_missing": None,
}
_EPOCH: Final = datetime.datetime.min.replace(tzinfo=datetime.UTC)
# ISO 3166-1 alpha-2, officially assigned codes.
ISO_COUNTRY_CODES: Final = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
    """.split()
)


def latest_status_note(person: PfifPerson) -> PfifNote | None:
    """The person's most recent note that has a status (by source date, else entry date; a
    note without either counts as oldest, and ties go to the later note in the file): PFIF
    sites show the latest status as the person's current one."""
    dated = [
        (note.source_date or note.entry_date or _EPOCH, index, note)
        for index, note in enumerate(person.notes)
        if note.status is not None
    ]
    return max(dated, key=lambda item: item[:2])[2] if dated else None


def registration_kind(
    person: PfifPerson, default: RegistrationKind = RegistrationKind.FOUND
) -> RegistrationKind:
    """The registration kind the person's latest status says.

    `believed_dead` is `deceased`; `believed_alive` and `is_note_author` (the person wrote
    the note themselves) are `safe_and_well`. No status at all gives `default`, `found` as for
    CSV rows without a kind: someone recorded the person, nothing more is known.

    `believed_missing` and `information_sought` raise `PfifError`: they say someone is looking
    for the person, which in Kintrace is a sought person of a tracing request. No registration
    kind is close to it, and calling a missing person `found` could tell a family something
    untrue.
    """
    note = latest_status_note(person)
    if note is None or note.status is None:
        return default
    kind = _STATUS_KINDS[note.status]
    if kind is None:
        raise PfifError(
            f"person {person.person_record_id} is reported as {note.status}: record it as a "
            "sought person of a tracing request, not as a registration"
        )
    return kind


def to_registration(
    person: PfifPerson, *, default_kind: RegistrationKind = RegistrationKind.FOUND
) -> RegistrationCreate:
    """The registration body (`POST /v1/registrations`) of a PFIF person, validated.

    Names: `full_name` with `given_name`/`family_name` as its parts is the primary name; each
    alternate name is an alias. The birth date is `date_of_birth` as text; without one, an
    `age` becomes an age at `source_date` (else `entry_date`), a range its middle with the
    uncertainty that covers it. The home address is the last known place (the country as its
    code when it is an ISO 3166 one), else the location of the latest note that has one. The
    kind comes from the latest status (see `registration_kind`), the source from
    `source_name` (else the record's domain). Description, an age not used as the birth date,
    and the notes, newest first, are kept in `notes`, cut to the length the schema allows.
    Note authors, photos and profile links are not kept.

    Raises `PfifError` naming the fields when the result is not a valid registration.
    """
    body: dict[str, Any] = {
        "registration_kind": registration_kind(person, default_kind).value,
        "sex": person.sex or "unknown",
        "names": _names(person),
        "birth_date": _birth_date(person),
        "last_known_place": _home(person) or _note_location(person),
        "registration_source": person.source_name or person.person_record_id.split("/")[0],
        "notes": _notes_text(person, NOTES_MAX_LENGTH),
    }
    when = person.source_date or person.entry_date
    if when is not None:
        body["registration_date"] = when.date().isoformat()
    try:
        return RegistrationCreate.model_validate(
            {key: value for key, value in body.items() if value is not None}
        )
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in item["loc"]) for item in error.errors()})
        raise PfifError(
            f"person {person.person_record_id} is not a valid registration: "
            f"{', '.join(fields)} ({error.error_count()} errors)"
        ) from None


def _names(person: PfifPerson) -> list[dict[str, Any]]:
    names: list[dict[str, Any]] = []
    parts = {"given": person.given_name, "family": person.family_name}
    parts = {key: value for key, value in parts.items() if value}
    if person.full_name or parts:
        primary: dict[str, Any] = {"kind": NameKind.PRIMARY.value, "full_name": person.full_name}
        if parts:
            primary["parts"] = parts
        names.append(primary)
    seen = {person.full_name}
    for alias in person.alternate_names:
        if alias not in seen:
            seen.add(alias)
            names.append({"kind": NameKind.ALIAS.value, "full_name": alias})
    return names


def _birth_date(person: PfifPerson) -> dict[str, Any] | None:
    if person.date_of_birth is not None:
        return {"text": person.date_of_birth}
    reference = _age_reference(person)
    if person.age is None or reference is None:
        return None
    low, high = age_range(person.age)
    middle = (low + high) // 2
    date: dict[str, Any] = {"age": middle, "age_reference_date": reference.isoformat()}
    if high > low:
        date |= {"approximate": True, "uncertainty_years": high - middle}
    return date


def _age_reference(person: PfifPerson) -> datetime.date | None:
    """The day a PFIF age was true: PFIF gives ages as of `source_date`."""
    when = person.source_date or person.entry_date
    return when.date() if when is not None else None


def _home(person: PfifPerson) -> dict[str, Any] | None:
    parts = (
        person.home_street,
        person.home_neighborhood,
        person.home_city,
        person.home_state,
        person.home_postal_code,
        person.home_country,
    )
    text = ", ".join(part for part in parts if part)
    if not text:
        return None
    place: dict[str, Any] = {"text": text}
    country = (person.home_country or "").upper()
    if country in ISO_COUNTRY_CODES:
        place["country_code"] = country
    return place


def _note_location(person: PfifPerson) -> dict[str, Any] | None:
    located = [note for note in _newest_first(person.notes) if note.last_known_location]
    return {"text": located[0].last_known_location} if located else None


def _newest_first(notes: Sequence[PfifNote]) -> list[PfifNote]:
    order = sorted(
        enumerate(notes),
        key=lambda item: (item[1].source_date or item[1].entry_date or _EPOCH, item[0]),
        reverse=True,
    )
    return [note for _, note in order]


def _notes_text(person: PfifPerson, limit: int) -> str:
    """The record id first (where the registration came from survives any cut), then what
    no other field holds; the oldest notes are the ones cut when it is too long."""
    lines = [f"PFIF record {person.person_record_id}"]
    if person.description:
        lines.append(person.description)
    age_is_birth_date = person.date_of_birth is None and _age_reference(person) is not None
    if person.age is not None and not age_is_birth_date:
        lines.append(f"Age: {person.age}")
    lines += [_note_line(note) for note in _newest_first(person.notes)]
    text = "\n".join(lines)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _note_line(note: PfifNote) -> str:
    when = note.source_date or note.entry_date
    head = [when.date().isoformat() if when else "undated"]
    if note.status:
        head.append(note.status)
    if note.author_made_contact:
        head.append("author made contact")
    line = f"- {', '.join(head)}:"
    if note.text:
        line += f" {note.text}"
    if note.last_known_location:
        line += f" (last known location: {note.last_known_location})"
    return line


# Mapping from Kintrace

_PFIF_SEX: Final[dict[Sex, PfifSex | None]] = {
    Sex.FEMALE: "female",
    Sex.MALE: "male",
    Sex.OTHER: "other",
    Sex.UNKNOWN: None,
}
_KIND_STATUS: Final[dict[RegistrationKind, PfifStatus]] = {
    RegistrationKind.DECEASED: "believed_dead",
    RegistrationKind.SAFE_AND_WELL: "believed_alive",
    RegistrationKind.FOUND: "believed_alive",
    RegistrationKind.DETAINED: "believed_alive",
    RegistrationKind.HOSPITALISED: "believed_alive",
}


def person_to_pfif(domain: str, person: PersonPublic) -> PfifPerson:
    """A Kintrace person as a PFIF person, with one note carrying its status.

    Only the fields the view shows are used (a field withheld with `withholding` is left
    out): the primary name (its parts as given and family name) and the others as alternate
    names, sex, the birth date (exact dates as `date_of_birth`, uncertain ones as the age
    range they allow at `source_date`), and the last known place as the note's location.
    Contact, current place, notes, parents' names and tribe are never written.

    The note's status is `believed_dead` for a deceased registration and `believed_alive`
    for every other kind: that someone is detained or in hospital can endanger them and is
    not passed on. A sought person's status is `information_sought`.

    Raises `PfifError` for an enquirer (not the subject of a search), for a person whose
    tracing is stopped (consent withdrawn, asked not to be traced) and for a sensitive person:
    these are never exported, whatever the caller checked.
    """
    if person.role is PersonRole.ENQUIRER:
        raise PfifError("an enquirer is not exported as a PFIF person")
    if person.tracing_stopped is not None:
        raise PfifError(f"person {person.id}: tracing is stopped ({person.tracing_stopped})")
    if person.sensitive:
        raise PfifError(f"person {person.id} is sensitive and is not exported")
    shown = person.model_dump().keys()
    record_id = f"{domain}/{person.id}"
    source_date = _as_utc(
        datetime.datetime.combine(person.registration_date, datetime.time())
        if person.registration_date is not None and "registration_date" in shown
        else person.created_at
    )
    primary, others = _split_names(person.names if "names" in shown else [])
    birth = person.birth_date if "birth_date" in shown else None
    date_of_birth, age = _pfif_birth(birth, source_date.date())
    return PfifPerson(
        person_record_id=record_id,
        entry_date=_as_utc(person.updated_at),
        source_name=person.registration_source if "registration_source" in shown else None,
        source_date=source_date,
        full_name=_written_name(primary) if primary else None,
        given_name=primary.parts.given if primary else None,
        family_name=primary.parts.family if primary else None,
        alternate_names=tuple(_single_line(_written_name(name)) for name in others),
        sex=_PFIF_SEX[person.sex],
        date_of_birth=date_of_birth,
        age=age,
        notes=_status_note(domain, person, record_id, shown),
    )


def _as_utc(value: datetime.datetime) -> datetime.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)


def _split_names(names: Sequence[NamePublic]) -> tuple[NamePublic | None, list[NamePublic]]:
    """The primary name (the first of kind primary, else the first) and the others."""
    if not names:
        return None, []
    primary = next((name for name in names if name.kind is NameKind.PRIMARY), names[0])
    return primary, [name for name in names if name is not primary]


def _written_name(name: NamePublic) -> str:
    if name.full_name:
        return name.full_name
    parts = name.parts
    return " ".join(p for p in (parts.given, parts.father, parts.grandfather, parts.family) if p)


def _single_line(text: str) -> str:
    return " ".join(text.split())


def _pfif_birth(
    birth: FuzzyDatePublic | None, reference: datetime.date
) -> tuple[str | None, str | None]:
    """`(date_of_birth, age)`: an exact gregorian reading is the date of birth; an uncertain
    one (`ca. 1985`, a hijri year, an age) is the age range it allows at `reference`, since
    PFIF has no approximate dates."""
    if birth is None:
        return None, None
    gregorian = birth.gregorian
    if not gregorian.approximate and gregorian.year is not None:
        text = f"{gregorian.year:04d}"
        if gregorian.month is not None:
            text += f"-{gregorian.month:02d}"
            if gregorian.day is not None:
                text += f"-{gregorian.day:02d}"
        return text, None
    if gregorian.earliest is None or gregorian.latest is None or gregorian.latest > reference:
        return None, None
    youngest, oldest = _age_at(gregorian.latest, reference), _age_at(gregorian.earliest, reference)
    return None, str(oldest) if youngest == oldest else f"{youngest}-{oldest}"


def _age_at(born: datetime.date, day: datetime.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _status_note(
    domain: str, person: PersonPublic, record_id: str, shown: Iterable[str]
) -> tuple[PfifNote, ...]:
    """One note with the person's status; its id changes with the person's version, because
    PFIF notes are never updated, only added."""
    status: PfifStatus | None = None
    if person.role is PersonRole.SOUGHT_PERSON:
        status = "information_sought"
    elif person.registration_kind is not None and "registration_kind" in shown:
        status = _KIND_STATUS[person.registration_kind]
    place = person.last_known_place if "last_known_place" in shown else None
    location = None
    if place is not None:
        location = place.text
        if place.country_code and place.country_code not in place.text:
            location += f" ({place.country_code})"
    if status is None and location is None:
        return ()
    return (
        PfifNote(
            note_record_id=f"{domain}/note.{person.id}.{person.version}",
            person_record_id=record_id,
            entry_date=_as_utc(person.updated_at),
            source_date=_as_utc(person.updated_at),
            status=status,
            last_known_location=location,
        ),
    )
