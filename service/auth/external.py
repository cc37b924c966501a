"""External OpenID Connect issuers: a society's own identity provider.

Each configured issuer names its audience, pinned algorithms, key set (inline, a file, or a
`jwks_uri` fetched over HTTPS), the societies it may speak for and the claims that carry society
and roles. Its tokens go through the same verification function as the built-in issuer's.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from service.auth.jwt import TrustedIssuer, VerificationKey
from service.settings import ExternalIssuerConfig

log = structlog.get_logger("kintrace.auth")

JWKS_REFRESH_SECONDS = 300.0
UNKNOWN_KID_REFRESH_SECONDS = 30.0
JWKS_FETCH_TIMEOUT_SECONDS = 5.0


def keys_of(jwks: dict[str, Any], algorithms: frozenset[str]) -> dict[str, VerificationKey]:
    """The signing keys of a JWK Set usable with the pinned algorithms, by `kid`.

    A key without `alg` takes the single pinned algorithm of its type; keys marked for
    encryption are ignored.
    """
    keys: dict[str, VerificationKey] = {}
    for jwk in jwks.get("keys", []):
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        alg = jwk.get("alg") or _only_algorithm_for(jwk.get("kty"), algorithms)
        if alg in algorithms:
            with contextlib.suppress(ValueError):  # a malformed key verifies nothing
                keys[jwk["kid"]] = VerificationKey(kid=jwk["kid"], alg=alg, public_jwk=jwk)
    return keys


def _only_algorithm_for(kty: object, algorithms: frozenset[str]) -> str | None:
    prefixes = {"RSA": ("RS", "PS"), "EC": ("ES",)}.get(str(kty), ())
    matching = [alg for alg in algorithms if alg.startswith(prefixes)] if prefixes else []
    return matching[0] if len(matching) == 1 else None


@dataclass(slots=True)
class ExternalIssuer:
    """One configured issuer with its current keys."""

    config: ExternalIssuerConfig
    trusted: TrustedIssuer
    keys: dict[str, VerificationKey] = field(default_factory=dict)
    loaded_at: float = float("-inf")
    last_forced: float = float("-inf")

    async def load_keys(self) -> None:
        """(Re)read the key set from where the configuration says."""
        config = self.config
        if config.jwks is not None:
            document = config.jwks
        elif config.jwks_file is not None:
            document = json.loads(config.jwks_file.read_text(encoding="utf-8"))
        else:
            assert config.jwks_uri is not None
            async with httpx.AsyncClient(timeout=JWKS_FETCH_TIMEOUT_SECONDS) as client:
                response = await client.get(config.jwks_uri)
                response.raise_for_status()
                document = response.json()
        self.keys = keys_of(document, self.trusted.algorithms)
        self.loaded_at = time.monotonic()

    async def key(self, kid: str) -> VerificationKey | None:
        """The key `kid`, refreshing a remote key set now and then (never per token)."""
        now = time.monotonic()
        stale = now - self.loaded_at > JWKS_REFRESH_SECONDS
        unknown = kid not in self.keys and now - self.last_forced > UNKNOWN_KID_REFRESH_SECONDS
        if self.config.jwks_uri is not None and (stale or unknown):
            self.last_forced = now
            try:
                await self.load_keys()
            except (httpx.HTTPError, ValueError) as err:
                log.warning("jwks refresh failed", issuer=self.config.issuer, error=str(err))
        return self.keys.get(kid)


def external_issuers(configs: list[ExternalIssuerConfig]) -> dict[str, ExternalIssuer]:
    """The configured issuers by `iss` (keys are loaded by `load_all`)."""
    issuers = {}
    for config in configs:
        trusted = TrustedIssuer(
            issuer=config.issuer,
            audiences=frozenset({config.audience}),
            algorithms=frozenset(config.algorithms),
            token_types=frozenset(config.token_types),
        )
        issuers[config.issuer] = ExternalIssuer(config, trusted)
    return issuers


async def load_all(issuers: dict[str, ExternalIssuer]) -> None:
    """Load every issuer's keys at start-up; an unreachable `jwks_uri` is retried later."""
    for issuer in issuers.values():
        try:
            await issuer.load_keys()
        except (httpx.HTTPError, OSError, ValueError) as err:
            log.warning("jwks not loaded", issuer=issuer.config.issuer, error=str(err))
