"""`bolo serve` alone is a working installation: an issued alert reaches the post's webhook
with no other bolo process running; with --no-dispatcher it stays in the outbox."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bolo.dispatch.model import Delivery, DeliveryStatus
from bolo.dispatch.nats.connection import Names
from bolo.dispatch.receiver.server import BackgroundReceiver, ReceiverApp
from bolo.dispatch.receiver.verify import Deduper
from bolo.dispatch.signing import key_from_string, new_secret
from bolo.store.db import session_scope
from tests.serve.factories import issue_webhook_alert
from tests.serve.running import bolo_serve

WAIT_S = 30.0


def _statuses(version_id: str) -> list[str]:
    with session_scope() as db:
        return list(
            db.execute(select(Delivery.status).where(Delivery.version_id == version_id)).scalars()
        )


@pytest.fixture()
def receiver() -> tuple[BackgroundReceiver, list[dict[str, object]], str]:
    secret = new_secret()
    got: list[dict[str, object]] = []
    app = ReceiverApp(
        keys_for=lambda _post: [key_from_string(secret)],
        deduper=Deduper(),
        on_message=lambda _id, body: got.append(json.loads(body)),
    )
    server = BackgroundReceiver(app)
    server.start()
    yield server, got, secret  # type: ignore[misc]
    server.stop()


def test_serve_alone_delivers_an_issued_alert(
    data_dir: Path, receiver: tuple[BackgroundReceiver, list[dict[str, object]], str]
) -> None:
    server, got, secret = receiver
    data_dir.mkdir(parents=True, exist_ok=True)
    with bolo_serve(data_dir) as served:
        version_id = issue_webhook_alert(server.port, secret)
        deadline = time.monotonic() + WAIT_S
        while not got and time.monotonic() < deadline:
            time.sleep(0.2)
        assert got, served.log.read_text(errors="replace")[-3000:]
        while _statuses(version_id) != [DeliveryStatus.DELIVERED] and time.monotonic() < deadline:
            time.sleep(0.2)
    assert server.app.rejected == 0  # type: ignore[attr-defined]
    assert len(got) == 1 and got[0]["ack_url"]
    assert _statuses(version_id) == [DeliveryStatus.DELIVERED]


def test_serve_with_a_broker_delivers_through_nats(
    data_dir: Path, nats_url: str, receiver: tuple[BackgroundReceiver, list[dict[str, object]], str]
) -> None:
    server, got, secret = receiver
    data_dir.mkdir(parents=True, exist_ok=True)
    suffix = f"serve{uuid.uuid4().hex[:8]}"
    env = {"BOLO_BROKER_URL": nats_url, "BOLO_DISPATCH_STREAM_SUFFIX": suffix}
    try:
        with bolo_serve(data_dir, env=env) as served:
            version_id = issue_webhook_alert(server.port, secret)
            deadline = time.monotonic() + WAIT_S
            while (
                _statuses(version_id) != [DeliveryStatus.DELIVERED] and time.monotonic() < deadline
            ):
                time.sleep(0.2)
            assert _statuses(version_id) == [DeliveryStatus.DELIVERED], served.log.read_text(
                errors="replace"
            )[-3000:]
            ready = httpx.get(f"{served.base}/readyz", timeout=10).json()
    finally:
        asyncio.run(_delete_stream(nats_url, suffix))
    assert len(got) == 1 and server.app.rejected == 0  # type: ignore[attr-defined]
    assert ready["checks"]["broker"]["ok"] and ready["checks"]["dispatcher"]["ok"]


async def _delete_stream(url: str, suffix: str) -> None:
    import nats

    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_stream(Names.with_suffix(suffix).stream)
    except nats.js.errors.NotFoundError:
        pass
    finally:
        await nc.close()


def test_no_dispatcher_leaves_the_outbox_to_other_processes(
    data_dir: Path, receiver: tuple[BackgroundReceiver, list[dict[str, object]], str]
) -> None:
    server, got, secret = receiver
    data_dir.mkdir(parents=True, exist_ok=True)
    with bolo_serve(data_dir, "--no-dispatcher"):
        version_id = issue_webhook_alert(server.port, secret)
        time.sleep(3.0)  # the embedded dispatcher polls every 0.2 s: it would have sent by now
        assert got == []
        assert _statuses(version_id) == [DeliveryStatus.PENDING]
