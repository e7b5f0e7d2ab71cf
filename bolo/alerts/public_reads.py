"""What the public may see of the alerts: public alerts with their newest issued version, and
their CAP texts, each in one query whatever the number of alerts (the feeds and the public list
read these under a national surge)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from bolo.alerts.model import Alert, AlertState, AlertVersion, CapStatus, MsgType, VersionState
from bolo.clock import now


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
        """True when the alert no longer asks anything of the public: cancelled (its newest
        message is a Cancel) or expired."""
        return self.version.msg_type == MsgType.CANCEL or self.state != AlertState.ACTIVE


def public_issues(session: Session, *, include_ended: bool = False) -> list[PublicIssue]:
    """Alerts the public may see, newest first, each with its newest issued version, in one
    query whatever their number: Actual only, in force (and ended ones when asked); an active
    alert past its expiry is an ended one."""
    states = [AlertState.ACTIVE]
    if include_ended:
        states += [AlertState.CANCELLED, AlertState.EXPIRED]
    newest = (
        select(AlertVersion.alert_id, func.max(AlertVersion.seq).label("seq"))
        .where(AlertVersion.state == VersionState.ISSUED)
        .group_by(AlertVersion.alert_id)
        .subquery()
    )
    stmt = (
        select(Alert, AlertVersion, func.length(AlertVersion.cap_xml) > 0)
        .join(newest, newest.c.alert_id == Alert.id)
        .join(
            AlertVersion,
            (AlertVersion.alert_id == Alert.id) & (AlertVersion.seq == newest.c.seq),
        )
        .where(Alert.cap_status == CapStatus.ACTUAL, Alert.state.in_(states))
        .order_by(Alert.created_at.desc())
        # The CAP text (photos included) is the bulk of a row; the feed needs none of it.
        .options(defer(AlertVersion.cap_xml, raiseload=True))
    )
    current = now()
    found = [
        PublicIssue(alert, version, bool(stored), alert.state_at(current))
        for alert, version, stored in session.execute(stmt)
    ]
    return found if include_ended else [i for i in found if not i.ended]


def messages(session: Session, version_ids: list[str]) -> dict[str, str]:
    """The CAP text of each version in ``version_ids`` by version id, in one query."""
    if not version_ids:
        return {}
    stmt = select(AlertVersion.id, AlertVersion.cap_xml).where(AlertVersion.id.in_(version_ids))
    return {version_id: xml for version_id, xml in session.execute(stmt)}
