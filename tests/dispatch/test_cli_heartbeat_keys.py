"""The CLI's error paths, heartbeats and secret rotation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bolo.clock import FakeClock, use_clock
from bolo.dispatch.cli import SECRET_ENV, app, receiver_secrets
from bolo.dispatch.heartbeat import (
    HeartbeatState,
    heartbeat_board,
    heartbeat_state,
    record_heartbeat,
)
from bolo.dispatch.keys import rotate_post_secret, set_post_secret, signing_keys
from bolo.dispatch.model import PostKey
from bolo.dispatch.signing import HmacKey
from bolo.store.db import session_scope
from tests.dispatch.factories import T0, make_post

runner = CliRunner()


def test_cli_refuses_without_keys_or_broker(monkeypatch: Any) -> None:
    monkeypatch.delenv("BOLO_BROKER_URL", raising=False)
    result = runner.invoke(app, ["post-receiver"])
    assert result.exit_code == 2 and "--secret" in result.output
    result = runner.invoke(app, ["post-receiver", "--secret", "whsk_!!notbase64"])
    assert result.exit_code == 2 and "unreadable key" in result.output
    result = runner.invoke(app, ["relay"])
    assert result.exit_code == 2 and "BOLO_BROKER_URL" in result.output
    result = runner.invoke(app, ["dispatcher", "--backend", "nats"])
    assert result.exit_code == 2 and "broker" in result.output
    assert "Traceback" not in result.output


def test_heartbeat_states() -> None:
    interval = 300.0
    assert heartbeat_state(None, now=T0, interval_s=interval) is HeartbeatState.EXPIRED
    assert (
        heartbeat_state(T0 - timedelta(seconds=600), now=T0, interval_s=interval)
        is HeartbeatState.OK
    )
    assert (
        heartbeat_state(T0 - timedelta(seconds=601), now=T0, interval_s=interval)
        is HeartbeatState.SLOW
    )
    assert (
        heartbeat_state(T0 - timedelta(seconds=1801), now=T0, interval_s=interval)
        is HeartbeatState.EXPIRED
    )


def test_heartbeat_board_worst_first(sqlite_engine: Any) -> None:
    clock = FakeClock(T0)
    with use_clock(clock), session_scope(sqlite_engine) as s:
        for pid in ("a", "b", "c"):
            make_post(s, pid)
        record_heartbeat(s, post_id="a")
        clock.advance(seconds=1000)
        record_heartbeat(s, post_id="b")
        board = heartbeat_board(s, interval_s=300)
    assert [(b.post_id, b.state) for b in board] == [
        ("c", HeartbeatState.EXPIRED),
        ("a", HeartbeatState.SLOW),
        ("b", HeartbeatState.OK),
    ]


def test_rotation_signs_with_both_until_grace_ends(sqlite_engine: Any) -> None:
    clock = FakeClock(T0)
    with use_clock(clock), session_scope(sqlite_engine) as s:
        make_post(s, "a")
        set_post_secret(s, post_id="a", secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        new = rotate_post_secret(s, post_id="a", grace_s=3600)
        keys = signing_keys(s.get(PostKey, "a"))
        assert keys == (HmacKey(new), HmacKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        clock.advance(seconds=3601)
        assert signing_keys(s.get(PostKey, "a")) == (HmacKey(new),)


def test_unprefixed_secrets_are_base64_or_raw_text() -> None:
    from bolo.dispatch.signing import key_from_string

    assert key_from_string("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == HmacKey(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    )
    raw = key_from_string("correct horse battery staple")
    assert isinstance(raw, HmacKey) and raw.sign(b"x").startswith("v1,")


def test_the_channel_secret_is_used_and_a_change_is_rotated_in(sqlite_engine: Any) -> None:
    from bolo.dispatch.outbox import enqueue_version
    from tests.dispatch.factories import make_alert, make_version

    with use_clock(FakeClock(T0)), session_scope(sqlite_engine) as s:
        post = make_post(s, "a", [{"kind": "webhook", "url": "http://h/a", "secret": "first"}])
        alert = make_alert(s)
        enqueue_version(s, version_id=make_version(s, alert, 1, "Alert", ["a"]).id)
        key = s.get(PostKey, "a")
        assert key is not None and key.secret == "first"
        post.channels = [{"kind": "webhook", "url": "http://h/a", "secret": "second"}]
        s.flush()
        enqueue_version(s, version_id=make_version(s, alert, 2, "Update", ["a"]).id)
        s.refresh(key)
        assert (key.secret, key.previous_secret) == ("second", "first")


def test_the_receiver_takes_its_key_from_a_file_or_the_environment(
    monkeypatch: Any, tmp_path: Path
) -> None:
    """A key off the command line (where ps shows it): --secret-file, BOLO_RECEIVER_SECRET."""
    monkeypatch.delenv(SECRET_ENV, raising=False)
    keyfile = tmp_path / "receiver.key"
    keyfile.write_text("# the post's key\nwhsec_one\n\nwhsec_two\n", encoding="utf-8")
    assert receiver_secrets([], keyfile) == ["whsec_one", "whsec_two"]
    monkeypatch.setenv(SECRET_ENV, "whsec_three whsec_four")
    assert receiver_secrets(["whsec_cli"], None) == ["whsec_cli", "whsec_three", "whsec_four"]
    monkeypatch.setenv(SECRET_ENV, "whsk_!!notbase64")
    refused = runner.invoke(app, ["post-receiver"])
    assert refused.exit_code == 2 and "unreadable key" in refused.output
    monkeypatch.delenv(SECRET_ENV)
    missing = runner.invoke(app, ["post-receiver", "--secret-file", str(tmp_path / "none")])
    assert missing.exit_code == 2 and "cannot read --secret-file" in missing.output
    assert "Traceback" not in missing.output
    shown = runner.invoke(app, ["post-receiver", "--help"], env={"COLUMNS": "200"})
    assert "ps" in shown.output and "--secret-file" in shown.output
