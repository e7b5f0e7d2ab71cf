"""The activation gate of live alerts and the approver's rejection, through the service, the
API and the CLI alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bolo.alerts import service
from bolo.alerts.activation import Attestation
from bolo.alerts.model import AlertState, AlertVersion, VersionState
from bolo.api import create_app
from bolo.audit.model import AuditEntry
from bolo.auth.model import User
from bolo.auth.service import issue_token
from bolo.cases.schemas import CaseCreate, CaseResolve, LastKnown, Person
from bolo.cases.service import close_case, open_case, purge_case, resolve_case
from bolo.cli import app
from bolo.errors import Conflict, InvalidInput
from bolo.settings import Settings, reset_settings
from bolo.store.db import session_scope
from tests.alerts.factories import ATTESTED, a_case, draft, staff

REASON = "The age is unknown but the witnesses saw a small boy dragged into a van."


def _bare_case(db: Session, author: User) -> str:
    """A case with a child of unknown age and no description, suspect or vehicle."""
    seen = datetime.now(UTC) - timedelta(hours=1)
    case = open_case(
        db,
        actor=author,
        data=CaseCreate(
            children=[Person(name="No Details")],
            last_known=LastKnown(
                lat=39.2, lon=126.2, time_earliest=seen - timedelta(hours=1), time_latest=seen
            ),
        ),
    )
    return case.id


@pytest.fixture()
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The environment, with settings re-read after the test changed it."""
    yield monkeypatch
    reset_settings()


def test_a_live_alert_missing_criteria_is_refused_with_what_to_fix(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        coord, _ = staff(db)
        v = service.draft_alert(db, case_id=_bare_case(db, coord), data=draft([]), author=coord)
        with pytest.raises(InvalidInput) as refused:
            service.submit_for_approval(db, version_id=v.id, author=coord)
        message = refused.value.message
        for words in (
            "record the child's age",
            "a description or photo of the child",
            "a suspect or a vehicle",
            "abduction is believed",
            "risk of harm",
            "override reason of at least 20 characters",
        ):
            assert words in message
        assert v.state == VersionState.DRAFT and v.activation is None
        with pytest.raises(InvalidInput, match="the reason given has 5 characters"):
            service.submit_for_approval(
                db, version_id=v.id, author=coord, attestation=Attestation(override_reason="hurry")
            )


def test_an_override_reason_lets_it_through_and_is_kept(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        coord, approver = staff(db)
        v = service.draft_alert(db, case_id=_bare_case(db, coord), data=draft([]), author=coord)
        service.submit_for_approval(
            db,
            version_id=v.id,
            author=coord,
            attestation=Attestation(risk_of_harm=True, override_reason=REASON),
        )
        assert v.state == VersionState.PENDING_APPROVAL
        assert v.activation is not None and v.activation["override_reason"] == REASON
        assert v.activation["criteria"] == {
            "child_age": False,
            "abduction": False,
            "risk_of_harm": True,
            "description": False,
        }
        entry = (
            db.execute(select(AuditEntry).where(AuditEntry.action == "alert.submitted"))
            .scalars()
            .one()
        )
        assert REASON in entry.data
        service.approve(db, version_id=v.id, sha256=v.sha256, approver=approver)
        assert v.state == VersionState.ISSUED


def test_a_case_meeting_every_criterion_passes_without_override(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        coord, _ = staff(db)
        v = service.draft_alert(db, case_id=a_case(db, coord).id, data=draft([]), author=coord)
        service.submit_for_approval(db, version_id=v.id, author=coord, attestation=ATTESTED)
        assert v.activation is not None
        assert all(v.activation["criteria"].values())
        assert v.activation["override_reason"] is None


def test_exercises_and_updates_are_not_gated(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        coord, _ = staff(db)
        v = service.draft_alert(
            db, case_id=_bare_case(db, coord), data=draft([], status="Exercise"), author=coord
        )
        service.submit_for_approval(db, version_id=v.id, author=coord)
        assert v.state == VersionState.PENDING_APPROVAL and v.activation is None


def test_the_gate_is_configurable(db_engine: Engine, settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("BOLO_ACTIVATION_CRITERIA", "child_age")
    settings_env.setenv("BOLO_ACTIVATION_AGE_LIMIT", "8")
    reset_settings()
    with session_scope(db_engine) as db:
        coord, _ = staff(db)
        v = service.draft_alert(db, case_id=a_case(db, coord).id, data=draft([]), author=coord)
        with pytest.raises(InvalidInput, match=r"no child is under 8 \(ages: 8\)"):
            service.submit_for_approval(db, version_id=v.id, author=coord)
        settings_env.setenv("BOLO_ACTIVATION_CRITERIA", "")
        reset_settings()
        service.submit_for_approval(db, version_id=v.id, author=coord)
        assert v.activation == {
            "criteria": {},
            "missing": [],
            "abduction_believed": False,
            "risk_of_harm": False,
            "override_reason": None,
        }


def test_an_unknown_criterion_is_a_settings_error(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("BOLO_ACTIVATION_CRITERIA", "child_age,amber")
    with pytest.raises(ValidationError, match="unknown activation criteria"):
        Settings()


def test_reject_sends_the_draft_back_with_the_reason(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        coord, approver = staff(db)
        v = service.draft_alert(db, case_id=a_case(db, coord).id, data=draft([]), author=coord)
        with pytest.raises(Conflict, match="not pending approval"):
            service.reject(db, version_id=v.id, reason="no", approver=approver)
        service.submit_for_approval(db, version_id=v.id, author=coord, attestation=ATTESTED)
        with pytest.raises(InvalidInput, match="say why"):
            service.reject(db, version_id=v.id, reason="  ", approver=approver)
        service.reject(db, version_id=v.id, reason="Name the vehicle's plate.", approver=approver)
        alert = service.get_alert(db, alert_id=v.alert_id)
        assert v.state == VersionState.DRAFT and alert.state == AlertState.DRAFT
        assert (v.rejected_by_id, v.rejection_reason) == (approver.id, "Name the vehicle's plate.")
        actions = list(db.execute(select(AuditEntry.action)).scalars())
        assert "alert.rejected" in actions
        service.submit_for_approval(db, version_id=v.id, author=coord, attestation=ATTESTED)
        service.approve(db, version_id=v.id, sha256=v.sha256, approver=approver)
        assert alert.state == AlertState.ACTIVE


def test_purge_blanks_the_override_and_rejection_texts(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        coord, approver = staff(db)
        case_id = _bare_case(db, coord)
        v = service.draft_alert(db, case_id=case_id, data=draft([]), author=coord)
        service.submit_for_approval(
            db, version_id=v.id, author=coord, attestation=Attestation(override_reason=REASON)
        )
        service.reject(db, version_id=v.id, reason="Wrong area entirely.", approver=approver)
        from bolo.alerts.takedown import cancel_alert

        cancel_alert(db, alert_id=v.alert_id, reason="withdrawn", actor=coord)
        resolve_case(db, case_id=case_id, data=CaseResolve(outcome="found_safe"), actor=coord)
        close_case(db, case_id=case_id, actor=coord)
        purge_case(db, case_id=case_id, actor_id=None)
        stored = db.get(AlertVersion, v.id)
        assert stored is not None and stored.activation is not None
        assert stored.activation["override_reason"] is None and stored.rejection_reason == ""


def test_api_and_cli_obey_the_same_gate(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as db:
        coord, approver = staff(db)
        case_id = _bare_case(db, coord)
        first = service.draft_alert(db, case_id=case_id, data=draft([]), author=coord)
        second = service.draft_alert(db, case_id=case_id, data=draft([]), author=coord)
        tokens = {
            name: {"Authorization": f"Bearer {issue_token(db, user_id=u.id, actor=None)}"}
            for name, u in (("coord", coord), ("approver", approver))
        }
        ids = first.id, second.id
    client = TestClient(create_app(timers=False))
    refused = client.post(f"/api/v1/alert-versions/{ids[0]}/submit", headers=tokens["coord"])
    assert refused.status_code == 422 and "activation criteria" in refused.json()["detail"]
    # The API's refusal names the body fields that state the judgements, as the API spells them.
    detail = refused.json()["detail"]
    for field in ('"abduction_believed": true', '"risk_of_harm": true', '"override_reason"'):
        assert field in detail, detail
    partly = client.post(
        f"/api/v1/alert-versions/{ids[0]}/submit",
        headers=tokens["coord"],
        json={"abduction_believed": True},
    )
    assert partly.status_code == 422
    assert "abduction_believed" not in partly.json()["detail"]
    assert '"risk_of_harm": true' in partly.json()["detail"]
    ok = client.post(
        f"/api/v1/alert-versions/{ids[0]}/submit",
        headers=tokens["coord"],
        json={"override_reason": REASON},
    )
    assert ok.status_code == 200 and ok.json()["activation"]["override_reason"] == REASON
    back = client.post(
        f"/api/v1/alert-versions/{ids[0]}/reject",
        headers=tokens["approver"],
        json={"reason": "Add the suspect first."},
    )
    assert back.status_code == 200 and back.json()["rejection_reason"] == "Add the suspect first."
    assert back.json()["state"] == "draft"
    runner = CliRunner()
    cli_refused = runner.invoke(app, ["alert", "submit", ids[1], "--as", "coord"])
    assert cli_refused.exit_code != 0 and "activation criteria" in cli_refused.output
    # The CLI's refusal names its own options, as the API's names the body fields.
    said = " ".join(cli_refused.output.split())
    for option in ("--abduction-believed", "--risk-of-harm", "--override-reason"):
        assert option in said, said
    partly = runner.invoke(
        app, ["alert", "submit", ids[1], "--as", "coord", "--abduction-believed"]
    )
    said = " ".join(partly.output.split())
    assert partly.exit_code != 0 and "--risk-of-harm" in said
    assert "--abduction-believed" not in said
    cli_ok = runner.invoke(
        app, ["alert", "submit", ids[1], "--as", "coord", "--override-reason", REASON]
    )
    assert cli_ok.exit_code == 0 and "overridden" in cli_ok.output
    cli_reject = runner.invoke(
        app, ["alert", "reject", ids[1], "--reason", "Not yet.", "--as", "approver"]
    )
    assert cli_reject.exit_code == 0, cli_reject.output
