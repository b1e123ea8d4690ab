"""judgement cache: the judge's answer for one claim–evidence pair, per model and prompt

Revision ID: 0005_judgement_cache
Revises: 0004_extraction_cache
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_judgement_cache"
down_revision: str | None = "0004_extraction_cache"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "judgements",
        # sha256 of the model, prompt version and both sides' text (service.llm.judge_cache)
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("relation", sa.String(20), nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("prompt_version", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("judgements")
