"""CLI errors a newcomer meets first say what to do next, on one line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bolo.cli import app


def test_a_database_never_migrated_says_to_run_db_upgrade(data_dir: Path) -> None:
    """A fresh BOLO_DATA_DIR (or a terminal without the exercise's settings): not 'database
    error: no such table: users', but where bolo looked and what to run."""
    result = CliRunner().invoke(app, ["user", "list"], env={"COLUMNS": "80"})
    assert result.exit_code == 1
    assert "no such table" not in result.output
    assert "has no bolo tables: run 'bolo db upgrade' once" in result.output
    assert str(data_dir) in result.output.replace("\n", "")


def test_an_error_stays_on_one_line_in_a_narrow_terminal(data_dir: Path) -> None:
    result = CliRunner().invoke(
        app, ["post", "import", "-", "--network", "nothere"], input="id,kind,lat,lon\n"
    )
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if "no network named" in x)
    assert "bolo network import FILE.osm.pbf --name nothere" in line


def test_an_unknown_acting_user_says_where_to_look(data_dir: Path) -> None:
    """The guide's `--as admin` with an admin named otherwise: the error names --as and the
    command that lists the users."""
    assert CliRunner().invoke(app, ["user", "add", "root", "admin"]).exit_code == 0
    for argv in (
        ["user", "add", "ana", "viewer", "--as", "admin"],
        ["case", "close", "C-20260101-AAAAAA", "--as", "admin"],
    ):
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 1, result.output
        assert "no user named 'admin' to act as (--as): 'bolo user list'" in result.output
