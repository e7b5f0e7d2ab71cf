"""How fast bolo sends to one destination (an SMS gateway, a webhook host, a broker): a token
bucket per destination and channel kind (``RateLimits``, set by ``BOLO_DISPATCH_RATE_LIMITS``).

The buckets can hold for the whole deployment: each destination's token bucket then lives in the
database (``dispatch_rate_buckets``), so two dispatcher workers (in-process on PostgreSQL, or
NATS workers) share one SMS gateway's rate instead of each sending at it.

A take is one conditional UPDATE (the bucket refilled to now, less the tokens taken, only if
it holds them): atomic on SQLite and PostgreSQL without a read-modify-write race. Bucket times
are wall-clock Unix seconds, since several processes (and machines) share them. A worker may
take a few tokens at once (``lease``) for a fast limit, so the database sees a round trip per
lease rather than per send; the deployment never gets more than the bucket hands out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Engine, case, select, update
from sqlalchemy.orm import Session

from bolo.buckets import TokenBucket
from bolo.dispatch.model import RateBucket
from bolo.posts.channel_kinds import ChannelKind
from bolo.store.db import insert_or_ignore


@dataclass
class RateLimits:
    """Token buckets per destination key (e.g. an Apprise SMS gateway or a webhook host)."""

    default_rate_per_s: float = 50.0
    default_burst: float = 100.0
    overrides: dict[str, tuple[float, float]] = field(default_factory=dict)
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def bucket(self, key: str) -> TokenBucket:
        """The bucket of destination ``key``, created on first use."""
        found = self.buckets.get(key)
        if found is None:
            rate, burst = self.overrides.get(key, (self.default_rate_per_s, self.default_burst))
            found = self.buckets[key] = TokenBucket(rate, burst)
        return found


# SMS and e-mail gateways block senders that burst: Apprise sends are limited per gateway by
# default (BOLO_DISPATCH_RATE_LIMITS); webhooks and MQTT go to servers we expect to take the load.
DEFAULT_LIMITS = {ChannelKind.APPRISE: RateLimits(default_rate_per_s=2.0, default_burst=5.0)}


def limits_from_settings(
    limits: Mapping[str, tuple[float, float]],
) -> dict[ChannelKind, RateLimits]:
    """Token-bucket limits per channel kind from ``{kind: (rate per second, burst)}``;
    ValueError for an unknown kind, a rate <= 0 or a burst < 1."""
    out: dict[ChannelKind, RateLimits] = {}
    for kind, (rate, burst) in limits.items():
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate limit of {kind!r}: rate must be > 0 and burst >= 1")
        out[ChannelKind(kind)] = RateLimits(default_rate_per_s=rate, default_burst=burst)
    return out


# A lease covers about this many seconds of a limit's rate (at least one token).
LEASE_S = 0.1


def lease_size(rate_per_s: float, burst: float) -> int:
    """How many tokens a worker takes at once for a limit of ``rate_per_s`` and ``burst``."""
    return max(1, min(int(burst), int(rate_per_s * LEASE_S)))


def _refilled(rate_per_s: float, burst: float, now_s: float) -> ColumnElement[float]:
    level = RateBucket.tokens + (now_s - RateBucket.stamp_s) * rate_per_s
    return case((level > burst, burst), else_=level)


class SharedBuckets:
    """Token buckets in the database, one per destination key."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    def take(self, key: str, rate_per_s: float, burst: float, want: int = 1) -> tuple[int, float]:
        """Take ``want`` tokens (or, failing that, one) from ``key``'s bucket of ``rate_per_s``
        and ``burst``; returns (tokens taken, 0) or, when none is there, (0, seconds until one
        is)."""
        now = self.clock()
        with Session(self.engine) as session, session.begin():
            for count in sorted({want, 1}, reverse=True):
                level = _refilled(rate_per_s, burst, now)
                taken = session.execute(
                    update(RateBucket)
                    .where(RateBucket.key == key, level >= count)
                    .values(tokens=level - count, stamp_s=now)
                    .returning(RateBucket.key)
                ).first()
                if taken is not None:
                    return count, 0.0
            created = session.execute(
                insert_or_ignore(session, RateBucket, ["key"])
                .values(key=key, tokens=burst - want, stamp_s=now)
                .returning(RateBucket.key)
            ).first()  # (rowcount is -1 here on psycopg)
            if created is not None:
                return want, 0.0
            row = session.execute(
                select(RateBucket.tokens, RateBucket.stamp_s).where(RateBucket.key == key)
            ).one()
        level_now = min(burst, row.tokens + max(0.0, now - row.stamp_s) * rate_per_s)
        return 0, max(0.0, 1.0 - level_now) / rate_per_s + 1e-3


@dataclass
class SharedLimiter:
    """What a Sender waits on for a limited destination: local leases of the shared bucket.
    One task per key asks the database at a time; the others wait for its answer."""

    buckets: SharedBuckets
    _leased: dict[str, int] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def wait(self, key: str, rate_per_s: float, burst: float) -> None:
        """Return once a token of ``key`` (a channel kind and destination) is this send's."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            while not self._leased.get(key):
                got, wait_s = await asyncio.to_thread(
                    self.buckets.take, key, rate_per_s, burst, lease_size(rate_per_s, burst)
                )
                if got:
                    self._leased[key] = got
                else:
                    await asyncio.sleep(wait_s)
            self._leased[key] -= 1
