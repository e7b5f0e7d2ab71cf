"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and
form one history with one head."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import DefaultClause, Engine, Index, MetaData, String

import bolo.store.models  # noqa: F401
from bolo.store.db import Base, head_revisions


def _same_text_default(
    context: Any,
    inspected: Any,
    column: Any,
    reflected: str | None,
    default: Any,
    rendered: str | None,
) -> bool | None:
    # Alembic's SQLite comparison takes the reflected "('')" for a different default than the
    # models' ''; the same text, once unwrapped, is the same default. Otherwise alembic compares.
    text = (reflected or "").strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    same = reflected is not None and len(text) >= 2 and text[0] == text[-1] == "'"
    return False if same and text[1:-1] == rendered else None


def _drift(engine: Engine, metadata: MetaData) -> list[Any]:
    """What alembic's autogenerate would change to make the database equal ``metadata``:
    tables, columns, types, nullability, server defaults, indexes, unique and foreign-key
    constraints."""
    opts = {"compare_type": True, "compare_server_default": _same_text_default}
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=opts)
        return list(compare_metadata(context, metadata))


def test_models_and_migrations_agree(db_engine: Engine) -> None:
    assert _drift(db_engine, Base.metadata) == []


def test_the_comparison_sees_types_nullability_defaults_and_indexes(db_engine: Engine) -> None:
    # A copy of the models with a type, a nullability, a server default and an index changed:
    # the comparison the test above relies on must report each of them.
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    users = changed.tables["users"]
    users.c.role.type = String(7)
    users.c.post_id.nullable = False
    changed.tables["api_tokens"].c.scope.server_default = DefaultClause("post")
    Index("ix_users_created_at", users.c.created_at)
    kinds = set()
    for entry in _drift(db_engine, changed):
        for change in entry if isinstance(entry, list) else [entry]:
            kinds.add(change[0])
    assert {"modify_type", "modify_nullable", "modify_default", "add_index"} <= kinds, kinds


def test_one_head() -> None:
    # Two heads would make `upgrade heads` apply branches in an order no one chose; a second
    # branch joins the history with a merge revision (alembic merge heads).
    heads = head_revisions()
    assert len(heads) == 1, f"several Alembic heads {heads}: add a merge revision"
