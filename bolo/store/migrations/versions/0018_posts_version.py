"""posts_version: a counter the database bumps on every change of a post the search picture
reads (insert, delete, update of its id, kind, name, place, mode, network, node or active
flag; not its heartbeat or channels), so a version of the stored posts is one row to read

Revision ID: 0018_posts_version
Revises: 0017_report_clusters
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_posts_version"
down_revision = "0017_report_clusters"
branch_labels = None
depends_on = None

# The columns of a post the search picture reads (bolo.posts.placing.StoredPost).
PICTURE_COLUMNS = "id, kind, name, lat, lon, mode, network, node, active"
BUMP = "UPDATE posts_version SET version = version + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "posts_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts_version")),
    )
    op.execute("INSERT INTO posts_version (id, version) VALUES (1, 0)")
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION posts_version_bump() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER posts_version_change AFTER INSERT OR DELETE OR UPDATE OF "
            f"{PICTURE_COLUMNS} ON posts FOR EACH STATEMENT EXECUTE FUNCTION posts_version_bump()"
        )
        return
    for name, event in (
        ("insert", "INSERT"),
        ("delete", "DELETE"),
        ("update", f"UPDATE OF {PICTURE_COLUMNS}"),
    ):
        op.execute(
            f"CREATE TRIGGER posts_version_{name} AFTER {event} ON posts BEGIN {BUMP}; END"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER posts_version_change ON posts")
        op.execute("DROP FUNCTION posts_version_bump()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER posts_version_{name}")
    op.drop_table("posts_version")
