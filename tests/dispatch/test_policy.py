"""Retry policy on a fake clock: 410/429/502/504, Retry-After, backoff bounds, rate limits."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bolo.buckets import TokenBucket
from bolo.dispatch.policy import (
    Outcome,
    RetryPolicy,
    classify_status,
    parse_retry_after,
)

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "status,outcome",
    [
        (200, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (410, Outcome.DISABLE),
        (429, Outcome.SLOW_DOWN),
        (502, Outcome.SLOW_DOWN),
        (504, Outcome.SLOW_DOWN),
        (500, Outcome.RETRY),
        (408, Outcome.RETRY),
        (400, Outcome.PERMANENT),
        (404, Outcome.PERMANENT),
    ],
)
def test_classify_status(status: int, outcome: Outcome) -> None:
    assert classify_status(status) is outcome


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("120", now=NOW) == 120.0
    assert parse_retry_after("Sun, 01 Mar 2026 08:01:30 GMT", now=NOW) == 90.0
    assert parse_retry_after("Sun, 01 Mar 2026 07:00:00 GMT", now=NOW) == 0.0
    assert parse_retry_after("soon", now=NOW) is None
    assert parse_retry_after(None, now=NOW) is None


@given(attempt=st.integers(1, 30), seed=st.integers(0, 2**32))
def test_backoff_grows_and_is_bounded(attempt: int, seed: int) -> None:
    policy = RetryPolicy(base_s=2, factor=2, max_backoff_s=600)
    delay = policy.backoff(attempt, random.Random(seed))
    step = min(600, 2 * 2 ** (attempt - 1))
    assert step / 2 <= delay <= step


def test_jitter_spreads_retries() -> None:
    rng = random.Random(1)
    delays = {round(RetryPolicy().backoff(5, rng), 3) for _ in range(50)}
    assert len(delays) > 40


def test_retry_after_and_slow_down_lengthen_the_wait() -> None:
    policy = RetryPolicy(base_s=2, max_attempts=8)
    rng = random.Random(0)
    plain = policy.next_delay(Outcome.RETRY, 1, rng, None)
    assert plain is not None and plain <= 2
    slowed = policy.next_delay(Outcome.SLOW_DOWN, 1, random.Random(0), None)
    assert slowed is not None and slowed >= 4 * 1
    told = policy.next_delay(Outcome.SLOW_DOWN, 1, rng, 300.0)
    assert told == 300.0


def test_no_retry_after_max_attempts_or_final_outcomes() -> None:
    policy = RetryPolicy(max_attempts=3)
    rng = random.Random(0)
    assert policy.next_delay(Outcome.RETRY, 2, rng, None) is not None
    assert policy.next_delay(Outcome.RETRY, 3, rng, None) is None
    for outcome in (Outcome.DELIVERED, Outcome.DISABLE, Outcome.PERMANENT):
        assert policy.next_delay(outcome, 1, rng, None) is None


def test_token_bucket_limits_bursts_on_a_fake_clock() -> None:
    bucket = TokenBucket(rate=2.0, burst=3.0)
    t = 1000.0
    taken = sum(bucket.take(t) for _ in range(10))
    assert taken == 3
    assert bucket.wait() == pytest.approx(0.5)
    assert bucket.take(t + 0.5)
    assert not bucket.take(t + 0.5)
    # over 10 s at most 2/s more get through
    sent = sum(bucket.take(t + 0.5 + i * 0.1) for i in range(1, 101))
    assert sent == 20
