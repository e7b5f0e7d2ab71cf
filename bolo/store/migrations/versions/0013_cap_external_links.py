"""external alerts: scope, sender name and event kept for the console; a link to a case

Revision ID: 0013_cap_external_links
Revises: 0012_posts_language
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_cap_external_links"
down_revision = "0012_posts_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("external_alerts") as batch:
        batch.add_column(sa.Column("scope", sa.String(length=16), nullable=False,
                                   server_default="Public"))
        batch.add_column(sa.Column("sender_name", sa.String(length=255), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("event", sa.String(length=255), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("case_id", sa.String(length=36), nullable=True))
        batch.create_index("ix_external_alerts_state", ["state"])


def downgrade() -> None:
    with op.batch_alter_table("external_alerts") as batch:
        batch.drop_index("ix_external_alerts_state")
        batch.drop_column("case_id")
        batch.drop_column("event")
        batch.drop_column("sender_name")
        batch.drop_column("scope")
