"""The in-process dispatcher's database child process and what crosses to it (plain tuples)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from bolo.dispatch.attempts import Attempt, Claimed
from bolo.dispatch.channels.base import Message, SendResult
from bolo.dispatch.config import DispatchSettings
from bolo.dispatch.policy import Outcome
from bolo.dispatch.runner.database import DbOp
from bolo.dispatch.runner.database_child import (
    DbProcess,
    decode_attempt,
    decode_job,
    encode_attempt,
    encode_job,
)
from bolo.dispatch.signing import Ed25519Key, HmacKey, new_secret, sign_headers, verify
from bolo.store.db import session_scope
from tests.dispatch.factories import make_alert, make_post, make_version
from tests.dispatch.ticks import LoopTicker

BODY = b'{"title":"x"}'


def _at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def test_a_job_crosses_as_a_tuple_and_comes_back_signed() -> None:
    hmac_key, ed_key = HmacKey(new_secret()), Ed25519Key.generate()
    row = Claimed("d-1", "v-1", "p-1", "http://h/x", "webhook", 2)
    message = Message(
        msg_id="d-1",
        post_id="p-1",
        url="http://h/x",
        body=BODY,
        title="t",
        text="x",
        region="north",
        keys=(hmac_key, ed_key),
    )
    back_row, back = decode_job(encode_job(row, message, 1_700_000_000))
    assert back_row == row
    assert (back.msg_id, back.post_id, back.url, back.body, back.title, back.text, back.region) == (
        "d-1",
        "p-1",
        "http://h/x",
        BODY,
        "t",
        "x",
        "north",
    )
    assert back.keys == (hmac_key, ed_key) and back.signed_at == 1_700_000_000
    # The signature made on the database side is the one the keys make at that time, and
    # a post holding either key accepts it.
    expected = sign_headers(msg_id="d-1", timestamp=1_700_000_000, body=BODY, keys=back.keys)
    assert back.signature == expected["webhook-signature"]
    for key in (hmac_key, Ed25519Key(public=ed_key.public)):
        assert verify(BODY, expected, [key], now=_at(1_700_000_000)) == "d-1"


def test_only_webhooks_with_a_key_are_signed_ahead() -> None:
    mail = Claimed("d-2", "v-1", "p-1", "mailto://a@example.org", "apprise", 0)
    unsigned = Message(msg_id="d-2", post_id="p-1", url=mail.url, body=BODY, title="t", text="")
    assert decode_job(encode_job(mail, unsigned, 1))[1].signature == ""
    hook = mail._replace(channel_kind="webhook")
    keyless = decode_job(encode_job(hook, unsigned, 1))[1]
    assert keyless.signature == "" and keyless.keys == ()


def test_an_attempt_crosses_as_a_tuple() -> None:
    attempt = Attempt(
        "d-1",
        3,
        SendResult(
            Outcome.SLOW_DOWN,
            status_code=429,
            error="HTTP 429",
            retry_after_s=12.5,
            duration_s=0.25,
        ),
    )
    assert decode_attempt(encode_attempt(attempt)) == attempt


async def test_database_process_answers_and_a_dead_one_is_replaced(sqlite_engine: Any) -> None:
    with session_scope(sqlite_engine) as s:
        make_post(s, "a")
        make_version(s, make_alert(s), 1, "Alert", ["a"])
    link = DbProcess(engine=sqlite_engine, settings=DispatchSettings(), name="t")
    try:
        assert await link(DbOp.CLAIM, 10) == []
        first = link._process
        assert first is not None and first.is_alive()
        first.kill()  # kill -9 the child
        first.join()
        assert await link(DbOp.CLAIM, 10) == []  # a new child took over, the claim was redone
        assert link._process is not None and link._process is not first
        with pytest.raises(ValueError):  # an error in the child is raised here
            await link(DbOp.RECORD, [("d-1", 1, "no-such-outcome", None, None, None, 0.0)])
        assert await link(DbOp.ESCALATE) == 0  # and the child goes on
    finally:
        link.close()
    assert link._process is None and not first.is_alive()


async def test_database_process_leaves_when_closed(sqlite_engine: Any) -> None:
    link = DbProcess(engine=sqlite_engine, settings=DispatchSettings(), name="t")
    await link(DbOp.ESCALATE)
    child = link._process
    assert child is not None
    link.close()
    await asyncio.sleep(0)
    assert not child.is_alive() and child.exitcode == 0


async def test_two_requests_in_hand_when_the_child_dies_both_get_answered(
    sqlite_engine: Any,
) -> None:
    # The dispatcher's claimer and writer overlap: a dying child takes two requests with it,
    # and both callers must end up on one new child (not close each other's replacement).
    link = DbProcess(engine=sqlite_engine, settings=DispatchSettings(), name="t")
    try:
        await link(DbOp.ESCALATE)
        first = link._process
        assert first is not None
        first.kill()
        first.join()
        assert await asyncio.gather(link(DbOp.CLAIM, 10), link(DbOp.ESCALATE)) == [[], 0]
        assert link._process is not None and link._process.is_alive()
    finally:
        link.close()


async def test_aclose_lets_the_loop_run_while_the_child_leaves(sqlite_engine: Any) -> None:
    link = DbProcess(engine=sqlite_engine, settings=DispatchSettings(), name="t")
    await link(DbOp.ESCALATE)
    child = link._process
    assert child is not None
    ticker = LoopTicker()
    ticker.start()
    await link.aclose()
    ticker.stop()
    assert not child.is_alive() and child.exitcode == 0
    assert ticker.ticks > 0  # close() would have held the loop until the child was gone
