"""With BOLO_CAP_PROFILE set, every version bolo issues (Alert, Update, Cancel) conforms to the
profile, signed or not; and a signed one verifies in an independent validator (capvalidator)."""

from __future__ import annotations

from pathlib import Path

import capvalidator
import pytest
from sqlalchemy import Engine

from bolo.alerts import service, takedown
from bolo.alerts.model import AlertVersion, VersionState
from bolo.cap.validate import validate
from bolo.settings import reset_settings
from bolo.store.db import session_scope
from tests.alerts.factories import ATTESTED, a_case, content, draft, staff
from tests.alerts.test_signed_alerts import _write_key_and_cert


def _issue_alert_update_cancel(engine: Engine) -> list[AlertVersion]:
    with session_scope(engine) as db:
        coord, approver = staff(db)
        first = service.draft_alert(db, case_id=a_case(db, coord).id, data=draft([]), author=coord)
        service.submit_for_approval(db, version_id=first.id, author=coord, attestation=ATTESTED)
        service.approve(db, version_id=first.id, sha256=first.sha256, approver=approver)
        update = service.update_alert(
            db,
            alert_id=first.alert_id,
            author=coord,
            content=content([], headline="Seen heading north"),
        )
        service.submit_for_approval(db, version_id=update.id, author=coord)
        service.approve(db, version_id=update.id, sha256=update.sha256, approver=approver)
        takedown.cancel_alert(db, alert_id=first.alert_id, reason="Found safe.", actor=coord)
        versions = service.versions_of(db, alert_id=first.alert_id)
        db.expunge_all()
    issued = [v for v in versions if v.state != VersionState.DRAFT]
    assert [str(v.msg_type) for v in issued] == ["Alert", "Update", "Cancel"]
    return issued


@pytest.mark.parametrize("profile", ["ipaws", "google"])
@pytest.mark.parametrize("signed", [False, True])
def test_every_issued_version_conforms_to_the_profile(
    sqlite_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    profile: str,
    signed: bool,
) -> None:
    monkeypatch.setenv("BOLO_CAP_PROFILE", profile)
    if signed:
        _write_key_and_cert(tmp_path)
        monkeypatch.setenv("BOLO_CAP_SIGNING_KEY", str(tmp_path / "key.pem"))
        monkeypatch.setenv("BOLO_CAP_SIGNING_CERT", str(tmp_path / "cert.pem"))
    reset_settings()
    try:
        for version in _issue_alert_update_cancel(sqlite_engine):
            result = validate(version.cap_xml.encode(), profile=profile)
            assert result.errors == [], (version.msg_type, result.errors)
            if profile == "ipaws":  # the profile schema ran: element order and required parts
                assert not [f for f in result.findings if f.rule == "ipaws-schema"]
                assert "<code>IPAWSv1.0</code>" in version.cap_xml
            else:
                assert "<web>" in version.cap_xml
    finally:
        reset_settings()


def test_without_a_profile_the_ipaws_check_fails_as_it_should(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOLO_CAP_PROFILE", raising=False)
    reset_settings()
    alert = _issue_alert_update_cancel(sqlite_engine)[0]
    rules = {f.rule for f in validate(alert.cap_xml.encode(), profile="ipaws").findings}
    assert {"ipaws-code", "ipaws-schema"} <= rules


def test_a_signed_issued_message_passes_capvalidator(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_key_and_cert(tmp_path)
    monkeypatch.setenv("BOLO_CAP_SIGNING_KEY", str(tmp_path / "key.pem"))
    monkeypatch.setenv("BOLO_CAP_SIGNING_CERT", str(tmp_path / "cert.pem"))
    monkeypatch.setenv("BOLO_CAP_PROFILE", "ipaws")
    reset_settings()
    try:
        versions = _issue_alert_update_cancel(sqlite_engine)
    finally:
        reset_settings()
    for version in versions:
        xml = version.cap_xml.encode()
        result = capvalidator.validate_cap_message(xml, strict=True)
        assert result.passed, (version.msg_type, result.message)
        tampered = xml.replace(b"Songchon", b"Songchen")
        assert not capvalidator.validate_cap_message(tampered, strict=True).passed
