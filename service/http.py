"""HTTP mechanics shared by the routes: ETags and preconditions, cursors, idempotency keys."""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Header

from schemas.problem import InvalidParam
from service.errors import BadRequest, PreconditionFailed, PreconditionRequired


def etag(version: int) -> str:
    """Strong ETag of a resource version (If-Match uses strong comparison, RFC 9110)."""
    return f'"v{version}"'


def require_if_match(if_match: str | None, version: int) -> None:
    """Refuse an update without If-Match (428) or made against another version (412)."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "send If-Match with the ETag you read, so that you do not overwrite a newer change"
        )
    candidates = [tag.strip() for tag in if_match.split(",")]
    if "*" in candidates or etag(version) in candidates:
        return
    raise PreconditionFailed(
        f"the resource is at {etag(version)}; read it again and reapply your change",
        headers={"ETag": etag(version)},
    )


@dataclass(frozen=True, slots=True)
class Cursor:
    """Keyset position: the last row's creation time and id."""

    created_at: datetime.datetime
    id: uuid.UUID

    def encode(self) -> str:
        """Opaque, URL-safe text for `next_cursor`."""
        raw = json.dumps([self.created_at.isoformat(), str(self.id)]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """Parse a cursor from a client; a tampered one is a 400."""
        if text is None:
            return None
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            created_at, row_id = json.loads(raw)
            return cls(datetime.datetime.fromisoformat(created_at), uuid.UUID(row_id))
        except (binascii.Error, ValueError, TypeError) as err:
            raise BadRequest(
                "the cursor is not one this service issued",
                invalid_params=[InvalidParam(name="cursor", location="query", reason="invalid")],
            ) from err


def page_cursor(rows: list[Any], limit: int, at: str = "created_at") -> str | None:
    """The cursor after the last row, or None when this page is the last.

    Repositories fetch `limit + 1` rows; the extra row only says that more exist. `at` names
    the time column the page is ordered by.
    """
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return Cursor(getattr(last, at), last.id).encode()


IDEMPOTENCY_KEY_DESCRIPTION = (
    "Makes the POST safe to retry: a retry with the same key and body returns the first result; "
    "the same key with another body is 422; while the first is running, 409. Keys are scoped "
    "to the caller and expire (default 24 h). 1-255 printable ASCII characters."
)

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description=IDEMPOTENCY_KEY_DESCRIPTION,
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
    ),
]
IfMatchHeader = Annotated[
    str | None,
    Header(alias="If-Match", description="ETag of the version you read; required on updates."),
]
