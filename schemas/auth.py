"""Wire contracts of the token endpoint and of `GET /v1/auth/me`."""

from __future__ import annotations

import uuid

from pydantic import Field

from schemas.base import WireModel


class TokenResponse(WireModel):
    """A successful token response (RFC 6749 §5.1)."""

    access_token: str = Field(description="A JWT (`typ` at+jwt), valid for `expires_in` seconds.")
    token_type: str = Field(examples=["Bearer"])
    expires_in: int
    scope: str = Field(description="Space-separated scopes the caller's roles grant.")
    refresh_token: str | None = Field(
        default=None, description="Single-use; exchange it for new tokens (password grant only)."
    )


class WhoAmI(WireModel):
    """The authenticated caller as the service sees it."""

    subject: str
    kind: str = Field(examples=["user", "client", "external"])
    society_id: uuid.UUID
    society_code: str
    roles: list[str]
    scopes: list[str]
