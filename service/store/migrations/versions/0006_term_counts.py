"""term counts: claims per word stem, so searches ask the index only for rare words

Revision ID: 0006_term_counts
Revises: 0005_judgement_cache
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.store.terms import tally

revision: str = "0006_term_counts"
down_revision: str | None = "0005_judgement_cache"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 10_000


def upgrade() -> None:
    terms = op.create_table(
        "terms",
        sa.Column("term", sa.String(100), primary_key=True),
        sa.Column("claims", sa.Integer, nullable=False),
    )
    # Count the claims already stored, a batch at a time (keyset pagination by id).
    claims = sa.table(
        "claims",
        sa.column("id", sa.Integer),
        sa.column("statement", sa.Text),
        sa.column("quote", sa.Text),
        sa.column("entities", sa.JSON),
    )
    bind = op.get_bind()
    counts = None
    last = 0
    while True:
        rows = bind.execute(
            sa.select(claims).where(claims.c.id > last).order_by(claims.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        batch = tally((r.statement, r.quote, r.entities or []) for r in rows)
        counts = batch if counts is None else counts + batch
    if counts:
        op.bulk_insert(terms, [{"term": t, "claims": n} for t, n in sorted(counts.items())])
    if bind.dialect.name == "postgresql":
        # GIN's fast update parks new entries in a pending list that every search scans
        # linearly until a vacuum merges it (4 MB of it cost a 10k-claim search 4 ms of its
        # 5). Claims arrive a few dozen at a time, so writing them straight into the index
        # costs ingestion little and keeps searches as fast as the index.
        op.execute("ALTER INDEX ix_claims_search SET (fastupdate = off)")
        op.execute("SELECT gin_clean_pending_list('ix_claims_search'::regclass)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_claims_search RESET (fastupdate)")
    op.drop_table("terms")
