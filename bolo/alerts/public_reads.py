"""What the public may see of the alerts: public alerts with their newest issued version, and
their CAP texts, in a query or two whatever the number of alerts, reading the alerts in force
and only the ended ones asked for (a window of time, a number), never every alert ever issued
(the feeds and the public list read these under a national surge)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Subquery, and_, case, func, or_, select, type_coerce
from sqlalchemy.orm import Session, defer

from bolo.alerts.model import (
    Alert,
    AlertState,
    AlertVersion,
    CapStatus,
    MsgType,
    VersionState,
    has_ended,
)
from bolo.clock import now
from bolo.store.types import UtcDateTime


@dataclass(frozen=True)
class PublicIssue:
    """A public alert and its newest issued version, whose CAP text is not loaded (``messages``
    reads it); ``stored`` is False once that text was purged with its case. ``state`` is the
    alert's state at the time of reading (``Alert.state_at``: expired once its expiry passed,
    before the expiry job stores it)."""

    alert: Alert
    version: AlertVersion
    stored: bool
    state: str

    @property
    def ended(self) -> bool:
        """True when the alert no longer asks anything of the public at the time of reading
        (``has_ended``)."""
        return has_ended(self.state, self.version.msg_type)


def _ended_at() -> ColumnElement[datetime]:
    """When an ended alert came down, in SQL: its Cancel's sending time, else its expiry."""
    cancelled = or_(Alert.state == AlertState.CANCELLED, AlertVersion.msg_type == MsgType.CANCEL)
    sent = func.coalesce(AlertVersion.issued_at, AlertVersion.sent)
    return type_coerce(case((cancelled, sent), else_=Alert.expires_at), UtcDateTime())


def _ended_rule(current: datetime) -> ColumnElement[bool]:
    """Alerts that came down by ``current``: cancelled, expired (stored or past the expiry)."""
    return or_(
        Alert.state.in_([AlertState.CANCELLED, AlertState.EXPIRED]),
        and_(Alert.state == AlertState.ACTIVE, Alert.expires_at <= current),
    )


def _newest_issued() -> Subquery:
    return (
        select(AlertVersion.alert_id, func.max(AlertVersion.seq).label("seq"))
        .where(AlertVersion.state == VersionState.ISSUED)
        .group_by(AlertVersion.alert_id)
        .subquery()
    )


def _issues(
    session: Session, current: datetime, *rules: ColumnElement[bool], limit: int | None = None
) -> list[PublicIssue]:
    """Public Actual alerts meeting ``rules`` with their newest issued version, newest first
    (at most ``limit``), in one query."""
    newest = _newest_issued()
    stmt = (
        select(Alert, AlertVersion, func.length(AlertVersion.cap_xml) > 0)
        .join(newest, newest.c.alert_id == Alert.id)
        .join(
            AlertVersion,
            (AlertVersion.alert_id == Alert.id) & (AlertVersion.seq == newest.c.seq),
        )
        .where(Alert.cap_status == CapStatus.ACTUAL, *rules)
        .order_by(Alert.created_at.desc(), Alert.id)
        .limit(limit)
        # The CAP text (photos included) is the bulk of a row; the feed needs none of it.
        .options(defer(AlertVersion.cap_xml, raiseload=True))
    )
    return [
        PublicIssue(alert, version, bool(stored), alert.state_at(current))
        for alert, version, stored in session.execute(stmt)
    ]


def public_issues(
    session: Session,
    *,
    include_ended: bool = False,
    ended_since: datetime | None = None,
    ended_limit: int | None = None,
    stored_only: bool = False,
) -> list[PublicIssue]:
    """Alerts the public may see, newest first, each with its newest issued version: Actual
    only, in force (an active alert past its expiry is an ended one), and when asked the ended
    ones, those that came down at or after ``ended_since`` only and at most ``ended_limit`` of
    them (the newest); ``stored_only``: none whose CAP text was purged. Two queries; the rows
    read are those returned, not every alert ever issued."""
    current = now()
    stored = [func.length(AlertVersion.cap_xml) > 0] if stored_only else []
    in_force = or_(Alert.expires_at.is_(None), Alert.expires_at > current)
    found = _issues(session, current, Alert.state == AlertState.ACTIVE, in_force, *stored)
    active = [i for i in found if not i.ended]
    if not include_ended:
        return active
    rules = [_ended_rule(current), *stored]
    if ended_since is not None:
        rules.append(_ended_at() >= ended_since)
    ended = _issues(session, current, *rules, limit=ended_limit)
    ended += [i for i in found if i.ended]  # in force by its state, but its last word a Cancel
    by_id = sorted(active + ended, key=lambda i: i.alert.id)
    return sorted(by_id, key=lambda i: i.alert.created_at, reverse=True)  # as the queries


def last_departure(session: Session, *, keep: timedelta) -> datetime | None:
    """When the newest ended alert that left a window of ``keep`` after its end left it (its
    end plus ``keep``, in the past); None when none has left yet. One aggregate query."""
    current = now()
    newest = _newest_issued()
    ended_at = _ended_at()
    stmt = (
        select(func.max(ended_at))
        .select_from(Alert)
        .join(newest, newest.c.alert_id == Alert.id)
        .join(
            AlertVersion,
            (AlertVersion.alert_id == Alert.id) & (AlertVersion.seq == newest.c.seq),
        )
        .where(Alert.cap_status == CapStatus.ACTUAL, _ended_rule(current))
        .where(ended_at <= current - keep)
    )
    found = session.execute(stmt).scalar()
    return None if found is None else found + keep


def messages(session: Session, version_ids: list[str]) -> dict[str, str]:
    """The CAP text of each version in ``version_ids`` by version id, in one query."""
    if not version_ids:
        return {}
    stmt = select(AlertVersion.id, AlertVersion.cap_xml).where(AlertVersion.id.in_(version_ids))
    return {version_id: xml for version_id, xml in session.execute(stmt)}
