"""Bad input and the command line: a case on an unknown network is refused (API 422, CLI exit
1), cases are named by id or reference alike, results print as JSON with --json, --version."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from bolo import __version__
from bolo.api import create_app
from bolo.auth.service import issue_token
from bolo.cli import app as bolo_app
from bolo.store.db import session_scope
from tests.alerts.factories import content, some_posts, staff

runner = CliRunner()


def _case(network: str = "dprk") -> dict[str, Any]:
    seen = datetime.now(UTC) - timedelta(hours=1)
    return {
        "children": [{"name": "Test Child", "age": 8, "description": "red coat"}],
        "vehicles": [{"description": "grey truck"}],
        "network": network,
        "last_known": {
            "place": "Songchon",
            "lat": 39.2068,
            "lon": 126.2039,
            "time_earliest": (seen - timedelta(hours=1)).isoformat(),
            "time_latest": seen.isoformat(),
        },
    }


def _bolo(*args: str) -> Any:
    """Run ``bolo ARGS --json``; the parsed JSON it printed."""
    result = runner.invoke(bolo_app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_api_refuses_a_case_on_an_unknown_network(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as db:
        coord, _ = staff(db)
        token = issue_token(db, user_id=coord.id, actor=None)
    client = TestClient(create_app(timers=False))
    auth = {"Authorization": f"Bearer {token}"}
    answer = client.post("/api/v1/cases", json=_case("atlantis"), headers=auth)
    assert answer.status_code == 422, answer.text
    assert "no network named 'atlantis'" in answer.json()["detail"]
    assert client.post("/api/v1/cases", json=_case(), headers=auth).status_code == 201


def test_cli_refuses_a_case_on_an_unknown_network(sqlite_engine: Engine, tmp_path: Path) -> None:
    with session_scope(sqlite_engine) as db:
        staff(db)
    file = tmp_path / "case.json"
    file.write_text(json.dumps(_case("atlantis")), encoding="utf-8")
    result = runner.invoke(bolo_app, ["case", "open", str(file), "--as", "coord"])
    assert result.exit_code == 1
    assert "no network named 'atlantis'" in result.output and "Traceback" not in result.output
    assert _bolo("case", "list") == []


def test_cli_names_cases_by_reference_and_prints_json(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    with session_scope(sqlite_engine) as db:
        staff(db)
        posts = some_posts(db, n=2)
    case_file, alert_file = tmp_path / "case.json", tmp_path / "alert.json"
    case_file.write_text(json.dumps(_case()), encoding="utf-8")
    alert_file.write_text(content(posts).model_dump_json(), encoding="utf-8")
    opened = _bolo("case", "open", str(case_file), "--as", "coord")
    ref = opened["reference"]
    assert ref.startswith("C-") and opened["state"] == "open"
    assert _bolo("case", "show", ref)["id"] == opened["id"]
    drafted = _bolo("alert", "draft", ref, str(alert_file), "--as", "coord")
    submitted = _bolo(
        "alert",
        "submit",
        drafted["version_id"],
        "--as",
        "coord",
        "--abduction-believed",
        "--risk-of-harm",
    )
    issued = _bolo(
        "alert",
        "approve",
        drafted["version_id"],
        "--sha256",
        submitted["sha256"],
        "--as",
        "approver",
    )
    assert issued["state"] == "issued" and issued["alert_id"] == drafted["alert_id"]
    shown = _bolo("alert", "show", drafted["alert_id"])
    assert [v["state"] for v in shown["versions"]] == ["issued"]
    tip = _bolo(
        "report",
        "add",
        "tip",
        "--case",
        ref,
        "--text",
        "a red car going north",
        "--place",
        "39.3, 126.3",
        "--at",
        datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    assert [r["id"] for r in _bolo("report", "list", "--case", ref)] == [tip["id"]]
    assert (
        _bolo("alert", "cancel", drafted["alert_id"], "--reason", "found", "--as", "coord")["state"]
        == "cancelled"
    )
    assert _bolo("case", "resolve", ref, "found_safe", "--as", "coord")["state"] == "resolved"
    assert _bolo("case", "close", ref, "--as", "coord")["state"] == "closed"
    assert [c["reference"] for c in _bolo("case", "list")] == [ref]
    assert {p["id"] for p in _bolo("post", "list")} == set(posts)
    assert _bolo("audit", "verify")["ok"] is True
    assert _bolo("security", "purge-due", "--days", "0")["cases"] == [opened["id"]]


def test_an_unknown_reference_is_a_clear_error(sqlite_engine: Engine, tmp_path: Path) -> None:
    result = runner.invoke(bolo_app, ["case", "show", "C-20990101-NOSUCH"])
    assert result.exit_code == 1 and "no case C-20990101-NOSUCH" in result.output


@pytest.mark.parametrize("args", [["--version"], ["--version", "case"]])
def test_version(args: list[str]) -> None:
    result = runner.invoke(bolo_app, args)
    assert result.exit_code == 0 and result.stdout.strip() == f"bolo {__version__}"


def test_cap_verify_and_import_print_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bolo.cap.cli import app as cap_app
    from bolo.cap.codec import encode
    from bolo.cap.signing import sign
    from tests.cap.factories import cert_pem, key_pem, make_alert, make_cert, make_key

    key = make_key()
    cert = make_cert(key)
    signed, cert_file = tmp_path / "signed.xml", tmp_path / "cert.pem"
    signed.write_bytes(sign(encode(make_alert()), key_pem=key_pem(key), cert_pem=cert_pem(cert)))
    cert_file.write_bytes(cert_pem(cert))
    verified = runner.invoke(cap_app, ["verify", str(signed), "--cert", str(cert_file), "--json"])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["verified"] is True
    monkeypatch.setattr("bolo.cap.cli._import_store", None)
    imported = runner.invoke(cap_app, ["import", str(signed), "--json"])
    assert imported.exit_code == 0, imported.output
    plan = json.loads(imported.stdout)
    assert plan["decision"] == "new" and plan["dry_run"] is True and plan["targets"] == []
