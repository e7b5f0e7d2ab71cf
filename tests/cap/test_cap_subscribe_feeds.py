"""`bolo cap subscribe` against feeds bolo never wrote, served by a local HTTP server: CAP 1.0
and 1.1, Atom and RSS with the CAP inline or linked, entries without ids, relative links and
xml:base, duplicates, huge feeds, slow servers, redirects through the SSRF guard, and a feed
that turns into HTML or garbage. Never a traceback: a clear line, and the next poll works."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from bolo.cap import cli
from bolo.cap.codec import encode
from bolo.cap.fetch import Fetched, FetchError, fetch
from bolo.cap.imports import Decision, ImportPlan, Key
from bolo.cap.model import Alert
from bolo.cap.subscribe import MAX_FEED_BYTES, MAX_ITEMS, Subscription
from bolo.security.urls import networks_allowed
from tests.cap.factories import make_alert

CAP10 = (
    b"<alert xmlns='http://www.incident.com/cap/1.0'><identifier>old-10</identifier>"
    b"<sender>s@ten.example</sender><sent>2003-06-17T14:57:00-07:00</sent>"
    b"<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>"
    b"<info><category>Rescue</category><event>Child Abduction</event>"
    b"<urgency>Immediate</urgency><severity>Severe</severity><certainty>Likely</certainty>"
    b"<area><areaDesc>x</areaDesc><geocode>FIPS6=006109</geocode></area></info></alert>"
)


def _cap11(identifier: str) -> bytes:
    return encode(make_alert(identifier=identifier)).replace(b"cap:1.2", b"cap:1.1")


def _cap12(identifier: str) -> bytes:
    return encode(make_alert(identifier=identifier))


def _strip_decl(xml: bytes) -> bytes:
    return xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    trickle_s: float = 0.0  # pause between 1-byte writes


class Server:
    """Serves `routes` (path -> Route); everything else is 404."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = outer.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if not route.trickle_s:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                try:
                    if route.trickle_s:
                        for byte in route.body[:50]:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(route.trickle_s)
                    else:
                        self.wfile.write(route.body)
                except OSError:
                    return  # the client gave up

            def log_message(self, *args: object) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture()
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


class MemoryStore:
    def __init__(self) -> None:
        self.keys: set[Key] = set()

    def known(self, keys: Collection[Key]) -> set[Key]:
        return {k for k in keys if k in self.keys}

    def apply(self, plan: ImportPlan, alert: Alert, xml: bytes) -> None:
        if plan.decision is not Decision.DUPLICATE:
            self.keys.add(plan.key)


def _fetcher(timeout_s: float = 5.0) -> Callable[[str, str | None, str | None], Fetched]:
    def get(url: str, etag: str | None, modified: str | None) -> Fetched:
        return fetch(
            url,
            allow_private=True,
            etag=etag,
            last_modified=modified,
            max_bytes=MAX_FEED_BYTES,
            timeout_s=timeout_s,
        )

    return get


def _poll(sub: Subscription, store: MemoryStore, timeout_s: float = 5.0) -> list[str]:
    outcomes = sub.poll(_fetcher(timeout_s), store)
    return [] if outcomes is None else [f"{o.decision}:{o.identifier}:{o.reason}" for o in outcomes]


def _atom(entries: bytes, base: str = "") -> bytes:
    attr = f' xml:base="{base}"'.encode() if base else b""
    return (
        b"<feed xmlns='http://www.w3.org/2005/Atom'" + attr + b"><id>f</id><title>t</title>"
        b"<updated>2026-12-07T06:00:00Z</updated>" + entries + b"</feed>"
    )


def _rss(items: bytes) -> bytes:
    return (
        b"<rss version='2.0'><channel><title>t</title><link>http://x/</link>"
        b"<description>d</description>" + items + b"</channel></rss>"
    )


def test_atom_and_rss_with_cap_10_11_12_inline_and_linked(server: Server) -> None:
    server.routes["/m/11.xml"] = Route(_cap11("linked-11"))
    server.routes["/m/10.xml"] = Route(CAP10)
    server.routes["/atom"] = Route(
        _atom(
            b"<entry><id>e1</id><updated>2026-12-07T06:00:00Z</updated><content type='text/xml'>"
            + _strip_decl(_cap11("inline-11"))
            + b"</content></entry>"
            b"<entry><id>e2</id><link href='/m/11.xml' type='application/cap+xml'/></entry>"
            b"<entry><id>e3</id><link href='m/10.xml'/></entry>",
            base=f"{server.url}/",
        )
    )
    server.routes["/rss"] = Route(
        _rss(
            b"<item><guid>r1</guid>" + _strip_decl(_cap12("inline-rss")) + b"</item>"
            b"<item><guid>r2</guid><link>/m/11.xml</link></item>"
        )
    )
    store = MemoryStore()
    atom = _poll(Subscription(url=f"{server.url}/atom"), store)
    assert sorted(atom) == ["new:inline-11:", "new:linked-11:", "new:old-10:"], atom
    rss = _poll(Subscription(url=f"{server.url}/rss"), store)
    assert sorted(rss) == ["duplicate:linked-11:", "new:inline-rss:"], rss


def test_entries_without_ids_and_duplicate_entries(server: Server) -> None:
    server.routes["/a.cap"] = Route(_cap12("same"))
    server.routes["/atom"] = Route(
        _atom(
            b"<entry><content>" + _strip_decl(_cap12("no-id-1")) + b"</content></entry>"
            b"<entry><content>" + _strip_decl(_cap12("no-id-2")) + b"</content></entry>"
            b"<entry><id>d</id><link href='/a.cap' type='application/cap+xml'/></entry>"
            b"<entry><id>d</id><link href='/a.cap' type='application/cap+xml'/></entry>"
            b"<entry><id>other</id><link href='a.cap' type='application/cap+xml'/></entry>"
        )
    )
    store = MemoryStore()
    sub = Subscription(url=f"{server.url}/atom")
    first = _poll(sub, store)
    assert sorted(first) == ["duplicate:same:", "new:no-id-1:", "new:no-id-2:", "new:same:"]
    assert _poll(sub, store) == []  # the same feed again (no ETag): nothing is new


def test_a_feed_over_the_entry_cap_is_cut_with_a_note(server: Server) -> None:
    one = _strip_decl(_cap12("many"))
    server.routes["/atom"] = Route(
        _atom(
            b"".join(
                b"<entry><id>e%d</id><content>" % n + one + b"</content></entry>"
                for n in range(MAX_ITEMS + 5)
            )
        )
    )
    lines = _poll(Subscription(url=f"{server.url}/atom"), MemoryStore())
    assert lines[0] == f"skipped::5 entries beyond the first {MAX_ITEMS} are not looked at"
    assert lines.count("new:many:") == 1 and len(lines) == 1 + MAX_ITEMS


def test_a_feed_over_the_size_cap_is_refused_before_it_is_read_whole(server: Server) -> None:
    server.routes["/huge"] = Route(b"<feed>" + b" " * (MAX_FEED_BYTES + 1) + b"</feed>")
    sub = Subscription(url=f"{server.url}/huge")
    with pytest.raises(FetchError, match="too large"):
        _poll(sub, MemoryStore())
    assert sub.failures == 1


@pytest.mark.parametrize(("pause_s", "message"), [(0.2, "too slow"), (2.0, "timed out")])
def test_a_slow_server_times_out_and_a_trickling_one_is_cut_off(
    server: Server, pause_s: float, message: str
) -> None:
    server.routes["/trickle"] = Route(_atom(b""), trickle_s=pause_s)
    sub = Subscription(url=f"{server.url}/trickle")
    started = time.monotonic()
    with pytest.raises(FetchError, match=message):
        _poll(sub, MemoryStore(), timeout_s=0.5)
    assert time.monotonic() - started < 3.0 and sub.failures == 1


def test_redirects_are_followed_only_where_the_ssrf_guard_allows(server: Server) -> None:
    server.routes["/m.cap"] = Route(_cap12("moved"))
    server.routes["/old"] = Route(status=301, headers={"Location": "/feed"})
    server.routes["/feed"] = Route(
        _atom(b"<entry><id>x</id><link href='m.cap' type='application/cap+xml'/></entry>")
    )
    server.routes["/metadata"] = Route(
        status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    server.routes["/inside"] = Route(status=302, headers={"Location": "http://10.0.0.1/feed"})
    with networks_allowed("127.0.0.1/32"):  # the test server only; the guard stays on
        assert fetch(f"{server.url}/old").url == f"{server.url}/feed"
        outcomes = Subscription(url=f"{server.url}/old").poll(
            lambda u, e, m: fetch(u, etag=e, last_modified=m), MemoryStore()
        )
        assert outcomes is not None and [o.decision for o in outcomes] == ["new"]
        for path in ("/metadata", "/inside"):
            with pytest.raises(FetchError, match="non-public"):
                fetch(f"{server.url}{path}")


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><body>Maintenance</body></html>",
        b"<html><head><title>502</title></head><body>Bad gateway</body></html>",
        b"\x1f\x8b\x08\x00garbage",
        b"",
        b"<rss version='2.0'><channel><item><link>http://[::1/x</link></item></channel></rss>",
    ],
)
def test_a_feed_that_turns_to_html_or_garbage_is_refused_then_polled_again(
    server: Server, body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore()
    monkeypatch.setattr(cli, "_import_store", lambda: store)
    server.routes["/feed"] = Route(
        _atom(b"<entry><id>a</id><content>" + _strip_decl(_cap12("good")) + b"</content></entry>"),
        headers={"ETag": '"v1"'},
    )
    args = ["subscribe", f"{server.url}/feed", "--once", "--allow-private"]
    first = CliRunner().invoke(cli.app, args)
    assert first.exit_code == 0 and "NEW" in first.output, first.output
    server.routes["/feed"] = Route(body, headers={"ETag": '"v2"'})
    bad = CliRunner().invoke(cli.app, args)
    assert bad.exception is None or isinstance(bad.exception, SystemExit), bad.output
    if b"[::1" in body:  # a feed, with an unreadable link: the entry is unreachable
        assert bad.exit_code == 0 and "UNREACHABLE" in bad.output, bad.output
    else:
        assert bad.exit_code == 1 and "REFUSED: not a CAP feed:" in bad.output, bad.output
    server.routes["/feed"] = Route(
        _atom(b"<entry><id>b</id><content>" + _strip_decl(_cap12("after")) + b"</content></entry>")
    )
    again = CliRunner().invoke(cli.app, args)
    assert again.exit_code == 0 and "NEW" in again.output, again.output


def test_the_cli_reports_a_slow_feed_in_one_line(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_import_store", MemoryStore)
    server.routes["/slow"] = Route(_atom(b""), trickle_s=0.3)
    result = CliRunner().invoke(
        cli.app,
        ["subscribe", f"{server.url}/slow", "--once", "--allow-private", "--timeout", "0.5"],
    )
    assert result.exit_code == 1 and "cannot fetch:" in result.output, result.output
    assert "Traceback" not in result.output
