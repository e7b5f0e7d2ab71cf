"""One rule says when a public alert has ended: the feeds/list reads (PublicIssue) and the
public pages (PublicAlert) agree on every state and last message type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bolo.alerts.model import Alert, AlertState, AlertVersion, MsgType
from bolo.alerts.public_reads import PublicIssue
from bolo.cap import model as cap
from bolo.clock import now
from bolo.web.public import PublicAlert

PAST = timedelta(hours=-1)
FUTURE = timedelta(hours=1)


@pytest.mark.parametrize(
    ("state", "expires_in", "msg_type", "ended"),
    [
        (AlertState.ACTIVE, FUTURE, MsgType.ALERT, False),
        (AlertState.ACTIVE, None, MsgType.UPDATE, False),
        (AlertState.ACTIVE, PAST, MsgType.ALERT, True),  # expired before the job stored it
        (AlertState.ACTIVE, FUTURE, MsgType.CANCEL, True),  # its last word a Cancel
        (AlertState.EXPIRED, PAST, MsgType.UPDATE, True),
        (AlertState.CANCELLED, FUTURE, MsgType.ALERT, True),
        (AlertState.CANCELLED, FUTURE, MsgType.CANCEL, True),
    ],
)
def test_reads_and_pages_share_one_ended_rule(
    state: AlertState, expires_in: timedelta | None, msg_type: MsgType, ended: bool
) -> None:
    current = now()
    alert = Alert(state=state, expires_at=None if expires_in is None else current + expires_in)
    version = AlertVersion(msg_type=msg_type)
    issue = PublicIssue(alert, version, True, alert.state_at(current))
    message = cap.Alert(
        identifier="x",
        sender="s@example.org",
        sent=datetime(2026, 1, 1, tzinfo=UTC),
        status=cap.Status.ACTUAL,
        msg_type=msg_type,
        scope=cap.Scope.PUBLIC,
    )
    assert issue.ended is ended
    assert PublicAlert(alert, message).ended is ended
