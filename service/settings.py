"""Service settings, read from the environment (prefix `KINTRACE_`, plus `DATABASE_URL`)."""

from __future__ import annotations

import datetime
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """Where the embedded database lives when `KINTRACE_DATA_DIR` is not set.

    As root the embedded server runs as a dedicated system user and every parent folder of its
    data directory must be traversable by that user; `/var/lib/kintrace` already is, whereas a
    folder under `/root` would have to be opened up.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/kintrace")
    return Path(platformdirs.user_data_dir("kintrace", appauthor=False))


class ExternalIssuerConfig(BaseModel):
    """An identity provider of a society whose access tokens Kintrace accepts."""

    model_config = ConfigDict(extra="forbid")

    issuer: str
    audience: str
    algorithms: list[Literal["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]]
    jwks: dict[str, Any] | None = None
    jwks_file: Path | None = None
    jwks_uri: str | None = None
    societies: list[str] = Field(
        min_length=1, description="Codes of the societies this issuer may speak for."
    )
    society_claim: str | None = Field(
        default=None, description="Claim naming the society; unset: the single `societies`."
    )
    roles_claim: str = "roles"
    token_types: list[str] = Field(
        default_factory=lambda: ["at+jwt"],
        description="Accepted `typ` headers. Add `jwt` only for a provider that does not type "
        "its access tokens, and then give it an `audience` no ID token carries.",
    )

    @model_validator(mode="after")
    def _one_key_source(self) -> ExternalIssuerConfig:
        sources = [self.jwks, self.jwks_file, self.jwks_uri]
        if sum(source is not None for source in sources) != 1:
            raise ValueError("give exactly one of jwks, jwks_file, jwks_uri")
        if self.society_claim is None and len(self.societies) != 1:
            raise ValueError("without society_claim, societies must name exactly one society")
        return self


class Settings(BaseSettings):
    """Every setting of the service; the README lists them with their defaults."""

    model_config = SettingsConfigDict(env_prefix="KINTRACE_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "KINTRACE_DATABASE_URL"),
        description="Owner connection to PostgreSQL; unset starts the embedded server.",
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    database_name: str = Field(default="kintrace", description="Database of the embedded server.")
    migrate_on_start: bool = True
    pool_size: int = Field(default=10, ge=1, le=200)
    pool_max_overflow: int = Field(default=5, ge=0, le=200)
    connect_timeout_seconds: float = Field(default=10.0, gt=0)
    statement_timeout_ms: int = Field(default=30_000, ge=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    import_max_bytes: int = Field(
        default=64 * 1_048_576,
        ge=1024,
        description="Largest body `POST /v1/imports` takes (other routes: `max_body_bytes`).",
    )
    import_max_items: int = Field(
        default=200_000, ge=1, description="Most records one import may carry."
    )
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    env: Literal["production", "development"] = Field(
        default="production",
        description="`development` turns on the interactive API docs at /docs.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Encrypts the issuer's private keys at rest; unset: a random key kept in "
        "`<data dir>/secret.key` (created on first start, mode 0600).",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where clients reach the service; the issuer (`iss`) of its tokens.",
    )
    audience: str = Field(default="urn:kintrace:api", description="`aud` of access tokens.")
    access_token_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    refresh_token_ttl_hours: int = Field(default=12, ge=1, le=24 * 30)
    signing_alg: Literal["ES256", "RS256"] = "ES256"
    key_overlap_seconds: int = Field(
        default=3600,
        ge=0,
        description="How long a rotated-out signing key stays published and accepted.",
    )
    oidc_issuers: list[ExternalIssuerConfig] = Field(
        default_factory=list,
        description="External OpenID Connect issuers whose access tokens are accepted (JSON).",
    )
    rate_limit_per_second: float = Field(default=20.0, gt=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    login_attempts_per_minute: float = Field(default=5.0, gt=0)
    login_burst: int = Field(default=10, ge=1)
    lockout_threshold: int = Field(default=10, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS; empty: CORS closed."
    )
    review_threshold: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="Probability at or above which a pair is proposed to reviewers.",
    )
    search_per_minute: float = Field(default=30.0, gt=0, description="Searches per caller.")
    search_burst: int = Field(default=10, ge=1)
    search_flag_per_hour: int = Field(
        default=50,
        ge=1,
        description="More searches than this in an hour flag the caller to supervisors and "
        "the data-protection officer.",
    )
    minor_age: int = Field(
        default=18,
        ge=1,
        le=25,
        description="Pairs involving anyone who may be younger need two reviewers' confirmation.",
    )
    webhook_allow_loopback: bool = Field(
        default=False,
        description="Let webhook endpoints resolve to loopback addresses (tests, local demos).",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Let webhook endpoints resolve to private (RFC 1918), unique-local or "
        "carrier-grade NAT addresses (a partner reachable only over a private network). "
        "Link-local and cloud metadata addresses are refused whatever the settings.",
    )
    webhook_allow_http: bool = Field(
        default=False, description="Allow plain http webhook endpoints (never in production)."
    )
    webhook_any_port: bool = Field(
        default=False,
        description="Allow webhook endpoints on any port (default: 443, 8443, 80, 8080).",
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_max_attempts: int = Field(
        default=15, ge=1, le=50, description="Attempts before a message is marked failed."
    )
    webhook_retry_base_seconds: float = Field(
        default=10.0,
        gt=0,
        description="First retry delay; each further retry waits twice as long (jittered), "
        "up to `webhook_retry_cap_seconds`.",
    )
    webhook_retry_cap_seconds: float = Field(default=6 * 3600.0, gt=0)
    workers: int = Field(
        default=1, ge=0, le=32, description="Match worker processes `serve` starts (0: none)."
    )
    worker_niceness: int = Field(
        default=10,
        ge=0,
        le=19,
        description="How much workers yield the CPU to the API (Unix niceness added at start).",
    )
    audit_seal_interval_seconds: float = Field(
        default=2.0, ge=0, description="How often the sealer chains new audit events; 0: never."
    )
    log_level: str = "INFO"
    log_json: bool = True
    graceful_shutdown_seconds: int = Field(default=20, ge=0)

    @model_validator(mode="after")
    def _overlap_covers_token_lifetime(self) -> Settings:
        if self.key_overlap_seconds < self.access_token_ttl_seconds:
            raise ValueError(
                "key_overlap_seconds must be at least access_token_ttl_seconds, or rotating "
                "the signing key would invalidate tokens still in use"
            )
        return self

    @property
    def docs_enabled(self) -> bool:
        """Interactive docs only in development: they execute requests from a browser page."""
        return self.env == "development"

    @property
    def issuer(self) -> str:
        """`iss` of the tokens this service signs."""
        return self.public_url.rstrip("/")

    @property
    def token_endpoint(self) -> str:
        """The token endpoint's URL: the audience of partner clients' assertions."""
        return f"{self.issuer}/v1/auth/token"

    @property
    def idempotency_ttl(self) -> datetime.timedelta:
        """How long an Idempotency-Key is remembered."""
        return datetime.timedelta(hours=self.idempotency_ttl_hours)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
