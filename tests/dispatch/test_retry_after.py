"""Retry-After comes from the post's server: any value is read or ignored, never raises."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bolo.dispatch.policy import MAX_RETRY_AFTER_S, parse_retry_after

NOW = datetime(2015, 10, 21, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 1680.0),
        ("Wed, 21 Oct 2015 07:28:00 -0000", 1680.0),  # no zone known: UTC (was a TypeError)
        ("Wed, 21 Oct 2015 06:00:00 GMT", 0.0),
        ("1" * 400, MAX_RETRY_AFTER_S),  # was inf
        ("\u00b2", None),  # a superscript two is a "digit" to str.isdigit (was a ValueError)
        ("\u0663", None),
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_values(value: str, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


@given(st.text(max_size=60))
def test_retry_after_never_raises(value: str) -> None:
    seconds = parse_retry_after(value, now=NOW)
    assert seconds is None or 0.0 <= seconds <= MAX_RETRY_AFTER_S
