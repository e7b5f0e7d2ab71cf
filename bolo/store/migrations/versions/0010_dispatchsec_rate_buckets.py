"""dispatch rate buckets: per-destination token buckets shared by every dispatcher worker

Revision ID: 0010_dispatchsec_rate_buckets
Revises: 0009_auth_accounts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_dispatchsec_rate_buckets"
down_revision = "0009_auth_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dispatch_rate_buckets",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("stamp_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_dispatch_rate_buckets")),
    )


def downgrade() -> None:
    op.drop_table("dispatch_rate_buckets")
