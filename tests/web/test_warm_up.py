"""`bolo serve` warms the search picture in a background thread, never failing the server."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bolo import cli
from bolo.web import pictures


def test_a_failed_warm_up_is_logged_not_raised(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bolo.pictures"):
        thread = pictures.warm_up_in_background("no-such-network")
        thread.join(timeout=60)
    assert not thread.is_alive() and thread.daemon
    assert "warming up the search picture failed" in caplog.text


def test_serve_starts_the_warm_up_before_serving(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(pictures, "warm_up_in_background", lambda: calls.append("warm"))
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: calls.append("serve"))
    result = CliRunner().invoke(cli.app, ["serve", "--no-dispatcher"])
    assert result.exit_code == 0, result.output
    assert calls == ["warm", "serve"]
