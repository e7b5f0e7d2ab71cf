"""posts: the language a post reads (BCP 47 tag), from the organisation's posts list

Revision ID: 0012_posts_language
Revises: 0011_console_reviews
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_posts_language"
down_revision = "0011_console_reviews"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("language", sa.String(length=35), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("language")
