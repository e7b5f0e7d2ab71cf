"""report_clusters: the triage queue's line per cluster with new reports, kept by the worker

Filled here from the stored clusters: for each cluster its most credible new report and how
many new reports it holds.

Revision ID: 0017_report_clusters
Revises: 0016_leases
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_report_clusters"
down_revision = "0016_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_clusters",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("head_id", sa.String(length=36), nullable=False),
        sa.Column("credibility", sa.Float(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("new_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_clusters")),
    )
    op.create_index(
        "ix_report_clusters_queue",
        "report_clusters",
        ["case_id", "credibility", "seen_at", "head_id"],
    )
    # Every cluster with new reports: its head (most credible, then earliest, then id) and count.
    op.execute(
        sa.text(
            "INSERT INTO report_clusters (id, case_id, head_id, credibility, seen_at, new_count) "
            "SELECT cluster_id, case_id, id, credibility, seen_at, size FROM ("
            " SELECT cluster_id, case_id, id, credibility, seen_at,"
            " row_number() OVER (PARTITION BY cluster_id"
            "  ORDER BY credibility DESC, seen_at, id) AS rank,"
            " count(*) OVER (PARTITION BY cluster_id) AS size"
            " FROM reports WHERE state = 'new' AND cluster_id IS NOT NULL) AS ranked "
            "WHERE rank = 1"
        )
    )


def downgrade() -> None:
    op.drop_index("ix_report_clusters_queue", table_name="report_clusters")
    op.drop_table("report_clusters")
