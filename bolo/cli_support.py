"""Shared pieces of the command line: error handling, JSON input, acting users."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from bolo.auth.model import User
from bolo.auth.service import user_by_name
from bolo.errors import BoloError, NotFound
from bolo.network.errors import NetworkError
from bolo.security.jsonparse import load_json
from bolo.settings import get_settings

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)
# Messages reach pipes and logs whole: not broken at 80 columns when stdout is no terminal.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` on stderr and return the Exit to raise."""
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(x) for x in error.get("loc", ())) or "input"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn domain, validation and database errors into a message and exit 1 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except BoloError as exc:
            raise fail(exc.message) from None
        except NetworkError as exc:
            raise fail(str(exc)) from None
        except ValidationError as exc:
            raise fail(_validation_message(exc)) from None
        except IntegrityError as exc:
            raise fail(f"conflicts with existing data: {exc.orig}") from None
        except (OperationalError, ProgrammingError) as exc:
            raise fail(database_message(exc)) from None

    return wrapper


# What SQLite and PostgreSQL (psycopg's UndefinedTable) say about a table that is not there.
_NO_TABLE = ("no such table", "undefinedtable")


def database_message(exc: OperationalError | ProgrammingError) -> str:
    """What a database error means to the person at the terminal: a database bolo never
    migrated (a fresh BOLO_DATA_DIR, or a terminal without the settings) says where it looked
    and what to run; any other error is said as the database said it."""
    said = str(exc.orig)
    if any(sign in f"{type(exc.orig).__name__} {said}".lower() for sign in _NO_TABLE):
        url = make_url(get_settings().effective_database_url).render_as_string(hide_password=True)
        return (
            f"the database {url} has no bolo tables: run 'bolo db upgrade' once, or set "
            "BOLO_DATA_DIR (or BOLO_DATABASE_URL) to the installation you meant"
        )
    return f"database error: {said}"


def read_model(path: Path, model: type[M]) -> M:
    """Read a JSON file (``-`` for stdin) into a pydantic model, with a clear error."""
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from None
    try:
        data: Any = load_json(raw)
    except json.JSONDecodeError as exc:
        raise fail(f"{path} is not JSON: {exc.msg} at line {exc.lineno}") from None
    except UnicodeDecodeError as exc:
        raise fail(f"{path} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
    except ValueError as exc:  # nested too deeply for the parser
        raise fail(f"{path} is not readable JSON: {exc}") from None
    return model.model_validate(data)


def acting_user(session: Session, username: str) -> User:
    """The user the command acts as (the CLI is a trusted local tool; audit names the user).
    An unknown name is refused with where to look (`--as` names an existing account)."""
    try:
        return user_by_name(session, username=username)
    except NotFound:
        raise NotFound(
            f"no user named {username!r} to act as (--as): 'bolo user list' shows the users "
            "of this database"
        ) from None


def print_json(data: Any) -> None:
    """Print JSON on stdout (no colour codes, so it pipes)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


JSON_OUT = Annotated[bool, typer.Option("--json", help="Print the result as one JSON document.")]
# For the commands whose result is JSON already: --json is accepted, so scripts can pass it to
# every command alike.
ALWAYS_JSON = Annotated[bool, typer.Option("--json", help="Print JSON (this command always does).")]


def emit(as_json: bool, data: Any, text: str) -> None:
    """Print the result: ``data`` as JSON with --json, else ``text`` for a person."""
    if as_json:
        print_json(data)
    else:
        console.print(text, highlight=False)


def emit_rows(as_json: bool, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """Print rows: a JSON list of objects with --json, else a table of ``columns``."""
    if as_json:
        print_json(list(rows))
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row[c]) for c in columns))
    console.print(table)


def case_id_of(session: Session, case: str) -> str:
    """The id of the case named by its id or its reference (C-YYYYMMDD-XXXXXX); NotFound."""
    from bolo.cases.service import get_case

    return get_case(session, case_id=case, reader=None).id
