"""`bolo security ...` (and `bolo case purge-due`): the retention purge and the URL guard."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from bolo.cli_support import JSON_OUT, console, emit, handle_errors
from bolo.ops.retention import purge_due
from bolo.security.urls import check_public_url

app = typer.Typer(help="Retention purge and outgoing-URL checks.", no_args_is_help=True)


@app.command("purge-due")
@handle_errors
def purge_due_command(
    days: Annotated[
        int | None, typer.Option(min=0, help="Retention in days (default: BOLO_RETENTION_DAYS).")
    ] = None,
    as_json: JSON_OUT = False,
) -> None:
    """Purge the personal data of every case closed more than the retention period ago."""
    report = purge_due(days=days)
    if as_json:
        emit(True, dataclasses.asdict(report), "")
        return
    console.print(
        f"purged {len(report.cases)} case(s) (their children's photos with them), "
        f"{report.reports} report(s), {report.photos_deleted} report photo file(s), "
        f"{report.external_alerts} imported alert(s); removed "
        f"{report.sessions_deleted} dead session(s), "
        f"{report.login_attempts_deleted} old failed login(s)"
    )
    for case_id in report.cases:
        console.print(f"  {case_id}", highlight=False)


@app.command("check-url")
@handle_errors
def check_url_command(
    url: str,
    allow_private: Annotated[bool, typer.Option(help="Accept private/loopback hosts.")] = False,
    as_json: JSON_OUT = False,
) -> None:
    """Say whether bolo would send to URL (exit 1 with the reason when refused)."""
    addresses = check_public_url(url, allow_private=allow_private)
    found = sorted(set(addresses))
    emit(as_json, {"url": url, "ok": True, "addresses": found}, f"ok: {url} -> {', '.join(found)}")
