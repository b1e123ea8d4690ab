"""extraction cache: the grounded claims of a text, per extractor, model and prompt version

Revision ID: 0004_extraction_cache
Revises: 0003_jobs
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004_extraction_cache"
down_revision: str | None = "0003_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "extractions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("extractor", sa.String(100), nullable=False),
        # '' rather than NULL for "none", so the unique key also holds for the offline extractor
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("prompt_version", sa.String(100), nullable=False),
        sa.Column("claims", Json, nullable=False),
        sa.Column("dropped", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "content_hash", "extractor", "model", "prompt_version", name="uq_extractions_key"
        ),
    )


def downgrade() -> None:
    op.drop_table("extractions")
