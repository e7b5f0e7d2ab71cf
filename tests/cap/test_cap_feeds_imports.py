"""Feeds of active alerts, the import decision and the guarded fetch."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bolo.cap.codec import encode
from bolo.cap.feeds import (
    FeedEntry,
    atom_cap_links,
    atom_embedded_alerts,
    atom_feed,
    feed_errors,
    rss_feed,
)
from bolo.cap.fetch import FetchError, _pinned, check_url, fetch_cap
from bolo.cap.imports import Decision, ImportPlan, Key, decide, import_message
from bolo.cap.model import Alert, MsgType, Reference, Status
from bolo.cap.validate import validate
from tests.cap.factories import SENT, make_alert


def _entries(n: int) -> list[FeedEntry]:
    base = datetime(2026, 4, 1, tzinfo=UTC)
    return [
        FeedEntry(
            id=f"urn:bolo:alert:{i}",
            title=f"AMBER {i}",
            updated=base + timedelta(i),
            summary="Child abducted & taken north",
            cap_url=f"https://b.example/a/{i}.cap",
            html_url=f"https://b.example/a/{i}",
        )
        for i in range(n)
    ]


def test_atom_and_rss_feeds_pass_the_feed_rules() -> None:
    atom = atom_feed(
        _entries(3),
        feed_id="urn:bolo:feed",
        title="bolo alerts",
        self_url="https://b.example/feed/cap.atom",
    )
    assert feed_errors(atom) == []
    assert atom_cap_links(atom) == [f"https://b.example/a/{i}.cap" for i in range(3)]
    assert b"<updated>2026-04-03T00:00:00Z</updated>" in atom
    rss = rss_feed(
        _entries(3),
        title="bolo alerts",
        link="https://b.example/alerts",
        description="Active alerts",
        self_url="https://b.example/feed/cap.rss",
    )
    assert feed_errors(rss) == []
    assert b"<link>https://b.example/a/0.cap</link>" in rss
    assert feed_errors(atom_feed([], feed_id="urn:x", title="t", self_url="https://x/")) == []


def test_feed_rules_catch_breakage() -> None:
    entries = _entries(2)
    twins = [entries[0], entries[0]]
    assert any(
        "duplicate id" in e
        for e in feed_errors(atom_feed(twins, feed_id="urn:x", title="t", self_url="https://x/"))
    )
    assert "feed has no title" in feed_errors(
        atom_feed(entries, feed_id="urn:x", title="", self_url="https://x/")
    )
    no_cap = atom_feed(entries, feed_id="urn:x", title="t", self_url="https://x/").replace(
        b"application/cap+xml", b"text/plain"
    )
    assert any("no link of type application/cap+xml" in e for e in feed_errors(no_cap))
    assert any(
        "duplicate guid" in e
        for e in feed_errors(
            rss_feed(twins, title="t", link="https://x/", description="d", self_url="https://x/")
        )
    )
    assert feed_errors(b"<html/>")[0].startswith("not an Atom feed")


def test_shared_amber_feed_embeds_valid_cap(shared_dir: Path) -> None:
    data = (shared_dir / "cap" / "examples" / "amber.atom").read_bytes()
    assert feed_errors(data) == []
    alerts = atom_embedded_alerts(data)
    assert alerts
    assert all(validate(a).ok for a in alerts)


def test_import_decisions() -> None:
    original = make_alert()
    assert decide(original, known=set()).decision is Decision.NEW
    assert decide(original, known={original.key}).decision is Decision.DUPLICATE
    # the same instant written in UTC is the same key
    utc_key = (original.sender, original.identifier, SENT.astimezone(UTC))
    assert decide(original, known={utc_key}).decision is Decision.DUPLICATE
    ref = Reference(sender=original.sender, identifier=original.identifier, sent=SENT)
    missing = Reference(sender="other", identifier="x", sent=SENT)
    update = make_alert(
        identifier="bolo-2026-0002",
        msg_type=MsgType.UPDATE,
        references=[ref, missing],
        sent=SENT + timedelta(hours=1),
    )
    plan = decide(update, known={original.key})
    assert plan.decision is Decision.UPDATE
    assert plan.targets == [original.key]
    assert plan.unknown_references == [missing.key]
    cancel = make_alert(identifier="bolo-2026-0003", msg_type=MsgType.CANCEL, references=[ref])
    assert decide(cancel, known={original.key}).targets == [original.key]
    assert decide(cancel, known={original.key}).decision is Decision.CANCEL
    ack = make_alert(identifier="ack-1", msg_type=MsgType.ACK, references=[ref])
    assert decide(ack, known=set()).decision is Decision.IGNORE
    assert decide(make_alert(status=Status.DRAFT), known=set()).decision is Decision.IGNORE


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost/x",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "file:///etc/passwd",
        "ftp://example.org/x",
        "http:///nohost",
    ],
)
def test_ssrf_guard_refuses_private_and_odd_urls(url: str) -> None:
    with pytest.raises(FetchError):
        check_url(url)


class _Handler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/alert.cap")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/cap+xml")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture()
def server() -> Iterator[str]:
    _Handler.body = encode(make_alert())
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_refuses_loopback_unless_allowed_and_honours_the_size_limit(server: str) -> None:
    with pytest.raises(FetchError, match="non-public"):
        fetch_cap(server + "/alert.cap")
    assert fetch_cap(server + "/alert.cap", allow_private=True) == _Handler.body
    assert fetch_cap(server + "/redirect", allow_private=True) == _Handler.body
    with pytest.raises(FetchError, match="too large"):
        fetch_cap(server + "/alert.cap", allow_private=True, max_bytes=100)


class _MemoryStore:
    """An ImportStore in memory: key -> (alert, state)."""

    def __init__(self) -> None:
        self.rows: dict[Key, tuple[Alert, str]] = {}

    def known(self, keys: Collection[Key]) -> set[Key]:
        return {k for k in keys if k in self.rows}

    def apply(self, plan: ImportPlan, alert: Alert, xml: bytes) -> None:
        if plan.decision in (Decision.DUPLICATE, Decision.IGNORE):
            return
        for target in plan.targets:
            old, _ = self.rows[target]
            self.rows[target] = (
                old,
                "superseded" if plan.decision is Decision.UPDATE else "cancelled",
            )
        self.rows[plan.key] = (alert, "cancel" if plan.decision is Decision.CANCEL else "active")


def test_import_message_applies_updates_and_cancels_through_the_store() -> None:
    store = _MemoryStore()
    original = make_alert()
    assert import_message(original, encode(original), store=store).decision is Decision.NEW
    assert import_message(original, encode(original), store=store).decision is Decision.DUPLICATE
    ref = Reference(sender=original.sender, identifier=original.identifier, sent=original.sent)
    update = make_alert(identifier="u-1", msg_type=MsgType.UPDATE, references=[ref])
    import_message(update, encode(update), store=store)
    assert store.rows[original.key][1] == "superseded"
    cancel = make_alert(
        identifier="c-1",
        msg_type=MsgType.CANCEL,
        references=[ref, Reference(sender=update.sender, identifier="u-1", sent=update.sent)],
    )
    plan = import_message(cancel, encode(cancel), store=store)
    assert set(plan.targets) == {original.key, update.key}
    assert store.rows[update.key][1] == "cancelled"


def test_requests_are_pinned_to_the_checked_address() -> None:
    url, headers, extensions = _pinned("https://alerts.example.org:8443/cap/a.xml?x=1", "1.2.3.4")
    assert url == "https://1.2.3.4:8443/cap/a.xml?x=1"
    assert headers["Host"] == "alerts.example.org:8443"
    assert extensions == {"sni_hostname": "alerts.example.org"}
    url, headers, _ = _pinned("http://alerts.example.org/a", "2001:db8::1")
    assert url == "http://[2001:db8::1]/a"
    assert headers["Host"] == "alerts.example.org"
