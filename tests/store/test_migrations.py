"""The migrations create exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

import bolo.store.models  # noqa: F401
from bolo.store.db import Base


def test_models_and_migrations_agree(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        context = MigrationContext.configure(conn)
        diff = compare_metadata(context, Base.metadata)
    tables = [d for d in diff if d[0] in ("add_table", "remove_table")]
    columns = [d for d in diff if isinstance(d, tuple) and d[0] in ("add_column", "remove_column")]
    assert tables == [] and columns == [], diff
