"""What crosses between the in-process dispatcher's database child and its event loop
(``bolo.dispatch.db_process``): claimed jobs and finished attempts as plain tuples, which
pickle for a fraction of what the dataclasses cost the event loop."""

from __future__ import annotations

import contextlib

from bolo.dispatch.channels.base import ChannelKind, Message, SendResult
from bolo.dispatch.claims import Claimed
from bolo.dispatch.keys import parsed_key
from bolo.dispatch.policy import Outcome
from bolo.dispatch.results import Attempt
from bolo.dispatch.signing import Ed25519Key, Key, signature

WireJob = tuple[str, str, str, str, str, int, bytes, str, str, str, tuple[str, ...], str, int]
WireAttempt = tuple[str, int, str, int | None, str | None, float | None, float]


def _secret(key: Key) -> str:
    return key.private if isinstance(key, Ed25519Key) else key.secret


def encode_job(row: Claimed, message: Message, timestamp: int) -> WireJob:
    """A claimed row and its message as a plain tuple; a webhook is signed for ``timestamp``
    (Unix seconds) here, on the database side, so the sending loop computes no HMAC."""
    signed = ""
    if row.channel_kind == ChannelKind.WEBHOOK and message.keys:
        with contextlib.suppress(ValueError):  # the send signs again and reports why not
            signed = signature(
                msg_id=message.msg_id, timestamp=timestamp, body=message.body, keys=message.keys
            )
    return (
        row.id,
        row.version_id,
        row.post_id,
        row.url,
        row.channel_kind,
        row.attempts,
        message.body,
        message.title,
        message.text,
        message.region,
        tuple(_secret(k) for k in message.keys),
        signed,
        timestamp if signed else 0,
    )


def decode_job(job: WireJob) -> tuple[Claimed, Message]:
    """The row and message ``encode_job`` was given (with the signature it made)."""
    (
        id_,
        version_id,
        post_id,
        url,
        kind,
        attempts,
        body,
        title,
        text,
        region,
        secrets,
        signed,
        signed_at,
    ) = job
    return (
        Claimed(id_, version_id, post_id, url, kind, attempts),
        Message(
            id_,
            post_id,
            url,
            body,
            title,
            text,
            region,
            tuple(k for k in map(parsed_key, secrets) if k is not None),
            signed,
            signed_at,
        ),
    )


def encode_attempt(attempt: Attempt) -> WireAttempt:
    """A finished attempt as a plain tuple."""
    r = attempt.result
    return (
        attempt.delivery_id,
        attempt.number,
        r.outcome.value,
        r.status_code,
        r.error,
        r.retry_after_s,
        r.duration_s,
    )


def decode_attempt(wire: WireAttempt) -> Attempt:
    """The attempt ``encode_attempt`` was given."""
    id_, number, outcome, status, error, retry_after, duration = wire
    return Attempt(
        id_,
        number,
        SendResult(
            Outcome(outcome),
            status_code=status,
            error=error,
            retry_after_s=retry_after,
            duration_s=duration,
        ),
    )
