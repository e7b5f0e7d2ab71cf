"""No personal data of a case in what bolo logs or prints: a full replay of the reference
incident, and an API session over a case whose people have distinctive names."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from bolo.api import create_app
from bolo.cases.model import Case
from bolo.scenarios.seed_run import run_replay
from bolo.store.db import session_scope
from tests.security.factories import PERSONAL, build_world


def _personal_strings(case: Case) -> set[str]:
    found = {case.narrative}
    for person in [*case.children, *case.suspects]:
        found |= {str(person.get("name", "")), str(person.get("description", ""))}
    return {s for s in found if len(s) >= 6}


def test_full_replay_logs_no_name_from_the_case(
    data_dir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    run_replay(out=tmp_path / "out", fresh=True)
    out, err = capfd.readouterr()
    with session_scope() as db:
        cases = list(db.execute(select(Case)).scalars())
    assert len(cases) == 1
    secrets = _personal_strings(cases[0])
    assert len(secrets) >= 4 and out  # the replay did print its timeline
    logged = "\n".join([caplog.text, out, err])
    assert [s for s in secrets if s in logged] == []


def test_api_session_logs_no_name_from_the_case(
    sqlite_engine: Engine, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    with session_scope(sqlite_engine) as db:
        w = build_world(db)
    client = TestClient(create_app(timers=False))
    auth = {"Authorization": f"Bearer {w.tokens['coordinator']}"}
    calls = [
        ("GET", f"/api/v1/cases/{w.case_id}", None),
        ("GET", "/api/v1/cases", None),
        ("GET", f"/api/v1/alerts/{w.alert_id}", None),
        ("GET", f"/api/v1/alert-versions/{w.version_id}/cap", None),
        ("GET", "/api/v1/reports", None),
        ("GET", "/api/v1/reports/queue", None),
        ("POST", f"/api/v1/alerts/{w.alert_id}/cancel", {"reason": "found safe"}),
        ("POST", f"/api/v1/cases/{w.case_id}/resolve", {"outcome": "found_safe"}),
        ("POST", f"/api/v1/cases/{w.case_id}/close", None),
        ("GET", "/feed/cap.atom", None),
        ("GET", f"/alerts/{w.alert_id}.cap", None),
    ]
    statuses = [
        client.request(m, url, json=body, headers=auth).status_code for m, url, body in calls
    ]
    assert all(s < 400 for s in statuses), statuses
    out, err = capfd.readouterr()
    logged = "\n".join([caplog.text, out, err])
    assert [s for s in PERSONAL if s in logged] == []
