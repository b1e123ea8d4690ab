"""Service settings from FACTCHECK_* environment variables (and an optional .env file).

Built once at the edge (CLI, tests) and passed in: nothing reads settings at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

InstructorMode = Literal["tools", "json", "json_schema", "md_json"]
LogFormat = Literal["json", "text"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FACTCHECK_", env_file=".env", extra="ignore", populate_by_name=True
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///./factcheck.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64, description="Processes `serve` runs.")
    log_format: LogFormat = Field(default="json", description="json lines, or text for humans.")
    log_level: LogLevel = "INFO"
    seed_dir: Path | None = Field(
        default=PROJECT_ROOT / "seeds",
        description="Folder ingested at `serve` start (idempotent); empty to skip.",
    )

    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint. Unset: the offline extractor."
    )
    llm_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("FACTCHECK_LLM_API_KEY", "OPENAI_API_KEY"),
    )
    llm_model: str = "gpt-4o-mini"
    llm_mode: InstructorMode = Field(
        default="tools", description="instructor mode; json/md_json for servers without tools."
    )
    llm_timeout: float = Field(default=60.0, gt=0, description="Seconds for one LLM request.")
    llm_max_attempts: int = Field(default=4, ge=1, le=10, description="Transport retries.")
    llm_deadline: float = Field(default=180.0, gt=0, description="Seconds for all attempts.")
    llm_max_reasks: int = Field(default=2, ge=0, le=5, description="Re-asks on invalid output.")
    llm_concurrency: int = Field(default=4, ge=1, le=64, description="Chunks extracted at once.")
    chunk_tokens: int = Field(default=1500, ge=200, description="Token budget of one chunk.")
    judge_batch_claims: int = Field(
        default=8, ge=1, le=50, description="Claims whose open pairs share one judge call."
    )

    api_keys: list[str] = Field(default_factory=list, description="Static API keys (optional).")
    rate_limit_per_minute: int = Field(
        default=120, ge=0, description="Requests a minute per API key (or client IP); 0: off."
    )
    cors_origins: list[str] = Field(default_factory=list)
    max_article_bytes: int = Field(default=1_000_000, ge=1_000, description="Request body limit.")
    prompts_dir: Path = PROJECT_ROOT / "prompts"

    # Asynchronous checks (service.jobs): the worker in each instance, and webhooks.
    webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key signing webhooks; needed for callback_url."
    )
    job_max_attempts: int = Field(
        default=5, ge=1, le=50, description="Attempts of a check job before it fails."
    )
    job_concurrency: int = Field(
        default=2, ge=0, le=64, description="Jobs this instance runs at once; 0: none (API only)."
    )
    job_poll_seconds: float = Field(
        default=1.0, gt=0, le=300, description="Pause between polls of an empty queue."
    )
    job_lease_seconds: float = Field(
        default=300.0, ge=5, description="A job whose worker went silent this long runs again."
    )
    webhook_max_attempts: int = Field(
        default=5, ge=1, le=20, description="POSTs of one report to its callback_url."
    )
    # service.jobs.destinations: what a callback_url may reach.
    callback_allow_local: bool = Field(
        default=False,
        description="Let callback_url reach loopback, private and link-local addresses.",
    )
    callback_allowlist: list[str] = Field(
        default_factory=list,
        description="Hosts, addresses and CIDR networks a callback_url may reach anyway.",
    )

    org_name: str = Field(default="Fact-check desk", description="ClaimReview author's name.")
    org_url: str | None = Field(default=None, description="Its site; unset: public_url.")
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        pattern=r"^https?://",
        description="Where clients reach this service; ClaimReview links to checks under it.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (async drivers)"
            )
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_any_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("seed_dir", "webhook_secret", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url or self.llm_api_key)


class SettingsError(Exception):
    """Settings that cannot start the service; the message is one readable line."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{_env_name(err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)
        )
        raise SettingsError(f"invalid settings: {problems}") from None


def _env_name(loc: tuple[object, ...]) -> str:
    name = str(loc[0]) if loc else "?"
    return name if name.isupper() else f"FACTCHECK_{name.upper()}"


__all__ = ["PROJECT_ROOT", "Settings", "SettingsError", "load_settings"]
