"""leases: at most one process at a time does a named job (the triage clustering worker)

Revision ID: 0016_leases
Revises: 0015_korean_user_language
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_leases"
down_revision = "0015_korean_user_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
