"""The two-person rule cannot be met by one person with two accounts or two credentials."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from bolo.alerts import service
from bolo.api import create_app
from bolo.audit.model import AuditEntry
from bolo.auth.model import Role
from bolo.auth.service import create_user, enroll_totp, issue_token, set_password
from bolo.auth.sessions import create_session, session_user
from bolo.auth.totp import code_at
from bolo.errors import Forbidden
from bolo.settings import reset_settings
from bolo.store.db import session_scope
from tests.alerts.factories import ATTESTED, a_case, draft, some_posts
from tests.api.test_api_flow import _case_body

PASSWORD = "a long enough pass phrase"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture()
def world(db_engine: Engine) -> Iterator[dict[str, Any]]:
    """An admin (created at the server's command line), an independent approver, posts."""
    with session_scope(db_engine) as db:
        admin = create_user(db, username="root", role=Role.ADMIN, actor=None)
        pak = create_user(db, username="pak", role=Role.APPROVER, actor=None)
        some_posts(db)
        made = {
            "admin": admin.id,
            "pak": pak.id,
            "admin_token": issue_token(db, user_id=admin.id, actor=None),
            "pak_token": issue_token(db, user_id=pak.id, actor=None),
        }
    yield {**made, "client": TestClient(create_app(timers=False))}


def _pending_actual(client: TestClient, headers: dict[str, str]) -> tuple[str, str]:
    case = client.post("/api/v1/cases", json=_case_body(), headers=headers)
    assert case.status_code == 201, case.text
    body = {**draft(["checkpoint-0"]).model_dump(), "cap_status": "Actual"}
    v = client.post(f"/api/v1/cases/{case.json()['id']}/alerts", json=body, headers=headers)
    assert v.status_code == 201, v.text
    vid = v.json()["id"]
    submitted = client.post(
        f"/api/v1/alert-versions/{vid}/submit",
        headers=headers,
        json={"abduction_believed": True, "risk_of_harm": True},
    )
    assert submitted.status_code == 200, submitted.text
    return vid, v.json()["sha256"]


def test_an_admin_cannot_approve_through_accounts_or_tokens_they_made(
    world: dict[str, Any], db_engine: Engine
) -> None:
    client, admin = world["client"], _bearer(world["admin_token"])
    vid, sha = _pending_actual(client, admin)
    approve = f"/api/v1/alert-versions/{vid}/approve"
    # A new approver account and a token for it, both by the author.
    made = client.post(
        "/api/v1/users", json={"username": "sock", "role": "approver"}, headers=admin
    )
    assert made.status_code == 201
    sock = client.post(f"/api/v1/users/{made.json()['id']}/tokens", headers=admin).json()
    refused = client.post(approve, json={"sha256": sha}, headers=_bearer(sock["token"]))
    assert refused.status_code == 403 and "second person" in refused.json()["detail"]
    # A token the author issues for a real, independent approver.
    theirs = client.post(f"/api/v1/users/{world['pak']}/tokens", headers=admin).json()
    refused = client.post(approve, json={"sha256": sha}, headers=_bearer(theirs["token"]))
    assert refused.status_code == 403 and "issued by the alert's author" in refused.text
    # Through a second admin the author created, who creates the approver.
    admin2 = client.post(
        "/api/v1/users", json={"username": "deputy", "role": "admin"}, headers=admin
    ).json()
    deputy = _bearer(
        client.post(f"/api/v1/users/{admin2['id']}/tokens", headers=admin).json()["token"]
    )
    puppet = client.post(
        "/api/v1/users", json={"username": "puppet", "role": "approver"}, headers=deputy
    ).json()
    puppet_token = client.post(f"/api/v1/users/{puppet['id']}/tokens", headers=deputy).json()
    refused = client.post(approve, json={"sha256": sha}, headers=_bearer(puppet_token["token"]))
    assert refused.status_code == 403
    # The independent approver with their own token approves.
    ok = client.post(approve, json={"sha256": sha}, headers=_bearer(world["pak_token"]))
    assert ok.status_code == 200 and ok.json()["state"] == "issued"
    with session_scope(db_engine) as db:
        issued = (
            db.execute(select(AuditEntry).where(AuditEntry.action == "token.issued"))
            .scalars()
            .all()
        )
        created = (
            db.execute(select(AuditEntry).where(AuditEntry.action == "user.created"))
            .scalars()
            .all()
        )
    assert {e.actor_id for e in issued} == {world["admin"], admin2["id"], None}
    assert {e.actor_id for e in created if e.entity_id == made.json()["id"]} == {world["admin"]}


def test_the_author_cannot_approve_through_an_account_they_were_made_by(
    world: dict[str, Any], db_engine: Engine
) -> None:
    client, admin = world["client"], _bearer(world["admin_token"])
    coord = client.post(
        "/api/v1/users", json={"username": "coord", "role": "coordinator"}, headers=admin
    ).json()
    coord_token = client.post(f"/api/v1/users/{coord['id']}/tokens", headers=admin).json()
    vid, sha = _pending_actual(client, _bearer(coord_token["token"]))
    refused = client.post(
        f"/api/v1/alert-versions/{vid}/approve", json={"sha256": sha}, headers=admin
    )
    assert refused.status_code == 403 and "created the author's account" in refused.text


def test_a_password_the_author_set_cannot_approve(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        admin = create_user(db, username="root", role=Role.ADMIN, actor=None)
        pak = create_user(db, username="pak", role=Role.APPROVER, actor=None)
        targets = some_posts(db)
        version = service.draft_alert(
            db, case_id=a_case(db, admin).id, data=draft(targets), author=admin
        )
        service.submit_for_approval(db, version_id=version.id, author=admin, attestation=ATTESTED)
        set_password(db, user_id=pak.id, password=PASSWORD, actor=admin)
        sid = create_session(db, user_id=pak.id)
    with (
        pytest.raises(Forbidden, match="password you signed in with"),
        session_scope(db_engine) as db,
    ):
        approver = session_user(db, session_id=sid)
        service.approve(db, version_id=version.id, sha256=version.sha256, approver=approver)
    with session_scope(db_engine) as db:  # pak chose their own password since: fine
        set_password(db, user_id=pak.id, password=PASSWORD + "!", actor=pak)
        sid = create_session(db, user_id=pak.id)
    with session_scope(db_engine) as db:
        approver = session_user(db, session_id=sid)
        assert (
            service.approve(
                db, version_id=version.id, sha256=version.sha256, approver=approver
            ).state
            == "issued"
        )


def test_approver_totp_can_be_required(
    world: dict[str, Any], db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOLO_APPROVER_TOTP_REQUIRED", "1")
    reset_settings()
    client = world["client"]
    with session_scope(db_engine) as db:
        coord = create_user(db, username="coord", role=Role.COORDINATOR, actor=None)
        coord_token = issue_token(db, user_id=coord.id, actor=None)
    vid, sha = _pending_actual(client, _bearer(coord_token))
    approve, pak = f"/api/v1/alert-versions/{vid}/approve", _bearer(world["pak_token"])
    refused = client.post(approve, json={"sha256": sha}, headers=pak)
    assert refused.status_code == 403 and "enrol" in refused.json()["detail"]
    with session_scope(db_engine) as db:
        secret = enroll_totp(db, user_id=world["pak"], actor=None)
    assert client.post(approve, json={"sha256": sha}, headers=pak).status_code == 401
    ok = client.post(approve, json={"sha256": sha}, headers={**pak, "X-Bolo-TOTP": code_at(secret)})
    assert ok.status_code == 200, ok.text
    reset_settings()
