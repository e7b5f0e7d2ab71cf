"""auth: who created accounts, set passwords and issued tokens; atomic login throttle

Revision ID: 0009_auth_accounts
Revises: 0003_reports, 0004_auth, 0005_external_alerts, 0006_case_photos,
    0008_serve_heartbeats (joins every branch: the chain is linear from here)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_auth_accounts"
down_revision = ("0003_reports", "0004_auth", "0005_external_alerts", "0006_case_photos",
                 "0008_serve_heartbeats")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("created_by", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("password_set_by", sa.String(length=36), nullable=True))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("issued_by", sa.String(length=36), nullable=True))
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("credential_by", sa.String(length=36), nullable=True))
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    # Failures counted per username let any stranger lock any account; the throttle replaces
    # them (per client, progressive), so the old rows mean nothing any more.
    op.drop_index("ix_login_attempts_username_at", table_name="login_attempts")
    op.drop_table("login_attempts")


def downgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index("ix_login_attempts_username_at", "login_attempts", ["username", "at"])
    op.drop_table("login_throttle")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("credential_by")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("issued_by")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_set_by")
        batch.drop_column("created_by")
