"""users: the language a staff member reads the pages in

Revision ID: 0015_korean_user_language
Revises: 0014_triage_clusters
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_korean_user_language"
down_revision = "0014_triage_clusters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("language", sa.String(length=35), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
