"""`bolo db upgrade` says whether it migrated, on stdout apart from any log lines (stderr);
CLI messages are not broken at 80 columns."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from bolo.cli import app
from bolo.ops.logs import setup_logging


@pytest.fixture
def logging_set_up() -> Iterator[None]:
    """Logging configured in this process as `bolo serve` does (alembic's INFO lines on
    stderr), undone afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        setup_logging("console")
        yield
    finally:
        root.handlers, root.level = saved
        structlog.reset_defaults()


def test_upgrade_says_whether_it_migrated(data_dir: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("migrated to ")
    again = runner.invoke(app, ["db", "upgrade", "--json"])
    assert again.exit_code == 0, again.output
    answer = json.loads(again.stdout)
    assert answer["migrated"] is False and len(answer["revisions"]) == 1


def test_upgrade_output_is_apart_from_log_lines(data_dir: Path, logging_set_up: None) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["db", "upgrade", "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["migrated"] is True
    assert "Running upgrade" in first.stderr  # the migrations alembic ran, logged apart
    again = runner.invoke(app, ["db", "upgrade"])
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("already at ") and again.stdout.count("\n") == 1


def test_a_long_message_stays_on_one_line(data_dir: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    purged = runner.invoke(app, ["security", "purge-due", "--days", "0"])
    assert purged.exit_code == 0, purged.output
    first = purged.stdout.splitlines()[0]
    assert first.startswith("purged ") and first.endswith("old failed login(s)"), purged.output
