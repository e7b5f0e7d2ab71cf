"""Alembic environment: runs on the connection handed over by bolo.store.db.upgrade_database."""

from __future__ import annotations

from alembic import context

import bolo.store.models  # noqa: F401  (register every table)
from bolo.store.db import Base, default_engine

target_metadata = Base.metadata


def run_migrations() -> None:
    """Run migrations on the given connection, or on the configured engine."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    with default_engine().begin() as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            render_as_batch=conn.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
