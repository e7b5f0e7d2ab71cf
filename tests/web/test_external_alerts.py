"""`bolo cap subscribe` against a feed served by a local HTTP server: Alert, then Update, then a
message with a bad signature, then Cancel; after each poll the console (list, map) and the
public page show the right state, and a neighbour's child abduction alert links to a case."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from bolo.alerts.external import DatabaseImportStore, ExternalAlert
from bolo.cap.cli import app, register_import_store
from bolo.cap.codec import encode
from bolo.cap.feeds import FeedEntry, atom_feed
from bolo.cap.model import Alert, MsgType, Reference, Status
from bolo.cap.signing import sign
from bolo.security import fetchguard
from bolo.store.db import session_scope
from tests.cap.factories import cert_pem, key_pem, make_alert, make_cert, make_key
from tests.security.factories import World
from tests.web.conftest import ClientFor

SENDER = "amber@neighbour.example"
SENT = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
runner = CliRunner()


class FeedServer:
    """Serves /feed.atom and /msg/N.cap with ETag / If-None-Match; counts its 304 answers."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.not_modified = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body, kind = outer.body(self.path)
                if body is None:
                    self.send_error(404)
                    return
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    outer.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def body(self, path: str) -> tuple[bytes | None, str]:
        if path == "/feed.atom":
            entries = [
                FeedEntry(
                    id=f"urn:test:{n}",
                    title=f"message {n}",
                    updated=SENT + timedelta(minutes=n),
                    summary="",
                    cap_url=f"{self.url}/msg/{n}.cap",
                    html_url=f"{self.url}/msg/{n}.html",
                )
                for n in range(len(self.messages))
            ]
            return atom_feed(
                entries,
                feed_id="urn:test:feed",
                title="neighbour",
                self_url=f"{self.url}/feed.atom",
            ), "application/atom+xml"
        if path.startswith("/msg/") and path.endswith(".cap"):
            n = int(path[5:-4])
            return (self.messages[n] if n < len(self.messages) else None), "application/cap+xml"
        return None, "text/plain"


@pytest.fixture()
def feed() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _message(
    identifier: str, minutes: int, msg_type: MsgType, headline: str, refs: list[Alert]
) -> Alert:
    alert = make_alert(
        identifier=identifier,
        sender=SENDER,
        sent=SENT + timedelta(minutes=minutes),
        msg_type=msg_type,
        status=Status.ACTUAL,
        references=[Reference(sender=r.sender, identifier=r.identifier, sent=r.sent) for r in refs],
    )
    alert.infos[0].headline = headline
    alert.infos[0].sender_name = "Neighbour County AMBER"
    alert.infos[0].expires = datetime.now(UTC) + timedelta(hours=6)
    return alert


def _poll(feed: FeedServer, cert_file: str) -> tuple[int, str]:
    result = runner.invoke(
        app,
        [
            "subscribe",
            f"{feed.url}/feed.atom",
            "--signer",
            cert_file,
            "--once",
            "--allow-private",
            "--state",
            f"{cert_file}.state",
        ],
    )
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_subscribe_follows_a_neighbours_feed(
    feed: FeedServer, client_for: ClientFor, world: World, tmp_path: object
) -> None:
    register_import_store(DatabaseImportStore)
    fetchguard.install()  # as the bolo command does
    key = make_key()
    cert_file = f"{tmp_path}/signer.pem"
    with open(cert_file, "wb") as handle:
        handle.write(cert_pem(make_cert(key, name="neighbour")))

    def signed(alert: Alert) -> bytes:
        return sign(encode(alert), key_pem=key_pem(key), cert_pem=open(cert_file, "rb").read())

    console, public = client_for("coordinator"), client_for("viewer")
    original = _message("AMBER-1", 0, MsgType.ALERT, "AMBER: boy taken in Neighbour Town", [])
    feed.messages.append(signed(original))
    code, output = _poll(feed, cert_file)
    assert code == 0 and "NEW amber@neighbour.example,AMBER-1" in output, output
    page = console.get("/console/external").text
    assert "AMBER: boy taken in Neighbour Town" in page and "Neighbour County AMBER" in page
    shapes = console.get("/console/external/map.json").json()["features"]
    assert [f["properties"]["sender"] for f in shapes] == ["Neighbour County AMBER"]
    assert "AMBER: boy taken in Neighbour Town" in public.get("/alerts").text

    code, output = _poll(feed, cert_file)  # nothing new: a conditional GET answered 304
    assert code == 0 and "feed unchanged (304)" in output and feed.not_modified == 1

    update = _message("AMBER-2", 10, MsgType.UPDATE, "AMBER: car seen heading north", [original])
    feed.messages.append(signed(update))
    code, output = _poll(feed, cert_file)
    assert code == 0 and "UPDATE amber@neighbour.example,AMBER-2" in output, output
    page = console.get("/console/external").text
    assert "car seen heading north" in page and "boy taken in Neighbour Town" not in page

    with session_scope() as db:
        row = db.query(ExternalAlert).filter_by(identifier="AMBER-2").one()
        external_id = row.id
    linked = console.post(f"/console/external/{external_id}/link", data={"case_id": world.case_id})
    assert linked.status_code == 303
    with session_scope() as db:
        assert db.get(ExternalAlert, external_id).case_id == world.case_id  # type: ignore[union-attr]
    assert f'href="/console/cases/{world.case_id}"' in console.get("/console/external").text
    assert (
        client_for("viewer")
        .post(f"/console/external/{external_id}/link", data={"case_id": ""})
        .status_code
        == 403
    )

    forged = signed(_message("AMBER-3", 15, MsgType.ALERT, "AMBER: forged", []))
    feed.messages.append(forged.replace(b"AMBER: forged", b"AMBER: forgex"))
    code, output = _poll(feed, cert_file)
    assert code == 1 and "REFUSED" in output and "signature" in output, output
    assert "forge" not in console.get("/console/external").text

    cancel = _message("AMBER-4", 20, MsgType.CANCEL, "Cancelled: found safe", [original, update])
    feed.messages.append(signed(cancel))
    code, output = _poll(feed, cert_file)
    assert "CANCEL amber@neighbour.example,AMBER-4" in output, output
    page = console.get("/console/external").text
    assert "No alert from another agency is in force" in page
    assert "car seen heading north" not in public.get("/alerts").text


def test_subscribe_refuses_an_unsigned_message_when_a_signer_is_pinned(
    feed: FeedServer, sqlite_engine: object, tmp_path: object
) -> None:
    register_import_store(DatabaseImportStore)
    fetchguard.install()  # as the bolo command does
    cert_file = f"{tmp_path}/signer.pem"
    with open(cert_file, "wb") as handle:
        handle.write(cert_pem(make_cert(make_key())))
    feed.messages.append(encode(_message("PLAIN-1", 0, MsgType.ALERT, "unsigned", [])))
    code, output = _poll(feed, cert_file)
    assert code == 1 and "REFUSED" in output and "missing signature" in output, output
    code, output = _poll(feed, cert_file)
    assert "feed unchanged (304)" in output  # refused once, not retried for ever
