"""The acknowledgement link over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from bolo.api import create_app
from bolo.dispatch.messages import ack_token
from bolo.dispatch.model import Acknowledgement, Delivery, PostKey
from bolo.dispatch.outbox import enqueue_version
from bolo.dispatch.routes import router
from bolo.store.db import session_scope
from tests.dispatch.factories import make_alert, make_post, make_version


def test_ack_link_records_a_named_acknowledgement(sqlite_engine: Any) -> None:
    with session_scope(sqlite_engine) as s:
        make_post(s, "a")
        version = make_version(s, make_alert(s), 1, "Alert", ["a"])
        enqueue_version(s, version_id=version.id)
        s.flush()
        delivery = s.scalars(select(Delivery)).one()
        key = s.get(PostKey, "a")
        assert key is not None
        token = ack_token(key.secret, delivery.id)
        delivery_id = delivery.id
    app = create_app(timers=False)
    if not any(getattr(r, "path", "").startswith("/api/v1/dispatch") for r in app.routes):
        app.include_router(router)
    client = TestClient(app)
    page = client.get(f"/api/v1/dispatch/ack/{delivery_id}", params={"t": token})
    assert page.status_code == 200 and "Your name" in page.text
    url = f"/api/v1/dispatch/ack/{delivery_id}"
    forged = client.post(url, params={"t": "x" * 24}, data={"by": "Ri"})
    assert forged.status_code == 403
    ok = client.post(url, params={"t": token}, data={"by": "Lt. Ri"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["by"] == "Lt. Ri"
    with session_scope(sqlite_engine) as s:
        assert [a.by_name for a in s.scalars(select(Acknowledgement))] == ["Lt. Ri"]
