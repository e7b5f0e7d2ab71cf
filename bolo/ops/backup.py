"""Backups of bolo's database: SQLite through its online backup API (a consistent copy while
the server runs), PostgreSQL through ``pg_dump`` / ``pg_restore`` (custom format, the
database's current schema only). A restore checks the file first, replaces the whole
database, and migrates it to this code's revisions."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from bolo.errors import InvalidInput

PG_TIMEOUT_S = 3600.0


class BackupError(InvalidInput):
    """A backup or restore could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    """What a backup or restore covered: the database kind and rows per table."""

    kind: str
    file: str
    rows: dict[str, int]


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table of the database (Alembic's own table left out)."""
    with engine.connect() as connection:
        names = sorted(n for n in inspect(connection).get_table_names() if n != "alembic_version")
        return {
            n: int(connection.execute(text(f'SELECT COUNT(*) FROM "{n}"')).scalar_one())
            for n in names
        }


def backup(engine: Engine, file: Path) -> Summary:
    """Write a consistent copy of the database to ``file`` (replaced atomically)."""
    if engine.dialect.name == "sqlite":
        _sqlite_backup(_sqlite_path(engine), file)
    else:
        _pg_backup(engine, file)
    return Summary(engine.dialect.name, str(file), table_counts(engine))


def restore(engine: Engine, file: Path) -> Summary:
    """Replace the database's contents with the backup in ``file``, then migrate it to this
    code's revisions. Stop `bolo serve` and the dispatchers first: they would keep writing."""
    from bolo.store.db import upgrade_database

    if not file.is_file():
        raise BackupError(f"no backup file {file}")
    if engine.dialect.name == "sqlite":
        _sqlite_restore(file, _sqlite_path(engine))
    else:
        _pg_restore(engine, file)
    engine.dispose()  # connections opened before the restore may hold old pages
    upgrade_database(engine)
    return Summary(engine.dialect.name, str(file), table_counts(engine))


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def _sqlite_backup(source: Path, file: Path) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    partial = file.with_name(file.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)  # page by page, consistent even while others write
    finally:
        dst.close()
        src.close()
    os.replace(partial, file)


def _check_sqlite_backup(file: Path) -> None:
    try:
        with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as conn:
            if conn.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise BackupError(f"{file} is a damaged SQLite file")
            revisions = {r for (r,) in conn.execute("SELECT version_num FROM alembic_version")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{file} is not a bolo SQLite backup ({exc})") from None
    _check_revisions(file, revisions)


def _check_revisions(file: Path, revisions: set[str]) -> None:
    from alembic.script import ScriptDirectory

    from bolo.store.db import MIGRATIONS

    known = {s.revision for s in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
    unknown = revisions - known
    if not revisions or unknown:
        raise BackupError(
            f"{file} was made by a newer or different bolo (migrations "
            f"{sorted(unknown) or 'none'} are unknown here); restore it with "
            "the bolo version that made it"
        )


def _sqlite_restore(file: Path, target: Path) -> None:
    _check_sqlite_backup(file)
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)  # replaces every page of the live database in one step
    finally:
        dst.close()
        src.close()


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools "
            "(e.g. apt-get install postgresql-client) matching the server"
        )
    return found


def _pg_target(engine: Engine) -> tuple[str, str, dict[str, str]]:
    """(connection URI without password, current schema, environment with PGPASSWORD)."""
    url = make_url(str(engine.url.render_as_string(hide_password=False)))
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    with engine.connect() as connection:
        schema = str(connection.execute(text("SELECT current_schema()")).scalar_one())
    return uri, schema, env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=PG_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()[:2000]}")


def _pg_backup(engine: Engine, file: Path) -> None:
    uri, schema, env = _pg_target(engine)
    file.parent.mkdir(parents=True, exist_ok=True)
    partial = file.with_name(file.name + ".partial")
    _run(
        [
            _pg_tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--schema={schema}",
            f"--file={partial}",
            f"--dbname={uri}",
        ],
        env,
    )
    os.replace(partial, file)


# The schema's own functions (the triggers' bodies), not those an extension brought.
_FUNCTIONS = text(
    "SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p "
    "JOIN pg_namespace n ON n.oid = p.pronamespace "
    "WHERE n.nspname = :schema AND NOT EXISTS (SELECT 1 FROM pg_depend d "
    "WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')"
)


def _pg_drops(engine: Engine, schema: str) -> str:
    """SQL dropping what the backup brings back: the schema's tables and functions (the
    functions too, else the backup's CREATE FUNCTION finds them there and the restore fails)."""
    with engine.connect() as connection:
        tables = inspect(connection).get_table_names(schema=schema)
        functions = connection.execute(_FUNCTIONS, {"schema": schema}).all()
    drops = "".join(f'DROP TABLE IF EXISTS "{schema}"."{t}" CASCADE;\n' for t in tables)
    return drops + "".join(
        f'DROP FUNCTION IF EXISTS "{schema}"."{name}"({args}) CASCADE;\n'
        for name, args in functions
    )


def _pg_restore(engine: Engine, file: Path) -> None:
    uri, schema, env = _pg_target(engine)
    restore = _pg_tool("pg_restore")
    listing = subprocess.run(
        [restore, "--list", str(file)], env=env, capture_output=True, text=True, check=False
    )
    entries = listing.stdout.splitlines() if listing.returncode == 0 else []
    if not any(f" TABLE {schema} alembic_version " in f"{e} " for e in entries):
        raise BackupError(
            f"{file} is not a bolo PostgreSQL backup of schema {schema!r} "
            "(made by `bolo db backup` on this database)"
        )
    # The schema itself exists already: restore what is in it.
    keep = file.with_name(file.name + ".list")
    keep.write_text("\n".join(e for e in entries if " SCHEMA - " not in e), encoding="utf-8")
    try:
        script = subprocess.run(
            [restore, "--no-owner", "--no-privileges", f"--use-list={keep}", "--file=-", str(file)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        keep.unlink(missing_ok=True)
    if script.returncode != 0:
        raise BackupError(f"pg_restore failed: {script.stderr.strip()[:2000]}")
    drops = _pg_drops(engine, schema)
    # One psql transaction drops the current tables and loads the backup: a restore that
    # fails half-way leaves the database as it was.
    done = subprocess.run(
        [
            _pg_tool("psql"),
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            f"--dbname={uri}",
        ],
        input=drops + script.stdout,
        env=env,
        capture_output=True,
        text=True,
        timeout=PG_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(
            f"restore failed, the database is unchanged: {done.stderr.strip()[:2000]}"
        )
