"""jobs: asynchronous checks are rows of `checks` with a request, attempts, a lease, a
callback and its delivery status, and a unique idempotency key

Revision ID: 0003_jobs
Revises: 0002_api_keys
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003_jobs"
down_revision: str | None = "0002_api_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Stamp = sa.DateTime(timezone=True)

COLUMNS = [
    sa.Column("request", Json),
    sa.Column("request_hash", sa.String(64)),
    sa.Column("idempotency_key", sa.String(255)),
    sa.Column("callback_url", sa.String(2000)),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Stamp),
    sa.Column("locked_by", sa.String(100)),
    sa.Column("locked_at", Stamp),
    sa.Column("delivery_status", sa.String(20)),
    sa.Column("delivery_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("delivery_error", sa.Text),
    sa.Column("delivered_at", Stamp),
]


def upgrade() -> None:
    # Plain ADD COLUMN (nullable or with a default) works on SQLite without a table rebuild.
    for column in COLUMNS:
        op.add_column("checks", column)
    # A unique index, not a constraint: SQLite cannot add constraints to an existing table.
    # NULLs (checks posted without a key) never collide on either backend.
    op.create_index("ix_checks_idempotency_key", "checks", ["idempotency_key"], unique=True)
    # The worker's claim: due queued jobs, and running ones whose lease expired.
    op.create_index("ix_checks_due", "checks", ["status", "next_attempt_at"])
    op.create_index("ix_checks_delivery_status", "checks", ["delivery_status"])


def downgrade() -> None:
    op.drop_index("ix_checks_delivery_status", "checks")
    op.drop_index("ix_checks_due", "checks")
    op.drop_index("ix_checks_idempotency_key", "checks")
    with op.batch_alter_table("checks") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column.name)
