"""Service settings, read from the environment (prefix `KINTRACE_`, plus `DATABASE_URL`)."""

from __future__ import annotations

import datetime
import os
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field
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
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    acting_society: str = Field(
        default="local",
        description="Society the unauthenticated local operator acts for (until auth lands).",
    )
    log_level: str = "INFO"
    log_json: bool = True
    graceful_shutdown_seconds: int = Field(default=20, ge=0)

    @property
    def idempotency_ttl(self) -> datetime.timedelta:
        """How long an Idempotency-Key is remembered."""
        return datetime.timedelta(hours=self.idempotency_ttl_hours)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
