"""Rows for dispatch tests: a case, an alert with versions, posts with channels."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from bolo.alerts.model import Alert, AlertTarget, AlertVersion
from bolo.cases.model import Case
from bolo.posts.model import Post
from bolo.store.types import new_id

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def make_post(
    session: Session,
    post_id: str,
    channels: Sequence[dict[str, Any]] | None = None,
    *,
    supervisor_id: str | None = None,
    kind: str = "checkpoint",
    region: str = "north",
) -> Post:
    """A post with webhook channel(s) at fake URLs."""
    post = Post(
        id=post_id,
        kind=kind,
        name=f"Post {post_id}",
        lat=40.0,
        lon=127.0,
        region=region,
        supervisor_id=supervisor_id,
        channels=list(channels or [{"kind": "webhook", "url": f"http://h/{post_id}"}]),
    )
    session.add(post)
    session.flush()
    return post


def make_alert(session: Session, *, cap_status: str = "Actual") -> Alert:
    """An active alert of a fresh case."""
    case = Case(
        reference=new_id()[:12],
        last_known_lat=40.0,
        last_known_lon=127.0,
        last_seen_earliest=T0,
        last_seen_latest=T0,
        reported_at=T0,
        created_by="u1",
    )
    session.add(case)
    session.flush()
    alert = Alert(case_id=case.id, cap_status=cap_status, state="active", created_by="u1")
    session.add(alert)
    session.flush()
    return alert


def make_version(
    session: Session, alert: Alert, seq: int, msg_type: str, post_ids: Sequence[str]
) -> AlertVersion:
    """An issued version addressed to ``post_ids``."""
    xml = f"<alert><identifier>v{seq}</identifier></alert>"
    version = AlertVersion(
        alert_id=alert.id,
        seq=seq,
        msg_type=msg_type,
        identifier=f"{alert.id}-{seq}",
        sent=T0,
        content={"headline": f"AMBER alert v{seq}", "description": "Child missing"},
        cap_xml=xml,
        sha256=hashlib.sha256(xml.encode()).hexdigest(),
        state="issued",
        author_id="u1",
    )
    session.add(version)
    session.flush()
    for post_id in post_ids:
        session.add(AlertTarget(version_id=version.id, post_id=post_id))
    session.flush()
    return version
