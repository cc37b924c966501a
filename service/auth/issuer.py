"""The built-in token issuer: the three grants of `POST /v1/auth/token`.

* `password` (local accounts): argon2id, a TOTP code for accounts that have one (required for
  admins and supervisors), throttled per username and per client address, locked after repeated
  failures. Every refusal is the same `invalid_grant`, whatever the reason, so the endpoint
  never says whether a username exists, is locked or disabled.
* `refresh_token`: opaque, single-use, rotating; a reused token revokes its whole family (the
  token was stolen or replayed), and disabling a user revokes all of theirs.
* `client_credentials` with a `private_key_jwt` client assertion (RFC 7523) for partner systems:
  verified through the one JWT function against the client's registered keys; its `jti` is
  stored until the assertion expires, so a replay is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from service.auth import credentials, repository
from service.auth.jwt import InvalidToken, TrustedIssuer, VerificationKey, sign_jwt, verify_jwt
from service.auth.jwt import unverified_issuer as assertion_issuer
from service.auth.keys import KeyStore
from service.auth.scopes import SECOND_FACTOR_ROLES, scopes_of
from service.db.engine import SessionFactory, auth_session
from service.db.models import ApiClient, AppUser
from service.errors import OAuthError, TooManyRequests
from service.ratelimit import TokenBuckets
from service.settings import Settings
from service.societies import repository as societies

ACCESS_TOKEN_TYPE = "at+jwt"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME_SECONDS = 300
ASSERTION_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"})
LOCAL_CLIENT_ID = "kintrace-local"
# The formats the database enforces; anything else cannot exist and is refused before a query.
USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{1,63}")
CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")

_BAD_LOGIN = "The username, password or one-time code is not valid."
_BAD_REFRESH = "The refresh token is not valid."
_BAD_CLIENT = "The client assertion is not valid."


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """What the token endpoint returns (RFC 6749 §5.1)."""

    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None = None

    def body(self) -> dict[str, Any]:
        """The JSON body of a successful token response."""
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        return body


def refresh_digest(token: str) -> str:
    """What is stored of a refresh token: a digest, so a database dump grants nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class Issuer:
    """Issues access and refresh tokens; one per process."""

    def __init__(
        self, sessions: SessionFactory, settings: Settings, keys: KeyStore, secret: bytes
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._keys = keys
        self._secret = secret
        per_minute = settings.login_attempts_per_minute / 60
        self._per_username = TokenBuckets(rate_per_second=per_minute, burst=settings.login_burst)
        self._per_address = TokenBuckets(
            rate_per_second=per_minute * 10, burst=settings.login_burst * 10
        )

    async def access_token(
        self,
        *,
        subject: str,
        society_id: uuid.UUID,
        society_code: str,
        roles: frozenset[str],
        client_id: str,
    ) -> tuple[str, int, str]:
        """A signed access token (`typ` at+jwt, RFC 9068), its lifetime and its scope."""
        keyring = await self._keys.keyring()
        if keyring.signing is None:
            await self._keys.reload()
            keyring = await self._keys.keyring()
        signing = keyring.signing
        if signing is None:
            raise OAuthError("server_error", "No signing key is configured.", status=500)
        now = int(time.time())
        ttl = self._settings.access_token_ttl_seconds
        scope = " ".join(sorted(scopes_of(roles)))
        claims = {
            "iss": self._settings.issuer,
            "sub": subject,
            "aud": self._settings.audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": str(uuid.uuid4()),
            "client_id": client_id,
            "scope": scope,
            "roles": sorted(roles),
            "society": society_code,
            "society_id": str(society_id),
        }
        token = sign_jwt(
            claims,
            private_key_pem=signing.private_pem,
            kid=signing.kid,
            alg=signing.alg,
            typ=ACCESS_TOKEN_TYPE,
        )
        return token, ttl, scope

    # -- password ----------------------------------------------------------------------------

    def _throttle(self, username: str, address: str) -> None:
        for buckets, key in ((self._per_username, username), (self._per_address, address)):
            decision = buckets.take(key)
            if not decision.allowed:
                raise TooManyRequests(
                    "Too many sign-in attempts; wait and try again.",
                    retry_after=decision.retry_after_seconds,
                )

    async def password_grant(
        self, username: str, password: str, otp: str | None, address: str
    ) -> IssuedTokens:
        """Sign a local user in."""
        username = username.strip().lower()
        self._throttle(username, address)
        async with auth_session(self._sessions) as session:
            plausible = USERNAME.fullmatch(username) is not None
            user = await repository.user_by_username(session, username) if plausible else None
            # argon2 takes a good part of a second: off the event loop, and run for unknown
            # users too, so that neither the answer nor its timing tells them apart.
            password_ok = await asyncio.to_thread(
                credentials.verify_password, user.password_hash if user else None, password
            )
            if user is None:
                raise OAuthError("invalid_grant", _BAD_LOGIN)
            step = self._second_factor(user, otp, self._secret)
            usable = user.disabled_at is None and not _locked(user)
            if not (password_ok and step is not None and usable):
                if user.disabled_at is None:
                    await repository.record_failed_login(
                        session,
                        user.id,
                        threshold=self._settings.lockout_threshold,
                        lockout=datetime.timedelta(minutes=self._settings.lockout_minutes),
                    )
                    await session.commit()
                raise OAuthError("invalid_grant", _BAD_LOGIN)
            await repository.record_successful_login(session, user.id, step if step >= 0 else None)
            refresh = await self._new_refresh_token(session, user.id, uuid.uuid4())
            tokens = await self._user_tokens(session, user, refresh)
            await session.commit()
        return tokens

    @staticmethod
    def _second_factor(user: AppUser, otp: str | None, secret: bytes) -> int | None:
        """The TOTP step used (-1: no second factor needed), or None when it is missing or bad."""
        if user.totp_secret is None:
            needs = any(role in SECOND_FACTOR_ROLES for role in user.roles)
            return None if needs else -1
        if not otp:
            return None
        totp_secret = credentials.open_totp_secret(user.totp_secret, secret)
        step = credentials.totp_step(totp_secret, otp, last_step=user.totp_last_step)
        return step if step >= 0 else None

    async def _new_refresh_token(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        family_id: uuid.UUID,
        expires: datetime.datetime | None = None,
    ) -> str:
        """A new refresh token; a rotated one keeps its family's expiry, so a session that
        keeps refreshing still ends `refresh_token_ttl_hours` after the sign-in."""
        token = secrets.token_urlsafe(32)
        if expires is None:
            expires = _now() + datetime.timedelta(hours=self._settings.refresh_token_ttl_hours)
        await repository.insert_refresh_token(
            session,
            family_id=family_id,
            user_id=user_id,
            digest=refresh_digest(token),
            expires_at=expires,
        )
        return token

    async def _user_tokens(
        self, session: AsyncSession, user: AppUser, refresh: str
    ) -> IssuedTokens:
        society = await societies.get_by_id(session, user.society_id)
        assert society is not None
        token, ttl, scope = await self.access_token(
            subject=f"user:{user.id}",
            society_id=society.id,
            society_code=society.code,
            roles=frozenset(user.roles),
            client_id=LOCAL_CLIENT_ID,
        )
        return IssuedTokens(token, ttl, scope, refresh)

    # -- refresh -----------------------------------------------------------------------------

    async def refresh_grant(self, token: str) -> IssuedTokens:
        """Exchange a refresh token for a new access token and a new refresh token."""
        if not token or len(token) > 256:
            raise OAuthError("invalid_grant", _BAD_REFRESH)
        async with auth_session(self._sessions) as session:
            stored = await repository.lock_refresh_token(session, refresh_digest(token))
            if stored is None or stored.revoked_at is not None or stored.expires_at <= _now():
                raise OAuthError("invalid_grant", _BAD_REFRESH)
            if stored.used_at is not None:
                await repository.revoke_refresh_family(session, stored.family_id)
                await session.commit()
                raise OAuthError("invalid_grant", _BAD_REFRESH)
            user = await repository.user_by_id(session, stored.user_id)
            if user is None or user.disabled_at is not None:
                raise OAuthError("invalid_grant", _BAD_REFRESH)
            await repository.mark_refresh_token_used(session, stored.id)
            refresh = await self._new_refresh_token(
                session, user.id, stored.family_id, stored.expires_at
            )
            tokens = await self._user_tokens(session, user, refresh)
            await session.commit()
        return tokens

    # -- client credentials ------------------------------------------------------------------

    async def client_credentials_grant(
        self, assertion_type: str | None, assertion: str | None, client_id: str | None
    ) -> IssuedTokens:
        """Authenticate a partner client by its signed assertion and issue an access token."""
        if assertion_type != JWT_BEARER or not assertion:
            raise OAuthError(
                "invalid_client",
                f"Send client_assertion_type={JWT_BEARER} and a client_assertion.",
                status=401,
            )
        issuer = assertion_issuer(assertion)
        plausible = issuer is not None and CLIENT_ID.fullmatch(issuer) is not None
        if issuer is None or not plausible or (client_id is not None and client_id != issuer):
            raise OAuthError("invalid_client", _BAD_CLIENT, status=401)
        async with auth_session(self._sessions) as session:
            client = await repository.client_by_client_id(session, issuer)
            if client is None or client.disabled_at is not None:
                raise OAuthError("invalid_client", _BAD_CLIENT, status=401)
            claims = self._verify_assertion(client, assertion)
            expires = datetime.datetime.fromtimestamp(float(claims["exp"]), datetime.UTC)
            if not await repository.use_assertion_id(
                session, client.client_id, claims["jti"], expires
            ):
                raise OAuthError(
                    "invalid_client", "This client assertion was already used.", status=401
                )
            society = await societies.get_by_id(session, client.society_id)
            assert society is not None
            await session.commit()
        token, ttl, scope = await self.access_token(
            subject=f"client:{client.client_id}",
            society_id=society.id,
            society_code=society.code,
            roles=frozenset(client.roles),
            client_id=client.client_id,
        )
        return IssuedTokens(token, ttl, scope)

    def _verify_assertion(self, client: ApiClient, assertion: str) -> dict[str, Any]:
        keys = client_keys(client.jwks)
        trusted = TrustedIssuer(
            issuer=client.client_id,
            audiences=frozenset({self._settings.token_endpoint, self._settings.issuer}),
            algorithms=frozenset(key.alg for key in keys.values()) & ASSERTION_ALGORITHMS,
            token_types=frozenset(),
            required_claims=("iss", "sub", "aud", "exp", "jti"),
        )
        try:
            claims = verify_jwt(
                assertion,
                issuers={client.client_id: trusted},
                keys=lambda _issuer, kid: keys.get(kid),
            )
        except (InvalidToken, ValueError) as err:
            raise OAuthError("invalid_client", _BAD_CLIENT, status=401) from err
        lifetime = float(claims["exp"]) - time.time()
        if claims.get("sub") != client.client_id or lifetime > MAX_ASSERTION_LIFETIME_SECONDS:
            raise OAuthError("invalid_client", _BAD_CLIENT, status=401)
        if not isinstance(claims.get("jti"), str) or not 0 < len(claims["jti"]) <= 256:
            raise OAuthError("invalid_client", _BAD_CLIENT, status=401)
        return claims


def client_keys(jwks: dict[str, Any]) -> dict[str, VerificationKey]:
    """A client's registered public keys by `kid` (each must name its `kid` and `alg`)."""
    keys: dict[str, VerificationKey] = {}
    for jwk in jwks.get("keys", []):
        if (
            isinstance(jwk, dict)
            and isinstance(jwk.get("kid"), str)
            and jwk.get("alg") in (ASSERTION_ALGORITHMS)
        ):
            with contextlib.suppress(ValueError):  # a malformed key verifies nothing
                keys[jwk["kid"]] = VerificationKey(kid=jwk["kid"], alg=jwk["alg"], public_jwk=jwk)
    return keys


def _locked(user: AppUser) -> bool:
    return user.locked_until is not None and user.locked_until > _now()
