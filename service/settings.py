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
    cors_origins: list[str] = Field(default_factory=list)
    max_article_bytes: int = Field(default=1_000_000, ge=1_000, description="Request body limit.")
    prompts_dir: Path = PROJECT_ROOT / "prompts"

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (async drivers)"
            )
        return value

    @field_validator("seed_dir", mode="before")
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
