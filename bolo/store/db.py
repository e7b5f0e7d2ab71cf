"""Engine, sessions and migrations: the same code on SQLite (WAL) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.dml import Insert

from bolo.settings import get_settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
MIGRATIONS = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    """The declarative base of every bolo table."""

    metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the API) and the writer (dispatcher, replay) work at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def normalise_url(url: str) -> str:
    """Map ``postgresql://`` to the psycopg 3 driver; leave other URLs alone."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def engine_for(url: str | None = None, *, schema: str | None = None) -> Engine:
    """An engine for ``url`` (default: the settings' database), optionally bound to a PG schema."""
    settings = get_settings()
    target = normalise_url(url or settings.effective_database_url)
    if target.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(target, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    return create_engine(target, connect_args=connect_args, pool_pre_ping=True)


_default_engine: Engine | None = None


def default_engine() -> Engine:
    """The process-wide engine for the configured database, created on first use."""
    global _default_engine
    if _default_engine is None:
        _default_engine = engine_for()
    return _default_engine


def set_default_engine(engine: Engine | None) -> None:
    """Use ``engine`` as the process-wide engine (tests, the demo); None forgets it."""
    global _default_engine
    _default_engine = engine


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    factory = sessionmaker(bind=engine or default_engine(), expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def insert_or_ignore(session: Session | Connection, model: type[Base], keys: list[str]) -> Insert:
    """An INSERT into ``model``'s table that does nothing when a row with the same ``keys``
    (a unique or primary key) exists: ``ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL."""
    bind = session if isinstance(session, Connection) else session.connection()
    if bind.dialect.name == postgresql.dialect.name:
        return postgresql.insert(model).on_conflict_do_nothing(index_elements=keys)
    return sqlite.insert(model).on_conflict_do_nothing(index_elements=keys)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revisions() -> set[str]:
    """The revisions this code's migrations end at (one per branch)."""
    return set(ScriptDirectory.from_config(_alembic_config()).get_heads())


def current_revisions(engine: Engine | None = None) -> set[str]:
    """The revisions the database is at (empty when it was never migrated)."""
    with (engine or default_engine()).connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def upgrade_database(engine: Engine | None = None) -> None:
    """Run every Alembic migration up to the heads on ``engine`` (default: the configured one)."""
    config = _alembic_config()
    target = engine or default_engine()
    with target.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
