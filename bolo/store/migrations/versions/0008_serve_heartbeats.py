"""dispatch heartbeats: every dispatcher, NATS worker and relay records when it was last alive

Revision ID: 0008_serve_heartbeats
Revises: 0007_dispatch_attempt_number
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_serve_heartbeats"
down_revision = "0007_dispatch_attempt_number"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dispatch_heartbeats",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_dispatch_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("dispatch_heartbeats")
