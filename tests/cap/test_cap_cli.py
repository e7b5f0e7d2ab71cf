"""`bolo cap ...` through Typer's CliRunner: output lines, exit codes, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bolo.cap.cli import app
from bolo.cap.codec import encode
from tests.cap.factories import cert_pem, key_pem, make_alert, make_cert, make_key

runner = CliRunner()


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_validate_lines_and_exit_codes(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.xml", encode(make_alert()))
    result = runner.invoke(app, ["validate", good])
    assert result.exit_code == 0
    assert result.output == f"{good}: OK\n"
    warn_alert = make_alert()
    warn_alert.infos[0].headline = "x" * 200
    warn = _write(tmp_path, "warn.xml", encode(warn_alert))
    result = runner.invoke(app, ["validate", good, warn])
    assert result.exit_code == 0
    assert (
        f"{warn}: WARN (1 warning)\n  warning /alert/info[1]/headline: 200 characters"
        in result.output
    )
    assert "[headline-length]" in result.output
    bad = _write(tmp_path, "bad.xml", encode(make_alert(identifier="has space")))
    garbage = _write(tmp_path, "garbage.bin", b"%PDF-1.4\n" + bytes(range(256)) * 4)
    result = runner.invoke(app, ["validate", good, bad, garbage])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[1] == f"{bad}: INVALID (1 error, 0 warnings)"
    assert lines[2].startswith("  error /alert/identifier: identifier 'has space'")
    assert lines[3].startswith(f"{garbage}: INVALID")
    assert "not well-formed" in lines[4]
    assert "Traceback" not in result.output


def test_unreadable_input_exits_2(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.xml", encode(make_alert()))
    bad = _write(tmp_path, "bad.xml", encode(make_alert(identifier="has space")))
    result = runner.invoke(app, ["validate", good, bad, str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "cannot read" in result.output
    assert runner.invoke(app, ["validate", str(tmp_path)]).exit_code == 2  # a directory


def test_validate_json_and_strict(tmp_path: Path) -> None:
    warn_alert = make_alert(note="")
    warn = _write(tmp_path, "warn.xml", encode(warn_alert))
    result = runner.invoke(app, ["validate", "--json", warn])
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["valid"] is True and report["errors"] == []
    assert report["warnings"] == [
        {"path": "/alert/note", "rule": "empty-element", "message": "note is present but empty"}
    ]
    strict = runner.invoke(app, ["validate", "--json", "--strict", warn])
    assert strict.exit_code == 1
    report = json.loads(strict.output)
    assert report["valid"] is False and report["warnings"] == []
    assert [e["rule"] for e in report["errors"]] == ["empty-element"]
    good = _write(tmp_path, "good.xml", encode(make_alert()))
    assert runner.invoke(app, ["validate", "--strict", good]).exit_code == 0
    both = json.loads(runner.invoke(app, ["validate", "--json", good, warn]).output)
    assert [r["file"] for r in both] == [good, warn]


def test_validate_profile_and_usage_errors(tmp_path: Path) -> None:
    plain = make_alert(codes=[])
    path = _write(tmp_path, "a.xml", encode(plain))
    result = runner.invoke(app, ["validate", "--profile", "ipaws", path])
    assert result.exit_code == 1
    assert "IPAWS requires <code>IPAWSv1.0</code>" in result.output
    assert runner.invoke(app, ["validate", "--profile", "nope", path]).exit_code == 2
    assert runner.invoke(app, ["validate"]).exit_code == 2
    assert runner.invoke(app, ["validate", "--max-bytes", "10", path]).exit_code == 1


def test_convert_to_json(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.xml", encode(make_alert()))
    result = runner.invoke(app, ["convert", path, "--to", "json"])
    assert result.exit_code == 0
    assert '"sent": "2026-04-01T08:00:00+09:00"' in result.output
    assert '"msg_type": "Alert"' in result.output
    bad = _write(tmp_path, "b.xml", b"<alert/>")
    assert runner.invoke(app, ["convert", bad, "--to", "json"]).exit_code == 1


def test_sign_and_verify(tmp_path: Path) -> None:
    key = make_key()
    cert = make_cert(key)
    other = make_cert(make_key(), name="other")
    key_file = _write(tmp_path, "key.pem", key_pem(key))
    cert_file = _write(tmp_path, "cert.pem", cert_pem(cert))
    other_file = _write(tmp_path, "other.pem", cert_pem(other))
    alert = _write(tmp_path, "a.xml", encode(make_alert()))
    signed = str(tmp_path / "signed.xml")
    result = runner.invoke(
        app, ["sign", alert, "--key", key_file, "--cert", cert_file, "-o", signed]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["verify", signed, "--cert", cert_file])
    assert result.exit_code == 0
    assert "VERIFIED: signed by CN=bolo-test" in result.output
    result = runner.invoke(app, ["verify", signed, "--cert", other_file])
    assert result.exit_code == 1
    assert "NOT VERIFIED" in result.output
    assert runner.invoke(app, ["verify", signed]).exit_code == 2
    assert runner.invoke(app, ["verify", alert, "--cert", cert_file]).exit_code == 1


def test_import_dry_run_and_ssrf_refusal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without a registered store (bolo.cli registers the database one) import is a dry run.
    monkeypatch.setattr("bolo.cap.cli._import_store", None)
    path = _write(tmp_path, "a.xml", encode(make_alert()))
    result = runner.invoke(app, ["import", path])
    assert result.exit_code == 0
    assert "new" in result.output
    result = runner.invoke(app, ["import", "http://127.0.0.1:9/x.cap"])
    assert result.exit_code == 1
    assert "non-public" in result.output
