"""dispatch: one attempt row per (delivery, number); a batch recorded twice adds nothing.
Cancels' standby channels are retired where the Cancel is recorded, so retire once here what
the old periodic step had not reached yet.

Revision ID: 0007_dispatch_attempt_number
Revises: 0002_dispatch
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_dispatch_attempt_number"
down_revision = "0002_dispatch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A batch recorded twice (a retried record after its commit) left the same attempt twice:
    # keep the first row of each (delivery, number), so the unique index can be built.
    op.execute(sa.text(
        "DELETE FROM dispatch_attempts WHERE id NOT IN "
        "(SELECT MIN(id) FROM dispatch_attempts GROUP BY delivery_id, number)"))
    # A unique index rather than a table constraint: SQLite builds it in place instead of
    # copying the whole attempts table, and ON CONFLICT (delivery_id, number) uses it on both.
    # It leads with delivery_id, so it also serves what the delivery_id index served.
    op.create_index("uq_dispatch_attempts_delivery_number", "dispatch_attempts",
                    ["delivery_id", "number"], unique=True)
    op.drop_index(op.f("ix_dispatch_attempts_delivery_id"), table_name="dispatch_attempts")
    # Until now each escalation round retired the standby channels of Cancels that reached
    # their post; from now on the recording does. Do once what the last rounds left undone.
    op.execute(sa.text(
        "UPDATE dispatch_deliveries SET phase = 'stopped', next_attempt_at = NULL, "
        "last_error = 'stopped: the Cancel reached the post' "
        "WHERE phase = 'standby' AND status = 'pending' "
        "AND version_id IN (SELECT id FROM alert_versions WHERE msg_type = 'Cancel') "
        "AND EXISTS (SELECT 1 FROM dispatch_deliveries AS r "
        "WHERE r.version_id = dispatch_deliveries.version_id "
        "AND r.post_id = dispatch_deliveries.post_id AND r.status IN ('delivered', 'sent'))"))


def downgrade() -> None:
    op.create_index(op.f("ix_dispatch_attempts_delivery_id"), "dispatch_attempts",
                    ["delivery_id"], unique=False)
    op.drop_index("uq_dispatch_attempts_delivery_number", table_name="dispatch_attempts")
