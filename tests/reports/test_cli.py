"""`bolo report ...` through Typer's CliRunner: add, list, queue, triage, evidence, geocode."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from typer.testing import CliRunner

from bolo.clock import now
from bolo.reports.cli import app
from bolo.store.db import session_scope
from tests.reports.factories import KILJU, coordinator, post, songchon_case

runner = CliRunner()


def test_cli_round_trip(sqlite_engine: Engine) -> None:
    with session_scope() as s:
        case = songchon_case(s, coordinator(s), hours_ago=12)
        guard = post(s, "kilju-guard", *KILJU)
        case_id = case.id
    at = (now() - timedelta(hours=3)).replace(microsecond=0)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S%z")
    until = (at + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S%z")
    r = runner.invoke(
        app,
        [
            "add",
            "tip",
            "--case",
            case_id,
            "--text",
            "couple with a boy",
            "--place",
            "Gilju",
            "--at",
            stamp,
        ],
    )
    assert r.exit_code == 0, r.output
    receipt = r.output.split()[2]
    r = runner.invoke(
        app,
        [
            "add",
            "search",
            "--case",
            case_id,
            "--post",
            guard,
            "--text",
            "all buses",
            "--at",
            stamp,
            "--until",
            until,
            "--as",
            "coord",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "couple with a boy" in runner.invoke(app, ["queue", "--case", case_id]).output
    r = runner.invoke(
        app, ["triage", receipt, "--state", "credible", "--reason", "plausible", "--as", "coord"]
    )
    assert r.exit_code == 0 and "credible" in r.output
    r = runner.invoke(app, ["triage", receipt, "--state", "new", "--reason", "x", "--as", "coord"])
    assert r.exit_code == 1 and "cannot become new" in r.output
    r = runner.invoke(app, ["evidence", "--case", case_id])
    assert r.exit_code == 0 and '"kind": "search"' in r.output and '"sighting"' in r.output
    assert receipt in runner.invoke(app, ["list", "--case", case_id]).output


def test_cli_errors_are_messages_not_tracebacks(sqlite_engine: Engine) -> None:
    r = runner.invoke(
        app, ["add", "sighting", "--case", "x", "--text", "abc", "--at", "2026-04-01T10:00:00+0900"]
    )
    assert r.exit_code == 1 and "needs --post" in r.output and "Traceback" not in r.output
    r = runner.invoke(
        app,
        [
            "add",
            "tip",
            "--case",
            "nope",
            "--text",
            "abc def",
            "--place",
            "Kilju",
            "--at",
            "2026-04-01T10:00:00",
        ],
    )
    assert r.exit_code != 0 and "Traceback" not in r.output
    r = runner.invoke(app, ["geocode", "Kilchu"])
    assert r.exit_code == 0 and "Kilju" in r.output
    assert runner.invoke(app, ["geocode", "Atlantis"]).exit_code == 1
