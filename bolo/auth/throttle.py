"""Counting sign-in attempts atomically, with progressive waits (the ``login_throttle`` table).

An attempt takes its place *before* the password is checked: one conditional UPDATE per key
(``attempts < limit AND next_at <= now``) either counts it or refuses it, so of any number of
concurrent attempts no more than the limit are ever checked. A success gives its place back;
a failure keeps it. Everything is committed at once on the caller's own connection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bolo.auth.model import LoginThrottle
from bolo.clock import now
from bolo.errors import BoloError
from bolo.store.db import insert_or_ignore

WINDOW = timedelta(minutes=15)
MAX_WAIT_S = 60


class TooManyAttempts(BoloError):
    """Too many sign-in attempts, or one too early: wait ``retry_after_s`` seconds (HTTP 429)."""

    status = 429

    def __init__(self, message: str, *, retry_after_s: int = 60) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` failures per 15-minute window; after ``free`` failures each
    further attempt waits 1, 2, 4 ... 60 s after the previous one."""

    attempts: int
    free: int

    def wait_after(self, failures: int) -> timedelta:
        """The wait before the next attempt once ``failures`` attempts have failed."""
        if failures < self.free:
            return timedelta(0)
        return timedelta(seconds=min(MAX_WAIT_S, 2 ** (failures - self.free)))


_T = LoginThrottle


def reserve(db: Session, keys: list[tuple[str, Limit]]) -> None:
    """Count one attempt for every key, or none and TooManyAttempts (429) when any key is at
    its limit or still waiting. Commits either way (the refusal writes nothing)."""
    at = now()
    for key, limit in keys:
        db.execute(
            insert_or_ignore(db, _T, ["key"]).values(
                key=key, window_start=at, attempts=0, next_at=at
            )
        )
        db.execute(
            update(_T)
            .where(_T.key == key, _T.window_start <= at - WINDOW)
            .values(window_start=at, attempts=0, next_at=at)
        )
        counted = db.execute(
            update(_T)
            .where(_T.key == key, _T.attempts < limit.attempts, _T.next_at <= at)
            .values(attempts=_T.attempts + 1)
            .returning(_T.attempts)
        ).scalar_one_or_none()
        if counted is None:
            row = db.execute(select(_T.next_at, _T.window_start).where(_T.key == key)).one()
            db.rollback()
            raise _refusal(at, row.next_at, row.window_start)
        # Assume a failure until the password says otherwise: a concurrent attempt already
        # has to wait for it.
        db.execute(
            update(_T).where(_T.key == key).values(next_at=at + limit.wait_after(int(counted)))
        )
    db.commit()


def _refusal(at: datetime, next_at: datetime, window_start: datetime) -> TooManyAttempts:
    until = next_at if next_at > at else window_start + WINDOW
    wait = max(1, math.ceil((until - at).total_seconds()))
    return TooManyAttempts(
        f"too many failed sign-ins from here; try again in {wait} s", retry_after_s=wait
    )


def give_back(db: Session, keys: list[tuple[str, Limit]]) -> None:
    """A success: the attempt counted by ``reserve`` was not a failure (in the caller's
    transaction). Earlier failures stay counted, so successes never wash out guesses."""
    at = now()
    for key, limit in keys:
        left = db.execute(
            update(_T)
            .where(_T.key == key, _T.attempts > 0)
            .values(attempts=_T.attempts - 1)
            .returning(_T.attempts)
        ).scalar_one_or_none()
        if left is not None:
            db.execute(
                update(_T).where(_T.key == key).values(next_at=at + limit.wait_after(int(left)))
            )


def forget_old_attempts(db: Session) -> int:
    """Delete throttle rows whose window ended; return how many went."""
    result = db.execute(delete(_T).where(_T.window_start < now() - WINDOW))
    return int(getattr(result, "rowcount", 0) or 0)
