"""Public CAP endpoints: an alert's current CAP message and the Atom feed of active alerts."""

from __future__ import annotations

from fastapi import APIRouter, Response

from bolo.alerts import ending
from bolo.alerts.model import Alert, CapStatus
from bolo.auth.deps import DB
from bolo.cap.feeds import FeedEntry, atom_feed, rss_feed
from bolo.clock import now
from bolo.errors import NotFound
from bolo.settings import get_settings

router = APIRouter(tags=["public"])
CAP_XML = "application/cap+xml"
FEED_TITLE = "bolo: active child abduction alerts"


def _public_alert(db: DB, alert_id: str) -> Alert:
    alert = db.get(Alert, alert_id)
    if alert is None or alert.cap_status != CapStatus.ACTUAL:
        raise NotFound(f"no public alert {alert_id}")
    return alert


@router.get("/alerts/{alert_id}.cap", response_class=Response)
def alert_cap(alert_id: str, db: DB) -> Response:
    """The newest issued CAP message of a public alert (a Cancel once it is cancelled)."""
    alert = _public_alert(db, alert_id)
    version = ending.latest_issued(db, alert_id=alert.id)
    if version is None or not version.cap_xml:
        # Not issued, or its case was purged at the end of the retention period.
        raise NotFound(f"alert {alert_id} has not been issued or has been purged")
    return Response(version.cap_xml, media_type=CAP_XML)


def _entries(db: DB) -> list[FeedEntry]:
    base = get_settings().public_base_url.rstrip("/")
    entries = []
    for alert in ending.public_alerts(db):
        version = ending.latest_issued(db, alert_id=alert.id)
        if version is None or not version.cap_xml:  # not issued, or purged with its case
            continue
        headline = str(version.content.get("texts", [{}])[0].get("headline", "Child abduction"))
        entries.append(FeedEntry(
            id=f"urn:bolo:alert:{version.identifier}", title=headline,
            updated=version.issued_at or version.sent, summary=headline,
            cap_url=f"{base}/alerts/{alert.id}.cap", html_url=f"{base}/alerts/{alert.id}",
        ))
    return entries


@router.get("/feed/cap.atom", response_class=Response)
def feed_atom(db: DB) -> Response:
    """Atom feed of the active public alerts, each entry linking its CAP message."""
    base = get_settings().public_base_url.rstrip("/")
    body = atom_feed(_entries(db), feed_id=f"{base}/feed/cap.atom", title=FEED_TITLE,
                     self_url=f"{base}/feed/cap.atom", updated=now())
    return Response(body, media_type="application/atom+xml")


@router.get("/feed/cap.rss", response_class=Response)
def feed_rss(db: DB) -> Response:
    """RSS 2.0 feed of the active public alerts."""
    base = get_settings().public_base_url.rstrip("/")
    body = rss_feed(_entries(db), title=FEED_TITLE, link=f"{base}/alerts",
                    description="Active child abduction alerts (CAP 1.2)",
                    self_url=f"{base}/feed/cap.rss", updated=now())
    return Response(body, media_type="application/rss+xml")
