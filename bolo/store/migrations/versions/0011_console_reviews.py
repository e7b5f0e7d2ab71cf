"""alerts: a version keeps the activation gate's record and its last rejection.

Revision ID: 0011_console_reviews
Revises: 0010_dispatchsec_rate_buckets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_console_reviews"
down_revision = "0010_dispatchsec_rate_buckets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default): SQLite and PostgreSQL add them in place.
    op.add_column("alert_versions", sa.Column("activation", sa.JSON(), nullable=True))
    op.add_column("alert_versions", sa.Column("rejected_by_id", sa.String(36), nullable=True))
    op.add_column("alert_versions",
                  sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("alert_versions", sa.Column("rejection_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_versions") as batch:
        for name in ("rejection_reason", "rejected_at", "rejected_by_id", "activation"):
            batch.drop_column(name)
