"""`bolo db upgrade` says whether it migrated; CLI messages are not broken at 80 columns."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bolo.cli import app


def test_upgrade_says_whether_it_migrated(data_dir: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("migrated to ")
    again = runner.invoke(app, ["db", "upgrade", "--json"])
    assert again.exit_code == 0, again.output
    answer = json.loads(again.output)
    assert answer["migrated"] is False and len(answer["revisions"]) == 1


def test_a_long_message_stays_on_one_line(data_dir: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    purged = runner.invoke(app, ["security", "purge-due", "--days", "0"])
    assert purged.exit_code == 0, purged.output
    first = purged.output.splitlines()[0]
    assert first.startswith("purged ") and first.endswith("old failed login(s)"), purged.output
