"""Running a POST at most once per Idempotency-Key.

The key's advisory lock, the work and the stored response share one transaction: a crash
loses both (the retry runs afresh), a commit keeps both (the retry gets the stored response).
A twin request arriving while the first holds the lock gets 409; after the first commits it
gets the first result; with another body it gets 422.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit import service as audit
from service.errors import IdempotencyInFlight, IdempotencyKeyReused
from service.idempotency import repository
from service.persons import crypto
from service.principal import Access

REPLAY_HEADER = "Idempotent-Replayed"

BODY = "response_body"  # the field name the sealed body is bound to


@dataclass(slots=True)
class Outcome:
    """What an action produced: status, JSON body and headers worth replaying."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> JSONResponse:
        """The HTTP response for this outcome."""
        return JSONResponse(self.body, status_code=self.status, headers=self.headers)


async def fingerprint(request: Request) -> str:
    """Digest of what makes two requests the same: method, path and JSON body (key order free)."""
    raw = await request.body()
    try:
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.url.path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


async def run_once(
    session: AsyncSession,
    access: Access,
    key: str | None,
    request: Request,
    action: Callable[[], Awaitable[Outcome]],
    ttl: datetime.timedelta,
    record_type: str,
    disclosed: Callable[[dict[str, Any]], list[uuid.UUID]],
) -> JSONResponse:
    """Run `action` and commit, or replay the stored outcome of the same key.

    Commits before returning, so that the client never sees a 2xx for a write that failed. A
    replay discloses the stored record again, so it is audited as a read of `record_type` with
    the records `disclosed` finds in the stored body.
    Keys are scoped to the caller (society and subject): another caller's key is another key.
    """
    principal = access.principal
    if key is None:
        outcome = await action()
        await session.commit()
        return outcome.response()
    scope = f"{principal.society_id}:{principal.scope_key}:{key}"
    if not await repository.try_lock(session, scope):
        raise IdempotencyInFlight("a request with this Idempotency-Key is still being processed")
    digest = await fingerprint(request)
    cipher = crypto.society_cipher(session, "kintrace idempotent responses", scope)
    stored = await repository.find(session, principal.society_id, principal.scope_key, key)
    if stored is not None:
        if stored.request_fingerprint != digest:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used with a different request; use a new key"
            )
        body = cipher.open_document(BODY, stored.response_body) or {}
        replay = Outcome(stored.response_status, body, stored.response_headers)
        revealed = disclosed(body) if stored.response_status < 300 else []
        if revealed:
            await audit.record(session, access, f"{record_type}.replay", record_type, revealed)
        await session.commit()
        response = replay.response()
        response.headers[REPLAY_HEADER] = "true"
        return response
    await repository.delete_expired(session, principal.society_id, principal.scope_key, key)
    outcome = await action()
    await repository.insert(
        session,
        society_id=principal.society_id,
        principal=principal.scope_key,
        key=key,
        fingerprint=digest,
        status=outcome.status,
        body=cipher.seal_document(BODY, outcome.body) or "",
        headers=outcome.headers,
        ttl=ttl,
        person_ids=disclosed(outcome.body) if outcome.status < 300 else [],
    )
    await session.commit()
    return outcome.response()
