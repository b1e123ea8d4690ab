"""SQLAlchemy tables. The schema itself is owned by the Alembic migrations in migrations/."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Json = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: Json, list[Any]: Json, datetime: UTCDateTime()}


class ArticleRow(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str | None] = mapped_column(String(1000))
    source: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime | None]
    text: Mapped[str] = mapped_column(Text)
    # Unique: concurrent posts of one text race on this constraint, not on a read.
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ClaimRow(Base):
    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    statement: Mapped[str] = mapped_column(Text)
    quote: Mapped[str] = mapped_column(Text)
    span_start: Mapped[int]
    span_end: Mapped[int]
    claimant: Mapped[str | None] = mapped_column(String(500))
    entities: Mapped[list[Any]] = mapped_column(default=list)
    quantities: Mapped[list[Any]] = mapped_column(default=list)
    time: Mapped[dict[str, Any] | None]
    extractor: Mapped[str] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(200))
    prompt_version: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CheckRow(Base):
    __tablename__ = "checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A report outlives its article: deleting the article keeps the record of the check.
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), index=True)
    report: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # Asynchronous checks are jobs on this row (migration 0003_jobs; service.store.jobs).
    request: Mapped[dict[str, Any] | None]  # the CheckIn, kept until the check has run
    request_hash: Mapped[str | None] = mapped_column(String(64))
    # Unique: two concurrent posts with one key race on this constraint and make one check.
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True, index=True)
    callback_url: Mapped[str | None] = mapped_column(String(2000))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_at: Mapped[datetime | None]
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    delivery_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    delivery_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(8))  # shown in listings; the rest is never stored
    # Unique, so a request's key is found through the index, never by a scan.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class ExtractionRow(Base):
    """A text's grounded claims as one extractor/model/prompt made them: a repeat costs no LLM."""

    __tablename__ = "extractions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    extractor: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(200))
    prompt_version: Mapped[str] = mapped_column(String(100))
    claims: Mapped[list[Any]]
    dropped: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JudgementRow(Base):
    """What the judge said about one claim–evidence pair, keyed by the pair's text and the
    judge's model and prompt version: the same pair is never paid for twice."""

    __tablename__ = "judgements"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    relation: Mapped[str] = mapped_column(String(20))
    explanation: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(200))
    prompt_version: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TermRow(Base):
    """How many stored claims a word stem is in (service.store.terms): searches skip the
    words so common that their posting lists would cost more than they tell."""

    __tablename__ = "terms"

    term: Mapped[str] = mapped_column(String(100), primary_key=True)
    claims: Mapped[int]
