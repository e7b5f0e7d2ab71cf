"""Moving a test database along its migration history (down to an older revision, back up)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from bolo.store.db import MIGRATIONS


def alembic(engine: Engine, verb: str, target: str) -> None:
    """Run alembic ``verb`` ("upgrade" or "downgrade") to revision ``target`` on ``engine``
    (SQLite's foreign keys off meanwhile: batch migrations rebuild tables others refer to)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        with connection.begin():
            config.attributes["connection"] = connection
            getattr(command, verb)(config, target)
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
