"""The replay's posts run bolo's own post-side server (receiver_server): its hooks the replay
needs (the replay's clock, 404 for an unknown post, 400 for a body that is not JSON) and the
background thread it runs on."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from bolo.clock import FakeClock, use_clock
from bolo.dispatch.receiver.server import BackgroundReceiver, ReceiverApp, UnknownPost
from bolo.dispatch.signing import HmacKey, Key, new_secret, sign_headers
from bolo.scenarios.seed_posts import LoopbackPosts, PostChannel
from tests.scenarios.http import post_status

KEY = HmacKey(new_secret())
REPLAY_NOW = datetime(2023, 4, 1, 8, 20, tzinfo=UTC)


def _keys(post_id: str) -> list[Key]:
    if post_id != "p1":
        raise UnknownPost(f"no post {post_id}")
    return [KEY]


def _signed(body: bytes, msg_id: str, when: datetime) -> dict[str, str]:
    return sign_headers(msg_id=msg_id, timestamp=int(when.timestamp()), body=body, keys=[KEY])


def test_the_clock_hook_sets_the_timestamp_window() -> None:
    body = b"{}"
    on_replay = ReceiverApp(keys_for=_keys, clock=FakeClock(REPLAY_NOW))
    assert on_replay.handle("POST", "/p1", _signed(body, "m1", REPLAY_NOW), body)[0] == 204
    wall = datetime.now(UTC)
    assert on_replay.handle("POST", "/p1", _signed(body, "m2", wall), body)[0] == 401
    # Without the hook (bolo post-receiver) the window is bolo's clock, as before.
    default = ReceiverApp(keys_for=_keys)
    assert default.handle("POST", "/p1", _signed(body, "m3", wall), body)[0] == 204
    with use_clock(FakeClock(REPLAY_NOW)):
        assert default.handle("POST", "/p1", _signed(body, "m4", REPLAY_NOW), body)[0] == 204


def test_unknown_post_is_404_and_a_refused_body_400() -> None:
    def refuse_non_json(msg_id: str, body: bytes) -> None:
        json.loads(body)  # what `bolo post-receiver` does when it prints the alert

    app = ReceiverApp(keys_for=_keys, on_message=refuse_non_json, record_arrivals=True)
    now = datetime.now(UTC)
    status, answer = app.handle("POST", "/hook/p2", _signed(b"{}", "m1", now), b"{}")
    assert status == 404 and json.loads(answer) == {"error": "no post p2"}
    # A signed body that is not JSON: a 400 answer, not an exception out of the server.
    assert app.handle("POST", "/hook/p1", _signed(b"not json", "m2", now), b"not json")[0] == 400
    assert app.handle("POST", "/hook/p1", _signed(b"{}", "m3", now), b"{}")[0] == 204
    # The refused id was not kept: the same id resent is taken (not answered as a duplicate).
    assert app.handle("POST", "/hook/p1", _signed(b"{}", "m2", now), b"{}")[0] == 204
    assert app.stats() == {"received": 4, "unique": 2, "duplicates": 0, "rejected": 2}
    assert list(app.arrivals) == ["m3", "m2"]


def test_replay_receiver_refuses_bad_paths_and_bodies_over_http() -> None:
    posts = LoopbackPosts(FakeClock(REPLAY_NOW))
    posts.secrets["p1"] = KEY.secret
    posts.start()
    try:
        base = f"http://127.0.0.1:{posts.port}"
        listed = b"[1, 2]"
        assert post_status(f"{base}/posts/p1/pager", b"{}", _signed(b"{}", "m1", REPLAY_NOW)) == 404
        assert post_status(f"{base}/other/p1", b"{}", _signed(b"{}", "m2", REPLAY_NOW)) == 404
        assert (
            post_status(
                posts.url_for("p1", PostChannel.DUTY), listed, _signed(listed, "m3", REPLAY_NOW)
            )
            == 400
        )
        body = json.dumps({"version_id": "v1", "ack_url": "http://x/ack/d1?t=tok"}).encode()
        assert (
            post_status(
                posts.url_for("p1", PostChannel.DUTY), body, _signed(body, "m4", REPLAY_NOW)
            )
            == 204
        )
    finally:
        posts.stop()
    assert posts.rejected == 3 and posts.duplicates == 0
    assert posts.arrival("p1", "v1", PostChannel.DUTY).webhook_id == "m4"
    with pytest.raises(LookupError):
        posts.arrival("p1", "v1", PostChannel.SYSTEM)


def test_background_receiver_releases_its_port() -> None:
    server = BackgroundReceiver(ReceiverApp(keys_for=_keys))
    port = server.start()
    url = f"http://127.0.0.1:{port}/hook/p1"
    assert (
        post_status(url, b"{}", _signed(b"{}", "m1", datetime.now(UTC) - timedelta(seconds=1)))
        == 204
    )
    server.stop()
    with pytest.raises(urllib.error.URLError):
        post_status(url, b"{}", {})
