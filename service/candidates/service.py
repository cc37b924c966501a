"""Keeping blocking keys current, and matching one person against those it may be matched with.

What is matched with what:

    sought person  -> registrations, enquirers of other requests, sought persons of others
    registration   -> sought persons, other registrations (duplicates)
    enquirer       -> sought persons of other requests (A seeks B while B seeks A)

Persons of the same tracing request are never candidates of each other.

Across societies, only under a sharing grant: the recipient's worker matches its own persons
against the persons other societies share with it (their keys, probed with the sharing
society's HMAC key), and each shared person, when created or changed, against its own persons
(the sharing society queues it in the recipient's match queue). Row-level security admits only
the persons a grant in force covers, never a sensitive, stopped or archived one; a sensitive
person of the recipient is never matched across either. The link is the recipient's, with the
sharing society as its partner.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from matching import Matcher, PersonRecord, PreparedRecord
from schemas.enums import PersonRole, RegistrationKind
from service.candidates import keys, repository
from service.candidates.records import granted_record, matching_record
from service.db.models import SharingGrant
from service.persons import repository as persons
from service.persons.records import PersonRecord as StoredPerson
from service.sharing import repository as sharing
from service.sharing.rules import covers

# Keys shared by more persons than this are too common to tell anyone apart and are skipped
# (each costs reading this many postings, so it bounds the lookup too).
MAX_POSTINGS = 1000
# Candidates scored per probe, most shared keys first: on the hard queries of
# benchmarks/candidate_latency.py the true counterpart ranks within the first 25 for 99.3% of
# them and within 50 for 99.7% (20,000 persons); each one scored costs about half a millisecond.
MAX_CANDIDATES = 50
# A seeks B while B seeks A: two independent accounts that corroborate each other. Added to the
# pair's match weight (64 times the odds), it lifts a plausible pair well above the threshold
# without letting an implausible one through on its own.
RECIPROCAL_BITS = 6.0
# Other members of the two requests who match each other (the sought father in both, say):
# each such pair, one-to-one, adds this much evidence, counted for at most a few pairs.
FAMILY_BITS = 2.0
FAMILY_PAIRS_COUNTED = 3

SEARCHED_ROLES: dict[str, tuple[str, ...]] = {
    PersonRole.SOUGHT_PERSON: (
        PersonRole.REGISTRATION,
        PersonRole.ENQUIRER,
        PersonRole.SOUGHT_PERSON,
    ),
    PersonRole.REGISTRATION: (PersonRole.SOUGHT_PERSON, PersonRole.REGISTRATION),
    PersonRole.ENQUIRER: (PersonRole.SOUGHT_PERSON,),
}

_KINDS: dict[frozenset[str], str] = {
    frozenset({PersonRole.SOUGHT_PERSON, PersonRole.REGISTRATION}): "sought_registration",
    frozenset({PersonRole.SOUGHT_PERSON, PersonRole.ENQUIRER}): "sought_enquirer",
    frozenset({PersonRole.SOUGHT_PERSON}): "same_sought_person",
    frozenset({PersonRole.REGISTRATION}): "duplicate_registration",
}


def link_kind(left_role: str, right_role: str) -> str | None:
    """What a link between persons of these roles means (None: not a pairing we propose)."""
    return _KINDS.get(frozenset({left_role, right_role}))


def fingerprint(left: PersonRecord, right: PersonRecord) -> str:
    """Digest of the compared fields of both sides: a decided pair is reconsidered only when
    this changes."""
    sides = sorted(
        json.dumps(asdict(record) | {"id": ""}, sort_keys=True, default=str)
        for record in (left, right)
    )
    return hashlib.sha256("\n".join(sides).encode()).hexdigest()


async def index_persons(
    session: AsyncSession, people: Sequence[StoredPerson], *, new: bool = False
) -> None:
    """Refresh persons' blocking keys and queue them for matching (same transaction).

    A closed person, or one whose tracing stopped (consent withdrawn, do not trace), keeps no
    keys: it is no longer a candidate for anyone. `new` persons have no keys yet, so there are
    none to forget.
    """
    if not people:
        return
    secret = keys.secret_of(session)
    if not new:
        await repository.delete_keys(session, [person.id for person in people])
    active = [person for person in people if person.traceable]
    await repository.insert_keys(
        session,
        [
            repository.KeyPosting(person.society_id, digest, kind, person.role, person.id)
            for person in active
            for digest, kind in keys.digests(secret, matching_record(person))
        ],
    )
    for society_id in {person.society_id for person in active}:
        own = [p for p in active if p.society_id == society_id]
        await repository.enqueue_many(session, society_id, [p.id for p in own])
        await _queue_for_recipients(session, society_id, own)


async def _queue_for_recipients(
    session: AsyncSession, society_id: uuid.UUID, people: Sequence[StoredPerson]
) -> None:
    """Queue shared persons, new or changed, in the match queue of each society a grant in
    force shares them with; a sensitive person is never matched across societies (its open
    cross-society links are withdrawn)."""
    sensitive = [person.id for person in people if person.personal.sensitive]
    await repository.withdraw_cross_links_of(session, sensitive)
    shared = [person for person in people if not person.personal.sensitive]
    if not shared:
        return
    for grant in await sharing.active_grants_from(session, society_id):
        covered = [person.id for person in shared if covers(grant, person)]
        await repository.enqueue_many(session, grant.recipient_society_id, covered)


async def index_person(session: AsyncSession, person: StoredPerson) -> None:
    """Refresh one person's blocking keys and queue it for matching (same transaction)."""
    await index_persons(session, [person])


def possibly_minor(person: StoredPerson, minor_age: int, today: datetime.date) -> bool:
    """Whether any plausible reading of the person's birth date makes them younger than
    `minor_age` today (a person with no birth date is not flagged)."""
    document = person.personal.birth_date or {}
    latest = (document.get("gregorian") or {}).get("latest")
    if not latest:
        return False
    born = datetime.date.fromisoformat(latest)
    try:
        comes_of_age = born.replace(year=born.year + minor_age)
    except ValueError:  # 29 February
        comes_of_age = born.replace(year=born.year + minor_age, day=28)
    return comes_of_age > today


def reviews_required(
    left: StoredPerson, right: StoredPerson, minor_age: int, today: datetime.date
) -> int:
    """Two different reviewers must confirm a pair involving a possible minor, a person flagged
    sensitive or a deceased registration; one suffices otherwise."""
    for person in (left, right):
        deceased = person.registration_kind == RegistrationKind.DECEASED
        if deceased or person.personal.sensitive or possibly_minor(person, minor_age, today):
            return 2
    return 1


@dataclass(frozen=True, slots=True)
class Scored:
    """One candidate the probe was compared with."""

    person_id: uuid.UUID
    probability: float
    proposed: bool


# What matching may compare of a person (None: nothing, see `_compared`).
RecordOf = Callable[[StoredPerson], PersonRecord | None]


@dataclass(frozen=True, slots=True)
class Pool:
    """Where a probe looks for candidates: one society's keys, probed with its HMAC key."""

    society_id: uuid.UUID
    probe: list[tuple[bytes, int, bool]]


def _compared(
    person: StoredPerson, society_id: uuid.UUID, grants: Sequence[SharingGrant]
) -> PersonRecord | None:
    """What matching compares of a person: all of the society's own; of a shared person only
    the fields the grants covering it share (None without its names)."""
    record = matching_record(person)
    if person.society_id == society_id:
        return record
    fields = {field for grant in grants if covers(grant, person) for field in grant.fields}
    return granted_record(record, fields)


def probe_for(record: PersonRecord, grants: Sequence[SharingGrant]) -> PersonRecord | None:
    """The probe as it looks up one sharing society's keys: with only the fields every grant of
    that society shares, so that what it does not share (a birth year, a father's name) does
    not decide which of its persons are found (their keys pair names with birth years)."""
    fields = set.intersection(*(set(grant.fields) for grant in grants)) if grants else set()
    return granted_record(record, fields)


def _matchable(probe: StoredPerson, other: StoredPerson) -> bool:
    """Whether a pair may be proposed at all: different tracing requests, both traced, and
    never a sensitive person across societies."""
    same_request = (
        probe.tracing_request_id is not None
        and probe.tracing_request_id == other.tracing_request_id
    )
    across = probe.society_id != other.society_id
    sensitive = probe.personal.sensitive or other.personal.sensitive
    return not same_request and other.traceable and not (across and sensitive)


async def _candidates(
    session: AsyncSession, society_id: uuid.UUID, probe: StoredPerson, prepared: PreparedRecord
) -> tuple[list[StoredPerson], list[SharingGrant]]:
    """The persons sharing keys with the probe (`prepared`: its record as the matcher analysed
    it): the society's own, and, for its own probe (not sensitive), those of every society
    sharing with it (their keys probed with that society's HMAC key); a shared probe is looked
    up among the society's own only. With the grants read."""
    record = prepared.record
    pools = [Pool(society_id, keys.lookup_digests(keys.secret_of(session), prepared))]
    grants: list[SharingGrant] = []
    if probe.society_id == society_id and not probe.personal.sensitive:
        grants = await sharing.read_granted(session, society_id)
        for owner in sorted({grant.society_id for grant in grants}):
            probing = probe_for(record, [grant for grant in grants if grant.society_id == owner])
            if probing is not None:
                secret = keys.secret_for(session, owner)
                pools.append(Pool(owner, keys.lookup_digests(secret, probing)))
    found: list[StoredPerson] = []
    for pool in pools:
        candidates = await find_candidates(
            session,
            society_id=society_id,
            pool=pool,
            person_id=probe.id,
            roles=SEARCHED_ROLES.get(probe.role, ()),
            limit=MAX_CANDIDATES,
        )
        found += await persons.get_persons(
            session, pool.society_id, [c.person_id for c in candidates]
        )
    return found, grants


# Keys this process's lookups found too common (matching jobs and searches alike).
COMMON_KEYS = keys.CommonKeys()


async def find_candidates(
    session: AsyncSession,
    *,
    society_id: uuid.UUID,
    pool: Pool,
    person_id: uuid.UUID,
    roles: Sequence[str],
    limit: int,
) -> list[repository.Candidate]:
    """The probe's candidates among one pool's keys, best first, read by `society_id`. Keys this
    process already found over the cap are left out (`keys.CommonKeys`: they would rank
    nobody), and those this lookup finds are remembered."""
    scope = (society_id, pool.society_id, tuple(sorted(roles)), MAX_POSTINGS)
    now = time.monotonic()
    common = COMMON_KEYS.known(scope, (digest for digest, _, _ in pool.probe), now)
    lookup = await repository.candidates(
        session,
        society_id=pool.society_id,
        person_id=person_id,
        probe=[key for key in pool.probe if key[0] not in common],
        roles=roles,
        max_postings=MAX_POSTINGS,
        limit=limit,
    )
    COMMON_KEYS.remember(scope, lookup.common, now)
    return lookup.candidates


async def _probe(
    session: AsyncSession, society_id: uuid.UUID, person_id: uuid.UUID
) -> tuple[StoredPerson | None, list[SharingGrant]]:
    """The person a match job names: the society's own, or one another society shares with it
    (shared reading is then on for the rest of the transaction, and the grants are returned)."""
    found = await persons.get_persons(session, society_id, [person_id])
    if found:
        return found[0], []
    grants = await sharing.read_granted(session, society_id)
    row = await sharing.shared_person(session, society_id, person_id) if grants else None
    if row is None:
        return None, grants
    shared = await persons.get_persons(session, row.society_id, [person_id])
    return (shared[0] if shared else None), grants


async def match_person(
    session: AsyncSession,
    society_id: uuid.UUID,
    person_id: uuid.UUID,
    matcher: Matcher,
    threshold: float,
    minor_age: int = 18,
) -> list[Scored]:
    """Score a person against its candidates and store the links at or above `threshold`.

    Returns every candidate compared, most probable first (`proposed`: a link was proposed or
    refreshed). Decided links are left as decided.
    """
    probe, grants = await _probe(session, society_id, person_id)
    if probe is None or not probe.traceable:
        return []
    compared = _compared(probe, society_id, grants)
    if compared is None:
        return []
    probe_record = matcher.prepare(compared)
    others, more_grants = await _candidates(session, society_id, probe, probe_record)
    grants = grants or more_grants

    def record_of(person: StoredPerson) -> PersonRecord | None:
        return _compared(person, society_id, grants)

    today = datetime.date.today()
    scored: list[Scored] = []
    below: list[tuple[uuid.UUID, uuid.UUID]] = []
    links: list[dict[str, Any]] = []
    for other in others:
        kind = link_kind(probe.role, other.role)
        other_record = record_of(other)
        if kind is None or other_record is None or not _matchable(probe, other):
            continue
        comparison = matcher.compare(probe_record, other_record)
        weight, probability = comparison.match_weight, comparison.probability
        members: list[StoredPerson] | None = None  # both requests' persons, read once
        mirror = None
        if kind == "sought_enquirer":
            members = await _request_members(session, probe, other)
            mirror = _reciprocal(probe, other, members, matcher, threshold, record_of)
            if mirror is not None:
                kind = "reciprocal"
                weight += RECIPROCAL_BITS
                probability = matcher.probability(weight)
        family = None
        if matcher.probability(weight + FAMILY_BITS * FAMILY_PAIRS_COUNTED) >= threshold:
            if members is None:
                members = await _request_members(session, probe, other)
            family = _family(probe, other, members, matcher, threshold, mirror, record_of)
            if family is not None:
                weight += family["bits"]
                probability = matcher.probability(weight)
        left, right = sorted((probe.id, other.id))
        scored.append(Scored(other.id, probability, probability >= threshold))
        if probability < threshold:
            below.append((left, right))
            continue
        explanation = comparison.explanation()  # only for links: it costs more than the score
        if mirror is not None:
            explanation["reciprocal"] = mirror | {"bits": RECIPROCAL_BITS}
        if family is not None:
            explanation["family"] = family
        partner = next((p.society_id for p in (probe, other) if p.society_id != society_id), None)
        if partner is not None:
            explanation = _oriented(explanation, flipped=probe.id != left)
        values = _link_values(
            society_id,
            left,
            right,
            kind,
            probability,
            weight,
            explanation,
            comparison.model_version,
            fingerprint(probe_record.record, other_record),
        )
        values["reviews_required"] = reviews_required(probe, other, minor_age, today)
        values["partner_society_id"] = partner
        links.append(values)
    if links:
        paired = {v[side] for v in links for side in ("left_person_id", "right_person_id")}
        traced = await repository.lock_traceable(session, sorted(paired))
        crossing = [
            (v["left_person_id"], v["right_person_id"]) for v in links if v["partner_society_id"]
        ]
        elsewhere = await repository.pairs_held_elsewhere(session, society_id, crossing)
        await repository.save_links(
            session,
            [
                values
                for values in links
                if {values["left_person_id"], values["right_person_id"]} <= traced
                and (values["left_person_id"], values["right_person_id"]) not in elsewhere
            ],
        )
    await repository.withdraw_links(session, below)
    return sorted(scored, key=lambda candidate: -candidate.probability)


def _oriented(explanation: dict[str, Any], *, flipped: bool) -> dict[str, Any]:
    """The explanation with every aligned name part as [left person's, right person's] (the
    engine writes [probe's, candidate's]), so that either side's own tokens can be told apart
    and the other society's withheld."""
    if not flipped:
        return explanation | {"oriented": True}
    fields = {}
    for name, entry in explanation["fields"].items():
        if "parts" in entry:
            entry = entry | {"parts": [[b, a, *rest] for a, b, *rest in entry["parts"]]}
        fields[name] = entry
    return explanation | {"fields": fields, "oriented": True}


async def _request_members(
    session: AsyncSession, one: StoredPerson, another: StoredPerson
) -> list[StoredPerson]:
    """The active persons of both persons' tracing requests (none unless both have one), each
    read in its own society (a shared request's persons are those the grant lets through)."""
    if one.tracing_request_id is None or another.tracing_request_id is None:
        return []
    requests: dict[uuid.UUID, list[uuid.UUID]] = {}
    for person in (one, another):
        assert person.tracing_request_id is not None
        requests.setdefault(person.society_id, []).append(person.tracing_request_id)
    people = [
        person
        for society_id, ids in requests.items()
        for person in await persons.list_for_requests(session, society_id, ids)
    ]
    return [person for person in people if person.traceable]


def _reciprocal(
    one: StoredPerson,
    another: StoredPerson,
    members: list[StoredPerson],
    matcher: Matcher,
    threshold: float,
    record_of: RecordOf,
) -> dict[str, Any] | None:
    """If the pair is a sought person and another request's enquirer, whether the mirror pair
    holds too: the sought person's own enquirer is sought in the other request (`members`:
    the active persons of both requests)."""
    sought, enquirer = (one, another) if one.role == PersonRole.SOUGHT_PERSON else (another, one)
    seekers = [
        p
        for p in members
        if p.tracing_request_id == sought.tracing_request_id and p.role == PersonRole.ENQUIRER
    ]
    sought_back = [
        p
        for p in members
        if p.tracing_request_id == enquirer.tracing_request_id
        and p.role == PersonRole.SOUGHT_PERSON
    ]
    best: dict[str, Any] | None = None
    for seeker in seekers:
        for candidate in sought_back:
            pair = (record_of(seeker), record_of(candidate))
            if pair[0] is None or pair[1] is None:
                continue
            comparison = matcher.compare(pair[0], pair[1])
            if comparison.probability >= threshold and (
                best is None or comparison.probability > best["probability"]
            ):
                best = {
                    "enquirer_id": str(seeker.id),
                    "sought_person_id": str(candidate.id),
                    "probability": round(comparison.probability, 4),
                }
    return best


def _family(
    probe: StoredPerson,
    other: StoredPerson,
    members: list[StoredPerson],
    matcher: Matcher,
    threshold: float,
    mirror: dict[str, Any] | None,
    record_of: RecordOf,
) -> dict[str, Any] | None:
    """When both persons belong to tracing requests, the other members of the two requests
    (`members`: their active persons) who match each other (one-to-one, most probable first):
    the family agreeing as a group. The reciprocal pair, already counted, is left out."""
    mine = [p for p in members if p.tracing_request_id == probe.tracing_request_id]
    theirs = [p for p in members if p.tracing_request_id == other.tracing_request_id]
    already = {probe.id, other.id}  # the pair itself, and the reciprocal pair if counted
    if mirror is not None:
        already |= {uuid.UUID(mirror[k]) for k in ("enquirer_id", "sought_person_id")}
    agreeing = []
    for one in mine:
        for another in theirs:
            if {one.id, another.id} & already:
                continue
            records = (record_of(one), record_of(another))
            if records[0] is None or records[1] is None:
                continue
            score = matcher.compare(records[0], records[1]).probability
            if score >= threshold:
                agreeing.append((score, one.id, another.id))
    chosen: list[tuple[float, uuid.UUID, uuid.UUID]] = []
    for score, one_id, another_id in sorted(agreeing, reverse=True):
        if all(one_id != c[1] and another_id != c[2] for c in chosen):
            chosen.append((score, one_id, another_id))
    chosen = chosen[:FAMILY_PAIRS_COUNTED]
    if not chosen:
        return None
    return {
        "pairs": [
            {"left_person_id": str(a), "right_person_id": str(b), "probability": round(p, 4)}
            for p, a, b in chosen
        ],
        "bits": FAMILY_BITS * len(chosen),
    }


def _link_values(
    society_id: uuid.UUID,
    left: uuid.UUID,
    right: uuid.UUID,
    kind: str,
    probability: float,
    weight: float,
    explanation: dict[str, Any],
    model_version: str,
    digest: str,
) -> dict[str, Any]:
    return {
        "society_id": society_id,
        "left_person_id": left,
        "right_person_id": right,
        "kind": kind,
        "probability": min(1.0, max(0.0, probability)),
        "match_weight": weight,
        "explanation": explanation,
        "model_version": model_version,
        "fingerprint": digest,
    }
