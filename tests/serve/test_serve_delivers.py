"""`bolo serve` alone is a working installation: an issued alert reaches the post's webhook
with no other bolo process running; with --no-dispatcher it stays in the outbox."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bolo.alerts import service
from bolo.dispatch.model import Delivery, DeliveryStatus
from bolo.dispatch.receiver import Deduper
from bolo.dispatch.receiver_server import BackgroundReceiver, ReceiverApp
from bolo.dispatch.signing import key_from_string, new_secret
from bolo.network.graph import Mode, PostKind
from bolo.posts.schemas import PostIn
from bolo.posts.service import upsert_post
from bolo.security.urls import networks_allowed
from bolo.store.db import session_scope, upgrade_database
from tests.alerts.helpers import a_case, draft, staff
from tests.serve.running import bolo_serve

WAIT_S = 30.0


def _issue_alert(receiver_port: int, secret: str) -> str:
    """A webhook post at the receiver, then an Actual alert to it, approved by a second
    person; the version id."""
    upgrade_database()
    url = f"http://127.0.0.1:{receiver_port}/hooks/checkpoint-1"
    with session_scope() as db, networks_allowed("127.0.0.0/8"):
        coord, approver = staff(db)
        upsert_post(db, data=PostIn.model_validate({
            "id": "checkpoint-1", "kind": PostKind.CHECKPOINT, "name": "Checkpoint 1",
            "lat": 39.3, "lon": 126.3, "mode": Mode.ROAD,
            "channels": [{"kind": "webhook", "url": url, "secret": secret}]}), actor_id=None)
        case = a_case(db, coord)
        v = service.draft_alert(db, case_id=case.id, data=draft(["checkpoint-1"]), author=coord)
        service.submit_for_approval(db, version_id=v.id, author=coord)
        service.approve(db, version_id=v.id, sha256=v.sha256, approver=approver)
        return v.id


def _statuses(version_id: str) -> list[str]:
    with session_scope() as db:
        return list(db.execute(select(Delivery.status)
                               .where(Delivery.version_id == version_id)).scalars())


@pytest.fixture()
def receiver() -> tuple[BackgroundReceiver, list[dict[str, object]], str]:
    secret = new_secret()
    got: list[dict[str, object]] = []
    app = ReceiverApp(keys_for=lambda _post: [key_from_string(secret)], deduper=Deduper(),
                      on_message=lambda _id, body: got.append(json.loads(body)))
    server = BackgroundReceiver(app)
    server.start()
    yield server, got, secret  # type: ignore[misc]
    server.stop()


def test_serve_alone_delivers_an_issued_alert(data_dir: Path, receiver: tuple[
        BackgroundReceiver, list[dict[str, object]], str]) -> None:
    server, got, secret = receiver
    data_dir.mkdir(parents=True, exist_ok=True)
    with bolo_serve(data_dir) as served:
        version_id = _issue_alert(server.port, secret)
        deadline = time.monotonic() + WAIT_S
        while not got and time.monotonic() < deadline:
            time.sleep(0.2)
        assert got, served.log.read_text(errors="replace")[-3000:]
        while _statuses(version_id) != [DeliveryStatus.DELIVERED] and \
                time.monotonic() < deadline:
            time.sleep(0.2)
    assert server.app.rejected == 0  # type: ignore[attr-defined]
    assert len(got) == 1 and got[0]["ack_url"]
    assert _statuses(version_id) == [DeliveryStatus.DELIVERED]


def test_no_dispatcher_leaves_the_outbox_to_other_processes(data_dir: Path, receiver: tuple[
        BackgroundReceiver, list[dict[str, object]], str]) -> None:
    server, got, secret = receiver
    data_dir.mkdir(parents=True, exist_ok=True)
    with bolo_serve(data_dir, "--no-dispatcher"):
        version_id = _issue_alert(server.port, secret)
        time.sleep(3.0)  # the embedded dispatcher polls every 0.2 s: it would have sent by now
        assert got == []
        assert _statuses(version_id) == [DeliveryStatus.PENDING]
