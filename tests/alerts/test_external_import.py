"""Other agencies' CAP is stored read-only, de-duplicated, and kept current by Update/Cancel."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from bolo.alerts.external import DatabaseImportStore, ExternalAlert, active_external_alerts
from bolo.cap import model as cap
from bolo.cap.codec import encode
from bolo.cap.imports import Decision, import_message
from bolo.cli import app
from bolo.store.db import session_scope


def _message(identifier: str, msg_type: cap.MsgType, refs: list[cap.Reference]) -> cap.Alert:
    sent = datetime(2026, 11, 1, 8, 0, tzinfo=UTC) + timedelta(minutes=len(refs))
    info = cap.Info(
        categories=[cap.Category.RESCUE],
        event="Child Abduction Emergency",
        urgency=cap.Urgency.IMMEDIATE,
        severity=cap.Severity.SEVERE,
        certainty=cap.Certainty.LIKELY,
        headline=f"Amber {identifier}",
        expires=datetime.now(UTC) + timedelta(days=1),
    )
    return cap.Alert(
        identifier=identifier,
        sender="amber@agency.example",
        sent=sent,
        status=cap.Status.ACTUAL,
        msg_type=msg_type,
        scope=cap.Scope.PUBLIC,
        references=refs,
        infos=[info],
    )


def test_import_dedupes_then_update_supersedes_and_cancel_cancels(sqlite_engine: Engine) -> None:
    store = DatabaseImportStore()
    first = _message("A-1", cap.MsgType.ALERT, [])
    assert import_message(first, encode(first), store=store).decision == Decision.NEW
    assert import_message(first, encode(first), store=store).decision == Decision.DUPLICATE
    ref = cap.Reference(sender=first.sender, identifier=first.identifier, sent=first.sent)
    update = _message("A-2", cap.MsgType.UPDATE, [ref])
    assert import_message(update, encode(update), store=store).decision == Decision.UPDATE
    assert [a.identifier for a in active_external_alerts()] == ["A-2"]
    ref2 = cap.Reference(sender=update.sender, identifier=update.identifier, sent=update.sent)
    cancel = replace(_message("A-3", cap.MsgType.CANCEL, [ref, ref2]))
    assert import_message(cancel, encode(cancel), store=store).decision == Decision.CANCEL
    assert active_external_alerts() == []
    with session_scope(sqlite_engine) as db:
        states = {a.identifier: a.state for a in db.execute(select(ExternalAlert)).scalars()}
    assert states == {"A-1": "cancelled", "A-2": "cancelled", "A-3": "cancelled"}


def test_an_original_arriving_after_its_update_or_cancel_is_not_shown_as_active(
    sqlite_engine: Engine,
) -> None:
    store = DatabaseImportStore()
    first = _message("C-1", cap.MsgType.ALERT, [])
    ref = cap.Reference(sender=first.sender, identifier=first.identifier, sent=first.sent)
    update = _message("C-2", cap.MsgType.UPDATE, [ref])
    assert import_message(update, encode(update), store=store).unknown_references == [ref.key]
    assert import_message(first, encode(first), store=store).decision == Decision.NEW
    assert [a.identifier for a in active_external_alerts()] == ["C-2"]
    other = _message("D-1", cap.MsgType.ALERT, [])
    cancel = _message(
        "D-2",
        cap.MsgType.CANCEL,
        [cap.Reference(sender=other.sender, identifier=other.identifier, sent=other.sent)],
    )
    import_message(cancel, encode(cancel), store=store)
    import_message(other, encode(other), store=store)
    with session_scope(sqlite_engine) as db:
        states = {a.identifier: a.state for a in db.execute(select(ExternalAlert)).scalars()}
    assert states == {"C-1": "superseded", "C-2": "active", "D-1": "cancelled", "D-2": "cancelled"}


def test_cap_import_command_stores_a_file(data_dir: Path, tmp_path: Path) -> None:
    message = _message("B-1", cap.MsgType.ALERT, [])
    path = tmp_path / "b1.xml"
    path.write_bytes(encode(message))
    result = CliRunner().invoke(app, ["cap", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert [a.identifier for a in active_external_alerts()] == ["B-1"]
