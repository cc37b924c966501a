"""Bearer authentication of every `/v1` request, before anything else looks at it.

`Authenticate` is an ASGI middleware, so a missing or bad token is a 401 before the router could
answer 404 or 405, before a body is read (400, 413, 422) and before the rate limiter (429). It
verifies the token through the one JWT function, checks that the user or client is still
enabled, builds the `Principal` from the database (roles and society as they are now, not as
they were when the token was signed) and applies the per-principal rate limit.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from service.auth import repository
from service.auth.external import ExternalIssuer
from service.auth.issuer import ACCESS_TOKEN_TYPE
from service.auth.jwt import (
    MAX_TOKEN_BYTES,
    InvalidToken,
    TrustedIssuer,
    unverified_issuer,
    unverified_kid,
    verify_jwt,
)
from service.auth.keys import KeyStore
from service.auth.scopes import known_roles, scopes_of
from service.db.engine import SessionFactory, auth_session
from service.errors import TooManyRequests, Unauthorized, problem_response
from service.principal import Principal, PrincipalKind
from service.ratelimit import TokenBuckets
from service.settings import Settings
from service.societies import repository as societies

TOKEN_ENDPOINT = "/v1/auth/token"


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header."""
    if not authorization:
        raise Unauthorized("Send an access token: `Authorization: Bearer <token>`.")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Send an access token: `Authorization: Bearer <token>`.")
    if len(token) > MAX_TOKEN_BYTES:
        raise Unauthorized("The access token is too large.")
    return token


class Authenticator:
    """Turns a bearer token into a `Principal`, or refuses it with 401."""

    def __init__(
        self,
        sessions: SessionFactory,
        settings: Settings,
        keys: KeyStore,
        external: dict[str, ExternalIssuer],
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._keys = keys
        self._external = external
        self._own = TrustedIssuer(
            issuer=settings.issuer,
            audiences=frozenset({settings.audience}),
            algorithms=frozenset({"ES256", "RS256"}),
            token_types=frozenset({ACCESS_TOKEN_TYPE}),
            required_claims=("iss", "aud", "exp", "iat", "sub", "jti"),
        )

    async def authenticate(self, authorization: str | None) -> Principal:
        """The principal of a valid token; `Unauthorized` for anything else."""
        token = bearer_token(authorization)
        issuer = unverified_issuer(token)
        try:
            # An unreadable token goes to the verifier too, which says precisely what is wrong.
            if issuer is None or issuer == self._own.issuer:
                claims = await self._verify_own(token)
                return await self._local_principal(claims)
            external = self._external.get(issuer or "")
            if external is None:
                raise InvalidToken("unknown_issuer", "the token's issuer is not trusted")
            claims = await self._verify_external(token, external)
            return await self._external_principal(claims, external)
        except InvalidToken as err:
            raise Unauthorized(f"The access token is not valid ({err.reason}).") from None

    async def _verify_own(self, token: str) -> dict[str, Any]:
        kid = unverified_kid(token)
        if kid is not None:
            await self._keys.knows(kid)
        keyring = await self._keys.keyring()
        return verify_jwt(
            token,
            issuers={self._own.issuer: self._own},
            keys=lambda _issuer, k: keyring.published.get(k),
        )

    @staticmethod
    async def _verify_external(token: str, external: ExternalIssuer) -> dict[str, Any]:
        kid = unverified_kid(token)
        key = await external.key(kid) if kid is not None else None
        return verify_jwt(
            token,
            issuers={external.trusted.issuer: external.trusted},
            keys=lambda _issuer, k: key if key is not None and key.kid == k else None,
        )

    async def _local_principal(self, claims: dict[str, Any]) -> Principal:
        kind, _, identifier = str(claims["sub"]).partition(":")
        async with auth_session(self._sessions) as session:
            if kind == PrincipalKind.USER:
                try:
                    user = await repository.user_by_id(session, uuid.UUID(identifier))
                except ValueError:
                    user = None
                if user is None or user.disabled_at is not None:
                    raise InvalidToken("subject", "the account is disabled or unknown")
                society_id, roles = user.society_id, frozenset(user.roles)
                principal_kind = PrincipalKind.USER
            elif kind == PrincipalKind.CLIENT:
                client = await repository.client_by_client_id(session, identifier)
                if client is None or client.disabled_at is not None:
                    raise InvalidToken("subject", "the client is disabled or unknown")
                society_id, roles = client.society_id, frozenset(client.roles)
                principal_kind = PrincipalKind.CLIENT
            else:
                raise InvalidToken("subject", "the token's subject is not recognised")
            if claims.get("society_id") != str(society_id):
                raise InvalidToken("subject", "the token's society is not the subject's")
            return await _principal(session, str(claims["sub"]), principal_kind, society_id, roles)

    async def _external_principal(
        self, claims: dict[str, Any], external: ExternalIssuer
    ) -> Principal:
        config = external.config
        code = claims.get(config.society_claim) if config.society_claim else config.societies[0]
        if not isinstance(code, str) or code not in config.societies:
            raise InvalidToken("society", "the token names no society this issuer may speak for")
        raw_roles = claims.get(config.roles_claim, [])
        if isinstance(raw_roles, str):
            raw_roles = raw_roles.split()
        roles = known_roles(r for r in raw_roles if isinstance(r, str))
        async with auth_session(self._sessions) as session:
            society = await societies.get_by_code(session, code)
            if society is None:
                raise InvalidToken("society", "the token's society does not exist here")
            subject = f"{config.issuer}#{claims['sub']}"
            return await _principal(session, subject, PrincipalKind.EXTERNAL, society.id, roles)


async def _principal(
    session: AsyncSession,
    subject: str,
    kind: PrincipalKind,
    society_id: uuid.UUID,
    roles: frozenset[str],
) -> Principal:
    society = await societies.get_by_id(session, society_id)
    if society is None:
        raise InvalidToken("society", "the subject's society does not exist")
    return Principal(subject, kind, society.id, society.code, roles, scopes_of(roles))


class Authenticate:
    """ASGI middleware: authenticate `/v1/*` (except the token endpoint), then rate-limit."""

    def __init__(self, app: ASGIApp, *, prefix: str = "/v1/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(self.prefix) or path == TOKEN_ENDPOINT:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        runtime = scope["app"].state.runtime
        try:
            principal = await runtime.authenticator.authenticate(
                request.headers.get("authorization")
            )
            limits: TokenBuckets = runtime.rate_limits
            decision = limits.take(principal.subject)
            if not decision.allowed:
                raise TooManyRequests(
                    "Rate limit exceeded for this caller.",
                    retry_after=decision.retry_after_seconds,
                )
        except (Unauthorized, TooManyRequests) as err:
            response = problem_response(err.to_problem(request), err.headers)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)
