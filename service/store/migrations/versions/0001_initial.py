"""articles, claims, checks, and a full-text index over claims on both backends

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Stamp = sa.DateTime(timezone=True)

# SQLite: an external-content FTS5 table kept in step by triggers, so a claim is indexed in the
# same transaction that stores it. porter stems "settlements"/"settlement" alike.
SQLITE_FTS = [
    """CREATE VIRTUAL TABLE claims_fts USING fts5(
        statement, quote, entities, content='claims', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER claims_fts_insert AFTER INSERT ON claims BEGIN
        INSERT INTO claims_fts(rowid, statement, quote, entities)
        VALUES (new.id, new.statement, new.quote, new.entities);
    END""",
    """CREATE TRIGGER claims_fts_delete AFTER DELETE ON claims BEGIN
        INSERT INTO claims_fts(claims_fts, rowid, statement, quote, entities)
        VALUES ('delete', old.id, old.statement, old.quote, old.entities);
    END""",
    """CREATE TRIGGER claims_fts_update AFTER UPDATE ON claims BEGIN
        INSERT INTO claims_fts(claims_fts, rowid, statement, quote, entities)
        VALUES ('delete', old.id, old.statement, old.quote, old.entities);
        INSERT INTO claims_fts(rowid, statement, quote, entities)
        VALUES (new.id, new.statement, new.quote, new.entities);
    END""",
]

# PostgreSQL: a stored generated tsvector with a GIN index; no extension needed.
POSTGRES_FTS = [
    """ALTER TABLE claims ADD COLUMN search tsvector GENERATED ALWAYS AS (
        to_tsvector('english', statement || ' ' || quote)) STORED""",
    "CREATE INDEX ix_claims_search ON claims USING gin (search)",
]


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.String(2000)),
        sa.Column("title", sa.String(1000)),
        sa.Column("source", sa.String(200)),
        sa.Column("published_at", Stamp),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.UniqueConstraint("content_hash", name="uq_articles_content_hash"),
    )
    op.create_index("ix_articles_created_at", "articles", ["created_at"])
    op.create_table(
        "claims",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "article_id",
            sa.Integer,
            sa.ForeignKey("articles.id", ondelete="CASCADE", name="fk_claims_article"),
            nullable=False,
        ),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("quote", sa.Text, nullable=False),
        sa.Column("span_start", sa.Integer, nullable=False),
        sa.Column("span_end", sa.Integer, nullable=False),
        sa.Column("claimant", sa.String(500)),
        sa.Column("entities", Json, nullable=False),
        sa.Column("quantities", Json, nullable=False),
        sa.Column("time", Json),
        sa.Column("extractor", sa.String(100), nullable=False),
        sa.Column("model", sa.String(200)),
        sa.Column("prompt_version", sa.String(100)),
        sa.Column("created_at", Stamp, nullable=False),
        sa.CheckConstraint("span_start >= 0 AND span_end > span_start", name="ck_claims_span"),
    )
    op.create_index("ix_claims_article_id", "claims", ["article_id"])
    op.create_table(
        "checks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "article_id",
            sa.Integer,
            sa.ForeignKey("articles.id", ondelete="SET NULL", name="fk_checks_article"),
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("report", Json),
        sa.Column("error", sa.Text),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("finished_at", Stamp),
    )
    op.create_index("ix_checks_article_id", "checks", ["article_id"])
    op.create_index("ix_checks_status", "checks", ["status"])

    statements = SQLITE_FTS if op.get_context().dialect.name == "sqlite" else POSTGRES_FTS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for name in ("claims_fts_insert", "claims_fts_delete", "claims_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS claims_fts")
    op.drop_table("checks")
    op.drop_table("claims")
    op.drop_table("articles")
