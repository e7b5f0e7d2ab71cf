"""The systemd units in deploy/ run real bolo commands with options bolo accepts, and the
environment file names only settings bolo reads."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

from bolo.cli import app
from bolo.dispatch.config import DispatchSettings
from bolo.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
BOLO = "/opt/bolo/.venv/bin/bolo"


def _env_file() -> dict[str, str]:
    found = {}
    for line in (DEPLOY / "bolo.env").read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"#?(BOLO_[A-Z_]+)=(.*)", line.strip())
        if match:
            found[match[1]] = match[2]
    return found


@pytest.mark.parametrize("unit", sorted(p.name for p in DEPLOY.glob("*.service")))
def test_unit_runs_a_bolo_command_it_accepts(unit: str) -> None:
    text = (DEPLOY / unit).read_text(encoding="utf-8")
    assert "EnvironmentFile=/etc/bolo/bolo.env" in text
    exec_start = re.search(r"^ExecStart=(.*)$", text, re.MULTILINE)
    assert exec_start is not None
    line = exec_start[1].replace("$BOLO_SERVE_ARGS", _env_file()["BOLO_SERVE_ARGS"])
    args = shlex.split(line.replace("%i", "1").replace("%H", "host"))
    assert args[0] == BOLO
    group = typer.main.get_command(app)
    ctx = group.make_context("bolo", args[1:2], resilient_parsing=False)
    command = group.get_command(ctx, args[1])  # type: ignore[attr-defined]
    command.make_context(args[1], args[2:], parent=ctx)  # parses: an unknown option raises


def test_environment_file_names_real_settings() -> None:
    known = (
        {f"BOLO_{name.upper()}" for name in Settings.model_fields}
        | {f"BOLO_DISPATCH_{name.upper()}" for name in DispatchSettings.model_fields}
        | {"BOLO_SERVE_ARGS"}
    )
    names = set(_env_file())
    assert names and names <= known, names - known
