"""case photos: a child's photo uploaded with the report, purged with the case

Revision ID: 0006_case_photos
Revises: 0001_spine
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_case_photos"
down_revision = "0001_spine"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_photos",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("child_index", sa.Integer(), nullable=False),
        sa.Column("mime_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_photos_case_id", "case_photos", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_photos_case_id", table_name="case_photos")
    op.drop_table("case_photos")
