"""A webhook post and an Actual alert issued to it, through the services."""

from __future__ import annotations

from bolo.alerts import service
from bolo.network.graph import Mode, PostKind
from bolo.posts.schemas import PostIn
from bolo.posts.service import upsert_post
from bolo.security.urls import networks_allowed
from bolo.store.db import session_scope, upgrade_database
from tests.alerts.factories import ATTESTED, a_case, draft, staff


def issue_webhook_alert(receiver_port: int, secret: str) -> str:
    """A webhook post at the receiver, then an Actual alert to it, approved by a second
    person; the version id."""
    upgrade_database()
    url = f"http://127.0.0.1:{receiver_port}/hooks/checkpoint-1"
    with session_scope() as db, networks_allowed("127.0.0.0/8"):
        coord, approver = staff(db)
        upsert_post(
            db,
            data=PostIn.model_validate(
                {
                    "id": "checkpoint-1",
                    "kind": PostKind.CHECKPOINT,
                    "name": "Checkpoint 1",
                    "lat": 39.3,
                    "lon": 126.3,
                    "mode": Mode.ROAD,
                    "channels": [{"kind": "webhook", "url": url, "secret": secret}],
                }
            ),
            actor=None,
        )
        case = a_case(db, coord)
        v = service.draft_alert(db, case_id=case.id, data=draft(["checkpoint-1"]), author=coord)
        service.submit_for_approval(db, version_id=v.id, author=coord, attestation=ATTESTED)
        service.approve(db, version_id=v.id, sha256=v.sha256, approver=approver)
        return v.id
