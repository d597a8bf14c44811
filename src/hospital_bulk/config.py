"""Settings, read once from the environment at start-up.

Every setting has an environment variable: `HOSPITAL_BULK_<NAME>` for the service and
`HOSPITAL_DIRECTORY_<NAME>` for the upstream Hospital Directory it calls.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    """The service's configuration; see the README for each variable."""

    model_config = SettingsConfigDict(
        env_prefix="HOSPITAL_BULK_", populate_by_name=True, extra="ignore"
    )

    data_dir: Path = Field(
        default=Path("data"),
        description="Folder for the SQLite job store and the bundled Directory.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the job store; SQLite under data_dir when unset.",
    )
    broker_url: str | None = Field(
        default=None, description="Celery broker URL; unset runs jobs in the API process."
    )
    limits_redis_url: str | None = Field(
        default=None,
        description="Redis for the limits shared by all workers; the broker's URL when unset.",
    )
    concurrency: int = Field(
        default=20, ge=1, le=1000, description="Directory creates in flight at once."
    )
    chunk_size: int = Field(
        default=1000, ge=1, description="Rows per unit of work a worker claims."
    )
    lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long a claimed chunk stays with a worker without a heartbeat.",
    )
    max_deliveries: int = Field(
        default=5, ge=1, description="Claims of one chunk before its rows end failed."
    )
    max_upload_bytes: int = Field(
        default=100 * 1024 * 1024, ge=1, description="Largest upload, in bytes."
    )
    max_rows: int = Field(default=200_000, ge=1, description="Most data rows accepted in one file.")
    require_idempotency_key: bool = False
    reject_duplicate_rows: bool = Field(
        default=False,
        description="Fail rows that repeat an earlier row of the file instead of warning.",
    )
    idempotency_retention_hours: float = Field(default=24.0, gt=0)
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_json: bool = False
    log_level: str = "INFO"

    directory_url: str | None = Field(
        default=None,
        validation_alias=_env("HOSPITAL_DIRECTORY_URL"),
        description="Base URL of the Hospital Directory; unset starts the bundled one in-process.",
    )
    directory_batch_cap: int | None = Field(
        default=None,
        ge=1,
        validation_alias=_env("HOSPITAL_DIRECTORY_BATCH_CAP"),
        description="Most hospitals the Directory accepts in one batch (20 on the public instance).",
    )
    directory_creates_per_minute: int | None = Field(
        default=None,
        ge=1,
        validation_alias=_env("HOSPITAL_DIRECTORY_CREATES_PER_MINUTE"),
        description="Client-side cap on creates a minute, shared by all workers.",
    )
    directory_timeout: float = Field(
        default=30.0,
        gt=0,
        validation_alias=_env("HOSPITAL_DIRECTORY_TIMEOUT"),
        description="Seconds to wait for one Directory response.",
    )
    directory_warmup_timeout: float = Field(
        default=90.0,
        gt=0,
        validation_alias=_env("HOSPITAL_DIRECTORY_WARMUP_TIMEOUT"),
        description="Seconds to wait for the Directory to wake before a job's first create.",
    )
    directory_rate_limit_wait: float = Field(
        default=61.0,
        ge=0,
        validation_alias=_env("HOSPITAL_DIRECTORY_RATE_LIMIT_WAIT"),
        description="Seconds to pause after a 429 without Retry-After (the upstream window is a minute).",
    )
    directory_retry_attempts: int = Field(
        default=6, ge=1, validation_alias=_env("HOSPITAL_DIRECTORY_RETRY_ATTEMPTS")
    )
    reconcile_grace: float = Field(
        default=2.0,
        ge=0,
        description="Seconds to wait before listing a batch to settle creates whose outcome is unknown.",
    )

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_api_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @cached_property
    def job_store_url(self) -> str:
        """The job store's SQLAlchemy URL, defaulting to a SQLite file in `data_dir`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'jobs.sqlite3').resolve()}"

    @property
    def embedded_directory(self) -> bool:
        """Whether the service starts the bundled Directory itself."""
        return not self.directory_url

    @property
    def uses_celery(self) -> bool:
        return bool(self.broker_url)
