"""The top-level `bolo` command lists every domain but loads the heavy ones only when run."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.core import TyperCommand, TyperGroup
from typer.testing import CliRunner

from bolo.cli import LAZY_COMMANDS, app

HEAVY = ("bolo.search", "bolo.network.travel", "bolo.dispatch", "bolo.reports", "numba", "scipy")
# The search package's own vocabulary (the case and its hint kinds, which bolo.cases shares)
# imports only the standard library; the picture behind it loads on first use.
LIGHT = ("bolo.search", "bolo.search.case")


def test_help_lists_every_command_without_loading_heavy_domains() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from bolo.cli import app\n"
        "out = CliRunner().invoke(app, ['--help'])\n"
        "assert out.exit_code == 0, out.output\n"
        "print(out.output)\n"
        f"print('LOADED', sorted(m for m in sys.modules\n"
        f"    if m.startswith({HEAVY!r}) and m not in {LIGHT!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "200", "PATH": ""},
    )
    for name in LAZY_COMMANDS:
        assert f" {name} " in result.stdout
    assert "LOADED []" in result.stdout


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_listed_help_matches_the_real_command(name: str) -> None:
    short_help, load = LAZY_COMMANDS[name]
    real = load()
    assert isinstance(real, TyperCommand | TyperGroup)
    real_help = " ".join((real.help or "").split())
    assert real_help.startswith(short_help.removesuffix("...").strip())


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["search", "--help"], "rank"),
        (["network", "--help"], "isochrone"),
        (["post-receiver", "--help"], "webhook"),
        (["simulate", "--help"], "--cases"),
    ],
)
def test_lazy_commands_run(argv: list[str], expected: str) -> None:
    result = CliRunner().invoke(app, argv, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert expected in result.output


def test_unknown_command_is_a_clear_error() -> None:
    result = CliRunner().invoke(app, ["serach"])
    assert result.exit_code == 2
    assert "No such command" in result.output


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["post", "--help"], "each snapped to the nearest node of its mode within 2 km; all or"),
        (["user", "--help"], "the first admin of an empty database too; a fresh database is"),
        (["report", "--help"], "as `bolo serve` does. One worker clusters a database at a time"),
    ],
)
def test_listed_helps_are_not_broken_where_the_docstring_wraps(argv: list[str], line: str) -> None:
    result = CliRunner().invoke(app, argv, env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert line in result.output
