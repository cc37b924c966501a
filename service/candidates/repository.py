"""Queries on blocking keys, match jobs and candidate links (in a society-confined session).

Candidate generation is an index lookup on `person_key` (primary key: society, digest, role,
person): for each key of the probe, at most `max_postings` + 1 postings are read, keys with more
are dropped as too common, and persons are ranked by the pieces of the probe's evidence they
meet (`matching.lookup_plan`), each counted once at its rarest key. Matching across
societies under a sharing grant will widen `society_id = :society` to a list, nothing more.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import all_, case, delete, func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import (
    CandidateDecision,
    CandidateLink,
    LinkEvent,
    MatchJob,
    ModelCalibration,
    Person,
    PersonKey,
)
from service.db.rows import detached
from service.persons import crypto


@dataclass(frozen=True, slots=True)
class KeyPosting:
    """One blocking key of one person, as the keys table stores it."""

    society_id: uuid.UUID
    digest: bytes
    kind: str
    person_role: str
    person_id: uuid.UUID


_INSERT_KEYS = text(
    """
    INSERT INTO person_key (society_id, key_digest, person_role, person_id, kind)
    SELECT * FROM unnest(CAST(:society AS uuid[]), CAST(:digest AS bytea[]),
                         CAST(:role AS text[]), CAST(:person AS uuid[]), CAST(:kind AS text[]))
    """
)


async def insert_keys(session: AsyncSession, postings: Sequence[KeyPosting]) -> None:
    """Store blocking keys: one statement with array parameters, however many persons."""
    if not postings:
        return
    await session.exec(  # type: ignore[call-overload]
        _INSERT_KEYS.bindparams(
            society=[posting.society_id for posting in postings],
            digest=[posting.digest for posting in postings],
            role=[posting.person_role for posting in postings],
            person=[posting.person_id for posting in postings],
            kind=[posting.kind for posting in postings],
        )
    )


async def delete_keys(session: AsyncSession, person_ids: Sequence[uuid.UUID]) -> None:
    """Forget persons' keys (before storing new ones; a closed person is no candidate)."""
    await session.exec(delete(PersonKey).where(col(PersonKey.person_id).in_(person_ids)))


_CANDIDATES = text(
    """
    WITH probe AS (
      SELECT * FROM unnest(CAST(:digests AS bytea[]), CAST(:slots AS int[]),
                           CAST(:seeds AS boolean[])) AS p(key_digest, slot, seeds)
    ),
    keyed AS MATERIALIZED (
      SELECT p.key_digest, p.slot, p.seeds, k.people, cardinality(k.people) AS postings,
             ln(CAST(:cap AS float8) / cardinality(k.people)) AS weight
      FROM probe p
      CROSS JOIN LATERAL (
        SELECT array_agg(person_id) AS people FROM (
          SELECT person_id FROM person_key
          WHERE society_id = :society AND key_digest = p.key_digest
            AND person_role = ANY(CAST(:roles AS text[]))
          LIMIT :cap
        ) AS posting
      ) k
      WHERE k.people IS NOT NULL
    ),
    met AS (
      SELECT person_id, slot, max(weight) AS weight, bool_or(seeds) AS seeded
      FROM keyed CROSS JOIN LATERAL unnest(people) AS person_id
      WHERE postings < :cap AND person_id <> :person
      GROUP BY person_id, slot
    ),
    ranked AS (
      SELECT person_id, round(CAST(sum(weight) AS numeric), 9) AS rank
      FROM met
      GROUP BY person_id
      HAVING bool_or(seeded)
      ORDER BY rank DESC, person_id
      LIMIT :limit
    )
    SELECT person_id, rank, NULL AS common FROM ranked
    UNION ALL
    SELECT NULL, NULL, key_digest FROM keyed WHERE postings >= :cap
    """
)
"""Each key's postings are read once, into one array per key (its length is the key's
postings count, its weight computed once), so that no sort of every posting is needed to
count them; the arrays are unnested only for the keys under the cap, and the two groupings
are hash aggregates over the persons met. The rank is rounded so that ties (candidates
meeting the same pieces at the same weights) are broken by person id, whatever the order
the weights were summed in. The keys found over the cap are returned too (`common`), so
that a caller can leave them out of later lookups (`service.candidates.keys.CommonKeys`)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A person sharing keys with the probe, and its rank: the pieces of the probe's evidence
    it meets, each at its rarest key (`matching.rank_weight`, computed here in SQL)."""

    person_id: uuid.UUID
    rank: float


@dataclass(frozen=True, slots=True)
class Lookup:
    """The candidates of a probe, best ranked first, and the digests of its keys found shared
    by more persons than the cap (they ranked nobody)."""

    candidates: list[Candidate]
    common: list[bytes]


async def candidates(
    session: AsyncSession,
    *,
    society_id: uuid.UUID,
    person_id: uuid.UUID,
    probe: Sequence[tuple[bytes, int, bool]],
    roles: Sequence[str],
    max_postings: int,
    limit: int,
) -> Lookup:
    """Persons of `roles` sharing a seeding key with the probe (`(digest, slot, seeds)` of
    each key of its `lookup_plan`), best ranked first. Whether a key seeds candidates comes
    from the probe's side, so the lookup reads only the primary-key index (an index-only scan
    once the table is vacuumed), never the table."""
    if not probe:
        return Lookup([], [])
    result = await session.exec(  # type: ignore[call-overload]
        _CANDIDATES.bindparams(
            digests=[digest for digest, _, _ in probe],
            slots=[slot for _, slot, _ in probe],
            seeds=[seeds for _, _, seeds in probe],
            society=society_id,
            roles=list(roles),
            cap=max_postings + 1,
            person=person_id,
            limit=limit,
        )
    )
    found, common = [], []
    for row in result:
        if row.common is None:
            found.append(Candidate(row.person_id, float(row.rank)))
        else:
            common.append(bytes(row.common))
    found.sort(key=lambda candidate: (-candidate.rank, candidate.person_id))
    return Lookup(found, common)


async def lease_jobs(
    session: AsyncSession, *, limit: int, lease: datetime.timedelta, max_attempts: int
) -> list[MatchJob]:
    """Take up to `limit` available jobs of the session's society for `lease`.

    `SKIP LOCKED` lets workers share the queue without waiting on each other; the lease (not a
    held lock) marks a job as taken, so a worker that dies leaves it to be taken again. The
    jobs are chosen once, in a materialised CTE, then leased (`id IN (subquery)` would leave
    the planner free to evaluate the `LIMIT` subquery more than once).
    """
    result = await session.exec(  # type: ignore[call-overload]
        text(
            """
            WITH taken AS MATERIALIZED (
              SELECT id FROM match_job
              WHERE finished_at IS NULL AND available_at <= clock_timestamp()
                AND (leased_until IS NULL OR leased_until < clock_timestamp())
                AND attempts < :max_attempts
              ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED
            )
            UPDATE match_job AS job
            SET attempts = job.attempts + 1, leased_until = clock_timestamp() + :lease
            FROM taken WHERE job.id = taken.id
            RETURNING job.id, job.society_id, job.person_id, job.attempts
            """
        ).bindparams(lease=lease, limit=limit, max_attempts=max_attempts)
    )
    return [
        MatchJob(
            id=row.id, society_id=row.society_id, person_id=row.person_id, attempts=row.attempts
        )
        for row in result
    ]


async def finish_job(session: AsyncSession, job_id: int) -> None:
    """The job is done (kept briefly for the record; purged later)."""
    await session.exec(
        update(MatchJob)
        .where(col(MatchJob.id) == job_id)
        .values(finished_at=func.clock_timestamp())
    )


async def purge_finished_jobs(session: AsyncSession, older_than: datetime.timedelta) -> int:
    """Forget jobs finished longer ago than `older_than` (the session's society); how many."""
    result = await session.exec(
        delete(MatchJob).where(
            col(MatchJob.finished_at).is_not(None),
            col(MatchJob.finished_at) < func.clock_timestamp() - older_than,
        )
    )
    return int(result.rowcount or 0)


async def fail_job(
    session: AsyncSession, job_id: int, error: str, retry_in: datetime.timedelta
) -> None:
    """Record a failure and make the job available again later."""
    await session.exec(
        update(MatchJob)
        .where(col(MatchJob.id) == job_id)
        .values(
            last_error=error[:2000],
            leased_until=None,
            available_at=func.clock_timestamp() + retry_in,
        )
    )


async def pending_jobs(session: AsyncSession) -> int:
    """Jobs of the session's society not yet finished."""
    statement = (
        select(func.count()).select_from(MatchJob).where(col(MatchJob.finished_at).is_(None))
    )
    return int((await session.exec(statement)).one())


async def link_for_pair(
    session: AsyncSession, left: uuid.UUID, right: uuid.UUID
) -> CandidateLink | None:
    """The stored link of an ordered pair, if any."""
    statement = select(CandidateLink).where(
        CandidateLink.left_person_id == left, CandidateLink.right_person_id == right
    )
    return (await session.exec(statement)).first()


async def save_links(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert proposed links, or refresh stored ones with the new score (one statement for
    all of a probe's links, which must be distinct pairs).

    A proposed link is refreshed; a rejected one is proposed again only when a compared field
    of either person changed (another fingerprint); a withdrawn one (a person's tracing had
    stopped) is proposed again; a confirmed one is left alone.
    """
    if not rows:
        return
    statement = insert(CandidateLink).values(list(rows))
    refreshed = {
        name: statement.excluded[name]
        for name in (
            "kind",
            "probability",
            "match_weight",
            "explanation",
            "model_version",
            "fingerprint",
            "reviews_required",
            "partner_society_id",
        )
    }
    stored = CandidateLink.__table__.c  # type: ignore[attr-defined]
    reconsidered = (stored.status == "rejected") & (
        stored.fingerprint != statement.excluded.fingerprint
    )
    unchanged = (stored.status == "proposed") & (
        stored.fingerprint == statement.excluded.fingerprint
    )
    statement = statement.on_conflict_do_update(
        index_elements=["society_id", "left_person_id", "right_person_id"],
        set_={
            **refreshed,
            # A side's confirmation holds for the fields its reviewers saw.
            "confirmed_by": case((unchanged, stored.confirmed_by), else_=text("'{}'")),
            "status": "proposed",
            "decided_at": None,
            "updated_at": func.now(),
            "version": stored.version + 1,
        },
        where=(stored.status == "proposed") | (stored.status == "withdrawn") | reconsidered,
    )
    await session.exec(statement)


async def withdraw_links(
    session: AsyncSession, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> None:
    """Drop still-proposed links whose pairs no longer score above the threshold (one
    statement for all of a probe's candidates)."""
    if not pairs:
        return
    await session.exec(  # type: ignore[call-overload]
        text(
            """
            DELETE FROM candidate_link
            WHERE status = 'proposed' AND (left_person_id, right_person_id) IN (
              SELECT * FROM unnest(CAST(:lefts AS uuid[]), CAST(:rights AS uuid[])))
            """
        ).bindparams(lefts=[left for left, _ in pairs], rights=[right for _, right in pairs])
    )


async def enqueue_granted(session: AsyncSession, grant_id: uuid.UUID) -> int:
    """Queue, in the recipient's match queue, every person a new grant of the session's society
    covers (they are then matched against the recipient's persons); how many."""
    result = await session.exec(  # type: ignore[call-overload]
        text(
            """
            INSERT INTO match_job (society_id, person_id)
            SELECT g.recipient_society_id, p.id
            FROM sharing_grant g JOIN person p ON p.society_id = g.society_id
            WHERE g.id = :grant AND p.status = 'active' AND p.tracing_stopped IS NULL
              AND p.archived_at IS NULL AND NOT p.sensitive
              AND kintrace_grant_covers(
                g.record_kinds, g.tracing_request_ids, p.role, p.tracing_request_id)
            ON CONFLICT DO NOTHING
            """
        ).bindparams(grant=grant_id)
    )
    return int(result.rowcount or 0)


async def withdraw_partner_links(
    session: AsyncSession, recipient_id: uuid.UUID, owner_id: uuid.UUID
) -> list[uuid.UUID]:
    """Withdraw the still-proposed links the recipient holds on the owner's shared persons that
    no grant in force covers any more (a grant was revoked). Decided links stay as decided."""
    return await _withdraw(
        session,
        """
              l.society_id = :recipient AND l.partner_society_id = :owner
              AND NOT EXISTS (
                SELECT 1 FROM person p JOIN sharing_grant g ON g.society_id = p.society_id
                WHERE p.id IN (l.left_person_id, l.right_person_id) AND p.society_id = :owner
                  AND g.recipient_society_id = :recipient
                  AND g.revoked_at IS NULL AND g.valid_until > now()
                  AND kintrace_grant_covers(
                    g.record_kinds, g.tracing_request_ids, p.role, p.tracing_request_id))
        """,
        recipient=recipient_id,
        owner=owner_id,
    )


async def pairs_held_elsewhere(
    session: AsyncSession, society_id: uuid.UUID, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """Of these ordered pairs, those a partner society already holds a link on (two societies
    sharing with each other would otherwise both propose the pair)."""
    if not pairs:
        return set()
    rows = await session.exec(  # type: ignore[call-overload]
        text(
            """
            SELECT left_person_id, right_person_id FROM candidate_link
            WHERE society_id <> :society AND (left_person_id, right_person_id) IN (
              SELECT * FROM unnest(CAST(:lefts AS uuid[]), CAST(:rights AS uuid[])))
            """
        ).bindparams(
            society=society_id,
            lefts=[left for left, _ in pairs],
            rights=[right for _, right in pairs],
        )
    )
    return {(row.left_person_id, row.right_person_id) for row in rows}


async def withdraw_cross_links_of(
    session: AsyncSession, person_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """Withdraw the still-proposed cross-society links involving these persons (flagged
    sensitive: they are kept out of matching beyond their society)."""
    if not person_ids:
        return []
    return await _withdraw(
        session,
        """
              l.partner_society_id IS NOT NULL
              AND (l.left_person_id = ANY(CAST(:people AS uuid[]))
                   OR l.right_person_id = ANY(CAST(:people AS uuid[])))
        """,
        people=list(person_ids),
    )


async def withdraw_links_of(session: AsyncSession, person_id: uuid.UUID) -> list[uuid.UUID]:
    """Withdraw every still-proposed link involving the person (their tracing stopped); the
    feed announces each as `candidate.withdrawn`. Decided links stay as decided."""
    return await _withdraw(session, "l.left_person_id = :p OR l.right_person_id = :p", p=person_id)


async def _withdraw(session: AsyncSession, condition: str, **params: Any) -> list[uuid.UUID]:
    """Withdraw the still-proposed links (`l`) meeting `condition`; their ids. Each becomes a
    new version, announced in the feed as `candidate.withdrawn`."""
    rows = await session.exec(  # type: ignore[call-overload]
        text(
            f"""
            UPDATE candidate_link l
            SET status = 'withdrawn', version = version + 1, updated_at = now(),
                decided_at = now()
            WHERE l.status = 'proposed' AND ({condition})
            RETURNING l.id
            """
        ).bindparams(**params)
    )
    return [row.id for row in rows]


async def cancel_jobs(session: AsyncSession, person_id: uuid.UUID) -> None:
    """Finish the person's pending match job unrun (their tracing stopped)."""
    await session.exec(
        update(MatchJob)
        .where(col(MatchJob.person_id) == person_id, col(MatchJob.finished_at).is_(None))
        .values(finished_at=func.now(), last_error="tracing stopped")
    )


async def lock_traceable(session: AsyncSession, person_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Of these persons, those still active and traced, share-locked until commit.

    A link is stored only for persons this returns: a concurrent withdrawal or request not to
    be traced either committed before (the person is left out) or waits for this transaction
    to commit and then withdraws what it stored.
    """
    if not person_ids:
        return set()
    rows = await session.exec(
        select(Person.id)
        .where(
            col(Person.id).in_(person_ids),
            Person.status == "active",
            col(Person.tracing_stopped).is_(None),
        )
        .with_for_update(read=True)
    )
    return set(rows.all())


async def links_page(
    session: AsyncSession,
    *,
    status: str | None,
    kind: str | None,
    min_probability: float,
    after: tuple[float, uuid.UUID] | None,
    limit: int,
) -> Sequence[CandidateLink]:
    """Links by probability (highest first), then id, after a keyset position."""
    statement = (
        select(CandidateLink)
        .where(col(CandidateLink.probability) >= min_probability)
        .order_by(col(CandidateLink.probability).desc(), col(CandidateLink.id))
        .limit(limit + 1)
    )
    if status is not None:
        statement = statement.where(CandidateLink.status == status)
    if kind is not None:
        statement = statement.where(CandidateLink.kind == kind)
    if after is not None:
        probability, link_id = after
        statement = statement.where(
            (col(CandidateLink.probability) < probability)
            | ((col(CandidateLink.probability) == probability) & (col(CandidateLink.id) > link_id))
        )
    return (await session.exec(statement)).all()


async def get_link(session: AsyncSession, link_id: uuid.UUID) -> CandidateLink | None:
    """A link of the session's society."""
    return await session.get(CandidateLink, link_id)


async def pairs_of(
    session: AsyncSession, link_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]]:
    """The two persons of each link still stored (an erased person's links are gone)."""
    if not link_ids:
        return {}
    statement = select(
        CandidateLink.id, CandidateLink.left_person_id, CandidateLink.right_person_id
    ).where(col(CandidateLink.id).in_(set(link_ids)))
    return {link: (left, right) for link, left, right in await session.exec(statement)}


async def confirmed_across_unlocated(
    session: AsyncSession, society_id: uuid.UUID, limit: int
) -> Sequence[CandidateLink]:
    """Cross-society links both sides confirmed whose sought persons the society has not yet
    marked located on its side."""
    statement = (
        select(CandidateLink)
        .where(
            CandidateLink.status == "confirmed",
            col(CandidateLink.partner_society_id).is_not(None),
            society_id != all_(col(CandidateLink.located_for)),
        )
        .order_by(col(CandidateLink.decided_at), col(CandidateLink.id))
        .limit(limit)
    )
    return (await session.exec(statement)).all()


async def mark_located_for(
    session: AsyncSession, link_id: uuid.UUID, society_id: uuid.UUID
) -> None:
    """Record that the society marked its side of a cross-society link located (no new
    version: the link itself did not change)."""
    await session.exec(  # type: ignore[call-overload]
        text(
            "UPDATE candidate_link SET located_for = array_append(located_for, CAST(:s AS uuid)) "
            "WHERE id = :id AND NOT (CAST(:s AS uuid) = ANY (located_for))"
        ).bindparams(s=society_id, id=link_id)
    )


async def lock_link(session: AsyncSession, link_id: uuid.UUID) -> CandidateLink | None:
    """A link, locked for a decision (two reviewers deciding at once take turns)."""
    statement = select(CandidateLink).where(CandidateLink.id == link_id).with_for_update()
    return (await session.exec(statement)).first()


DECISION_NOTE = "candidate_decision.note"


def _decision_cipher(session: AsyncSession, link_id: uuid.UUID) -> crypto.FieldCipher:
    """A reviewer's note speaks of two persons; it is sealed under the society's key for
    decision notes, bound to its link (it is deleted with the link when either is erased)."""
    return crypto.society_cipher(session, DECISION_NOTE, f"candidate_link:{link_id}")


async def decisions_of(session: AsyncSession, link_id: uuid.UUID) -> Sequence[CandidateDecision]:
    """A link's decisions, oldest first."""
    return await decisions_on(session, [link_id])


async def decisions_on(
    session: AsyncSession, link_ids: Sequence[uuid.UUID]
) -> list[CandidateDecision]:
    """The decisions on these links, oldest first, their notes decrypted (copies the session
    does not track)."""
    if not link_ids:
        return []
    statement = (
        select(CandidateDecision)
        .where(col(CandidateDecision.link_id).in_(link_ids))
        .order_by(col(CandidateDecision.decided_at), col(CandidateDecision.id))
    )
    opened = []
    for row in await session.exec(statement):
        note = _decision_cipher(session, row.link_id).open(DECISION_NOTE, row.note)
        opened.append(detached(row, {"note": note}))
    return opened


async def add_decision(session: AsyncSession, decision: CandidateDecision) -> None:
    """Record a decision (its note sealed)."""
    decision.note = _decision_cipher(session, decision.link_id).seal(DECISION_NOTE, decision.note)
    session.add(decision)
    await session.flush()


async def set_link_status(
    session: AsyncSession,
    link: CandidateLink,
    status: str,
    decided: bool,
    confirmed_by: Sequence[uuid.UUID] | None = None,
    located_for: Sequence[uuid.UUID] | None = None,
) -> None:
    """Move a locked link to `status` (a new version), recording which societies' reviewers
    confirmed it and which marked their requests located (a cross-society link), if given."""
    values: dict[str, Any] = {
        "status": status,
        "version": link.version + 1,
        "updated_at": func.now(),
        "decided_at": func.now() if decided else None,
    }
    if confirmed_by is not None:
        values["confirmed_by"] = list(confirmed_by)
    if located_for is not None:
        values["located_for"] = list(located_for)
    await session.exec(
        update(CandidateLink).where(col(CandidateLink.id) == link.id).values(**values)
    )
    await session.refresh(link)


async def events_after(session: AsyncSession, after: int, limit: int) -> Sequence[LinkEvent]:
    """The society's feed after `after`, in order."""
    statement = (
        select(LinkEvent)
        .where(col(LinkEvent.seq) > after)
        .order_by(col(LinkEvent.seq))
        .limit(limit)
    )
    return (await session.exec(statement)).all()


async def enqueue_many(
    session: AsyncSession, society_id: uuid.UUID, person_ids: Sequence[uuid.UUID]
) -> None:
    """Queue persons for matching (those with a pending job keep it: the only conflict is the
    unique index of pending jobs; naming it would make row security demand read access to
    another society's queue, which a sharing society does not have)."""
    if not person_ids:
        return
    await session.exec(  # type: ignore[call-overload]
        text(
            """
            INSERT INTO match_job (society_id, person_id)
            SELECT CAST(:society AS uuid), unnest(CAST(:persons AS uuid[]))
            ON CONFLICT DO NOTHING
            """
        ).bindparams(society=society_id, persons=list(person_ids))
    )


@dataclass(frozen=True, slots=True)
class Band:
    """Decided links whose probability fell in [low, high)."""

    low: float
    high: float
    confirmed: int
    rejected: int


async def decided_bands(session: AsyncSession, edges: Sequence[float]) -> list[Band]:
    """Confirmed and rejected links per probability band (the last band includes 1.0)."""
    bands = []
    for low, high in zip(edges, edges[1:], strict=False):
        upper = (
            col(CandidateLink.probability) <= high
            if high >= 1.0
            else col(CandidateLink.probability) < high
        )
        statement = (
            select(CandidateLink.status, func.count())
            .where(col(CandidateLink.probability) >= low, upper)
            .where(col(CandidateLink.status).in_(["confirmed", "rejected"]))
            .group_by(CandidateLink.status)
        )
        counts = dict((await session.exec(statement)).all())
        bands.append(Band(low, high, counts.get("confirmed", 0), counts.get("rejected", 0)))
    return bands


async def decided_weights(session: AsyncSession) -> list[tuple[float, bool]]:
    """(match weight, confirmed) of every decided link of the session's society."""
    rows = await session.exec(
        select(CandidateLink.match_weight, CandidateLink.status).where(
            col(CandidateLink.status).in_(("confirmed", "rejected"))
        )
    )
    return [(float(weight), status == "confirmed") for weight, status in rows]


async def latest_calibration(session: AsyncSession) -> ModelCalibration | None:
    """The society's newest calibration (its active model version), if any."""
    statement = (
        select(ModelCalibration)
        .order_by(col(ModelCalibration.created_at).desc(), col(ModelCalibration.label).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def count_calibrations(session: AsyncSession) -> int:
    """How many calibrations the society has had."""
    return int((await session.exec(select(func.count()).select_from(ModelCalibration))).one())


async def add_calibration(session: AsyncSession, calibration: ModelCalibration) -> None:
    """Store a new calibration (it becomes the society's active version)."""
    session.add(calibration)
    await session.flush()
