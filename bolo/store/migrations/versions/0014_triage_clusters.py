"""reports: stored clustering keys (trigrams, their count, h3 cell) and neighbour indexes.

Every existing report is queued for the clustering worker again (cluster_id NULL): it computes
the keys once and clusters against stored neighbours.

Revision ID: 0014_triage_clusters
Revises: 0013_cap_external_links
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_triage_clusters"
down_revision = "0013_cap_external_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("text_key", sa.Text(), nullable=True))
        batch.add_column(sa.Column("key_size", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("cell", sa.String(length=16), nullable=True))
    op.create_index("ix_reports_case_cell_seen", "reports", ["case_id", "cell", "seen_at"])
    op.create_index("ix_reports_case_seen", "reports", ["case_id", "seen_at"])
    op.execute(sa.text("UPDATE reports SET cluster_id = NULL"))


def downgrade() -> None:
    op.drop_index("ix_reports_case_seen", table_name="reports")
    op.drop_index("ix_reports_case_cell_seen", table_name="reports")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("cell")
        batch.drop_column("key_size")
        batch.drop_column("text_key")
