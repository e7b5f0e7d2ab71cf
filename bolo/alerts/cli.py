"""`bolo alert ...`: draft, submit, approve, update, cancel, show, expire."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from bolo.alerts import service, takedown
from bolo.alerts.activation import ActivationRefused, Attestation
from bolo.alerts.model import AlertVersion
from bolo.alerts.schemas import AlertContent, AlertDraft
from bolo.auth.login import require_second_factor
from bolo.cli_support import (
    JSON_OUT,
    acting_user,
    case_id_of,
    emit,
    emit_rows,
    handle_errors,
    print_json,
    read_model,
)
from bolo.errors import InvalidInput
from bolo.store.db import session_scope

app = typer.Typer(
    help="Alerts: drafts, two-person approval, updates, cancel.", no_args_is_help=True
)
AS = Annotated[str, typer.Option("--as", help="Username to act as.")]


def _version(v: AlertVersion) -> dict[str, object]:
    return {
        "alert_id": v.alert_id,
        "version_id": v.id,
        "seq": v.seq,
        "msg_type": v.msg_type,
        "state": v.state,
        "identifier": v.identifier,
        "sha256": v.sha256,
    }


@app.command("draft")
@handle_errors
def draft(
    case: Annotated[str, typer.Argument(help="The case's id or reference.")],
    file: Path,
    as_: AS,
    as_json: JSON_OUT = False,
) -> None:
    """Draft a new alert for a case from JSON (texts, area, target_post_ids, cap_status)."""
    data = read_model(file, AlertDraft)
    with session_scope() as db:
        v = service.draft_alert(
            db, case_id=case_id_of(db, case), data=data, author=acting_user(db, as_)
        )
        emit(as_json, _version(v), f"alert {v.alert_id} version {v.id} drafted; sha256 {v.sha256}")


@app.command("submit")
@handle_errors
def submit(
    version_id: str,
    as_: AS,
    abduction_believed: Annotated[
        bool, typer.Option("--abduction-believed", help="State that an abduction is believed.")
    ] = False,
    risk_of_harm: Annotated[
        bool,
        typer.Option("--risk-of-harm", help="State that the child is at risk of serious harm."),
    ] = False,
    override_reason: Annotated[
        str | None,
        typer.Option(help="Why a live alert that misses an activation criterion should go out."),
    ] = None,
    as_json: JSON_OUT = False,
) -> None:
    """Submit a draft version for approval (a live alert passes the activation gate first)."""
    attestation = Attestation(
        abduction_believed=abduction_believed,
        risk_of_harm=risk_of_harm,
        override_reason=override_reason,
    )
    with session_scope() as db:
        try:
            v = service.submit_for_approval(
                db, version_id=version_id, author=acting_user(db, as_), attestation=attestation
            )
        except ActivationRefused as exc:
            raise InvalidInput(exc.for_cli()) from exc
        overridden = bool(v.activation and v.activation.get("override_reason"))
        note = (
            "; activation criteria not met, overridden: "
            + "; ".join((v.activation or {}).get("missing", []))
            if overridden
            else ""
        )
        emit(
            as_json,
            {**_version(v), "activation": v.activation},
            f"version {v.id} pending approval; sha256 {v.sha256}{note}",
        )


@app.command("reject")
@handle_errors
def reject(
    version_id: str,
    reason: Annotated[str, typer.Option(help="Why (the author reads it).")],
    as_: AS,
    as_json: JSON_OUT = False,
) -> None:
    """Send a version waiting for approval back to its author as a draft."""
    with session_scope() as db:
        v = service.reject(db, version_id=version_id, reason=reason, approver=acting_user(db, as_))
        emit(
            as_json,
            {**_version(v), "rejection_reason": v.rejection_reason},
            f"version {v.id} rejected: back to its author as a draft",
        )


@app.command("approve")
@handle_errors
def approve(
    version_id: str,
    sha256: Annotated[str, typer.Option(help="SHA-256 you reviewed.")],
    as_: AS,
    code: Annotated[
        str | None,
        typer.Option(help="The approver's one-time code (needed once they enrolled one)."),
    ] = None,
    as_json: JSON_OUT = False,
) -> None:
    """Approve (and issue) a version whose CAP content has this SHA-256."""
    with session_scope() as db:
        approver = acting_user(db, as_)
        require_second_factor(db, user=approver, totp_code=code)
        v = service.approve(db, version_id=version_id, sha256=sha256, approver=approver)
        emit(as_json, _version(v), f"version {v.id} approved and issued as {v.identifier}")


@app.command("update")
@handle_errors
def update(alert_id: str, file: Path, as_: AS, as_json: JSON_OUT = False) -> None:
    """Draft an Update of an active alert from JSON."""
    data = read_model(file, AlertContent)
    with session_scope() as db:
        v = service.update_alert(db, alert_id=alert_id, content=data, author=acting_user(db, as_))
        emit(as_json, _version(v), f"update version {v.id} drafted; sha256 {v.sha256}")


@app.command("cancel")
@handle_errors
def cancel(
    alert_id: str, reason: Annotated[str, typer.Option()], as_: AS, as_json: JSON_OUT = False
) -> None:
    """Cancel an alert in one step."""
    with session_scope() as db:
        takedown.cancel_alert(db, alert_id=alert_id, reason=reason, actor=acting_user(db, as_))
        alert = service.get_alert(db, alert_id=alert_id)
        emit(as_json, {"alert_id": alert.id, "state": alert.state}, f"alert {alert_id} cancelled")


@app.command("show")
@handle_errors
def show(alert_id: str, as_json: JSON_OUT = False) -> None:
    """List the versions of an alert."""
    with session_scope() as db:
        alert = service.get_alert(db, alert_id=alert_id)
        rows = [
            {**_version(v), "sent": v.sent.isoformat(), "approved_by": v.approved_by_id}
            for v in service.versions_of(db, alert_id=alert_id)
        ]
    if as_json:
        print_json(
            {
                "alert_id": alert.id,
                "case_id": alert.case_id,
                "cap_status": alert.cap_status,
                "state": alert.shown_state,
                "versions": rows,
            }
        )
        return
    emit(False, None, f"alert {alert.id}: {alert.cap_status}, {alert.shown_state}")
    emit_rows(False, rows, ("seq", "msg_type", "state", "identifier", "sent", "approved_by"))


@app.command("cap")
@handle_errors
def cap(version_id: str, as_json: JSON_OUT = False) -> None:
    """Print the CAP XML of a version."""
    with session_scope() as db:
        xml = service.get_version(db, version_id=version_id).cap_xml
    if as_json:
        print_json({"version_id": version_id, "cap_xml": xml})
    else:
        sys.stdout.write(xml + "\n")


@app.command("expire")
@handle_errors
def expire(as_json: JSON_OUT = False) -> None:
    """Move alerts past their expiry time to expired."""
    with session_scope() as db:
        ids = takedown.expire_due(db)
    emit(as_json, {"expired": list(ids)}, f"{len(ids)} alert(s) expired")
