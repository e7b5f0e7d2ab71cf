"""The reference incident replays end to end and keeps its promises."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bolo.cap.codec import decode
from bolo.cap.schema import schema_errors
from bolo.cli import app


def test_demo_without_serving_writes_valid_cap_and_a_verifying_audit(
    data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    runner = CliRunner()
    result = runner.invoke(app, ["demo", "--no-serve", "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.xml"))
    assert len(files) >= 3
    messages = [decode(f.read_bytes()) for f in files]
    for f in files:
        assert schema_errors(f.read_bytes()) == [], f.name
    assert messages[-1].msg_type == "Cancel"
    assert {r.identifier for r in messages[-1].references} == {m.identifier for m in messages[:-1]}
    assert all(m.infos[0].event_codes[0].value == "CAE" for m in messages)
    verify = runner.invoke(app, ["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    assert "Kilju" in result.output
    printed = " ".join(result.output.split())  # rich wraps lines at the terminal width
    assert "Alert delivered 20/20, acknowledged 19/20, escalated 2" in printed
    assert "Cancel delivered to" in printed and "loopback HTTP receiver" in printed
    assert f"checked: the {len(files)} messages are valid CAP 1.2" in printed
    assert "the audit chain verifies" in printed


def test_cli_errors_are_messages_not_tracebacks(data_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = runner.invoke(app, ["case", "open", str(bad), "--as", "nobody"])
    assert result.exit_code == 1 and "not JSON" in result.output
    assert "Traceback" not in result.output
    missing = runner.invoke(app, ["alert", "cancel", "nope", "--reason", "x", "--as", "nobody"])
    assert missing.exit_code == 1 and "no user" in missing.output


def test_demo_logins_let_the_replay_users_sign_in(data_dir: Path, tmp_path: Path) -> None:
    from bolo.auth.service import authenticate
    from bolo.scenarios.seed_run import demo_logins, run_replay
    from bolo.store.db import session_scope

    run_replay(out=tmp_path / "out", fresh=True)
    logins = demo_logins()
    with session_scope() as db:
        for username, password in logins.items():
            assert authenticate(db, username=username, password=password).username == username
