"""`bolo audit verify`."""

from __future__ import annotations

import typer

from bolo.audit.service import verify as verify_chain
from bolo.cli_support import JSON_OUT, emit, fail, handle_errors
from bolo.store.db import session_scope

app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@app.command("verify")
@handle_errors
def verify(as_json: JSON_OUT = False) -> None:
    """Walk every link of the chain; exit 1 and name the first bad entry when broken."""
    with session_scope() as db:
        report = verify_chain(db)
    if not report.ok:
        raise fail(f"audit chain broken at entry index {report.first_bad}: {report.reason}")
    emit(
        as_json,
        {"ok": True, "entries": report.entries},
        f"audit chain ok: {report.entries} entries",
    )
