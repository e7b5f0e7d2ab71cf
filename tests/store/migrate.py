"""Moving a test database along its migration history (down to an older revision, back up)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
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


@contextmanager
def sqlite_data_dir(folder: Path, name: str = "test.db") -> Iterator[Engine]:
    """A migrated SQLite database ``folder / name`` with BOLO_DATA_DIR set to ``folder`` and
    the default engine on it, until the block ends: for a fixture wider than one test (the
    function-scoped ``data_dir`` and ``sqlite_engine`` give each test its own)."""
    from bolo.settings import reset_settings
    from bolo.store.db import engine_for, set_default_engine, upgrade_database

    with pytest.MonkeyPatch.context() as env:
        env.setenv("BOLO_DATA_DIR", str(folder))
        env.delenv("BOLO_DATABASE_URL", raising=False)
        reset_settings()
        engine = engine_for(f"sqlite:///{folder / name}")
        upgrade_database(engine)
        set_default_engine(engine)
        try:
            yield engine
        finally:
            set_default_engine(None)
            engine.dispose()
    reset_settings()
