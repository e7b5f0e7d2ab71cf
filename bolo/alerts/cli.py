"""`bolo alert ...`: draft, submit, approve, update, cancel, show, expire."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bolo.alerts import ending, service
from bolo.alerts.schemas import AlertContent, AlertDraft
from bolo.auth.login import require_second_factor
from bolo.cli_support import acting_user, console, handle_errors, read_model
from bolo.store.db import session_scope

app = typer.Typer(help="Alerts: drafts, two-person approval, updates, cancel.",
                  no_args_is_help=True)
AS = Annotated[str, typer.Option("--as", help="Username to act as.")]


@app.command("draft")
@handle_errors
def draft(case_id: str, file: Path, as_: AS) -> None:
    """Draft a new alert for a case from JSON (texts, area, target_post_ids, cap_status)."""
    data = read_model(file, AlertDraft)
    with session_scope() as db:
        v = service.draft_alert(db, case_id=case_id, data=data, author=acting_user(db, as_))
        console.print(f"alert {v.alert_id} version {v.id} drafted; sha256 {v.sha256}")


@app.command("submit")
@handle_errors
def submit(version_id: str, as_: AS) -> None:
    """Submit a draft version for approval."""
    with session_scope() as db:
        v = service.submit_for_approval(db, version_id=version_id, author=acting_user(db, as_))
        console.print(f"version {v.id} pending approval; sha256 {v.sha256}")


@app.command("approve")
@handle_errors
def approve(version_id: str, sha256: Annotated[str, typer.Option(help="SHA-256 you reviewed.")],
            as_: AS, code: Annotated[str | None, typer.Option(
                help="The approver's one-time code (needed once they enrolled one).")] = None,
            ) -> None:
    """Approve (and issue) a version whose CAP content has this SHA-256."""
    with session_scope() as db:
        approver = acting_user(db, as_)
        require_second_factor(db, user=approver, totp_code=code)
        v = service.approve(db, version_id=version_id, sha256=sha256, approver=approver)
        console.print(f"version {v.id} approved and issued as {v.identifier}")


@app.command("update")
@handle_errors
def update(alert_id: str, file: Path, as_: AS) -> None:
    """Draft an Update of an active alert from JSON."""
    data = read_model(file, AlertContent)
    with session_scope() as db:
        v = service.update_alert(db, alert_id=alert_id, content=data, author=acting_user(db, as_))
        console.print(f"update version {v.id} drafted; sha256 {v.sha256}")


@app.command("cancel")
@handle_errors
def cancel(alert_id: str, reason: Annotated[str, typer.Option()], as_: AS) -> None:
    """Cancel an alert in one step."""
    with session_scope() as db:
        ending.cancel_alert(db, alert_id=alert_id, reason=reason, actor=acting_user(db, as_))
    console.print(f"alert {alert_id} cancelled")


@app.command("show")
@handle_errors
def show(alert_id: str) -> None:
    """List the versions of an alert."""
    table = Table("seq", "type", "state", "identifier", "sent", "approved by")
    with session_scope() as db:
        alert = service.get_alert(db, alert_id=alert_id)
        console.print(f"alert {alert.id}: {alert.cap_status}, {alert.state}")
        for v in service.versions_of(db, alert_id=alert_id):
            table.add_row(str(v.seq), v.msg_type, v.state, v.identifier, v.sent.isoformat(),
                          v.approved_by_id or "")
    console.print(table)


@app.command("cap")
@handle_errors
def cap(version_id: str) -> None:
    """Print the CAP XML of a version."""
    with session_scope() as db:
        sys.stdout.write(service.get_version(db, version_id=version_id).cap_xml + "\n")


@app.command("expire")
@handle_errors
def expire() -> None:
    """Move alerts past their expiry time to expired."""
    with session_scope() as db:
        ids = ending.expire_due(db)
    console.print(f"{len(ids)} alert(s) expired")
