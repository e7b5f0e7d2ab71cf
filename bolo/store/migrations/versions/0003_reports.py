"""reports: tips, sightings, search reports; tipster contacts kept apart

Revision ID: 0003_reports
Revises: 0001_spine
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_reports"
down_revision = "0001_spine"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("receipt", sa.String(length=16), nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("post_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("place_resolved", sa.String(length=200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.Column("how_located", sa.String(length=16), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("detection_probability", sa.Float(), nullable=True),
        sa.Column("intercepted", sa.Boolean(), nullable=False),
        sa.Column("credibility", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("cluster_id", sa.String(length=36), nullable=True),
        sa.Column("photo_path", sa.String(length=300), nullable=True),
        sa.Column("photo_lat", sa.Float(), nullable=True),
        sa.Column("photo_lon", sa.Float(), nullable=True),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_reports_case_id_cases")),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_reports_post_id_posts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("receipt", name=op.f("uq_reports_receipt")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_reports_dedupe_key")),
    )
    op.create_index("ix_reports_case_state", "reports", ["case_id", "state"])
    op.create_index("ix_reports_state_seen", "reports", ["state", "seen_at"])
    op.create_index(op.f("ix_reports_cluster_id"), "reports", ["cluster_id"])
    op.create_table(
        "report_contacts",
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], ondelete="CASCADE",
                                name=op.f("fk_report_contacts_report_id_reports")),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_report_contacts")),
    )


def downgrade() -> None:
    op.drop_table("report_contacts")
    op.drop_index(op.f("ix_reports_cluster_id"), table_name="reports")
    op.drop_index("ix_reports_state_seen", table_name="reports")
    op.drop_index("ix_reports_case_state", table_name="reports")
    op.drop_table("reports")
