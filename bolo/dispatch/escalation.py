"""Escalation: a post that has not acknowledged within T is escalated (next channel, then its
supervisor post). The next escalation time is a column, so it survives restarts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolo import clock
from bolo.alerts.model import Alert, AlertVersion, in_force_at
from bolo.audit.service import record
from bolo.dispatch.attempts import activate_next_standby
from bolo.dispatch.config import dispatch_settings
from bolo.dispatch.model import Escalation, EscalationState
from bolo.dispatch.outbox import write_deliveries
from bolo.posts.model import Post


def _to_supervisor(session: Session, esc: Escalation) -> str | None:
    """Address the post's supervisor (once per version); return its id, or None when there is
    none to address (no supervisor, already addressed, or one the version may not reach: a
    public post for an Exercise or Test alert)."""
    post = session.get(Post, esc.post_id)
    if post is None or not post.supervisor_id:
        return None
    already = session.scalars(
        select(Escalation.id).where(
            Escalation.version_id == esc.version_id, Escalation.post_id == post.supervisor_id
        )
    ).first()
    supervisor = session.get(Post, post.supervisor_id)
    if already is not None or supervisor is None:
        return None
    version = session.get(AlertVersion, esc.version_id)
    if version is None:
        return None
    written = write_deliveries(
        session, version=version, posts=[supervisor], escalate=True, origin_post_id=esc.post_id
    )
    return supervisor.id if written else None


def escalate_one(session: Session, esc: Escalation) -> str:
    """Take one escalation step now; return what was done (``channel``, ``supervisor``,
    ``exhausted``)."""
    when = clock.now()
    step_s = dispatch_settings().escalate_after_s
    esc.updated_at = when
    standby = activate_next_standby(
        session, version_id=esc.version_id, post_id=esc.post_id, when=when
    )
    if standby is not None:
        esc.step += 1
        standby.escalation_step = esc.step
        esc.due_at = when + timedelta(seconds=step_s)
        action = "channel"
    else:
        supervisor = _to_supervisor(session, esc)
        esc.step += 1
        esc.state, esc.due_at = EscalationState.EXHAUSTED, None
        action = "supervisor" if supervisor else "exhausted"
    record(
        session,
        actor_id=None,
        action=f"dispatch.escalated.{action}",
        entity="alert_version",
        entity_id=esc.version_id,
        data={"post_id": esc.post_id, "step": esc.step},
    )
    return action


def run_escalations(session: Session, *, limit: int = 500) -> int:
    """Escalate every pending escalation that is due by bolo's clock; return how many. A due
    escalation of an alert no longer in force (cancelled, expired, or past its expiry before
    the expiry job stored it) is stopped instead: nobody is chased about an alert that has
    ended. (The standby channels of a Cancel are retired where its delivery is recorded.)"""
    when = clock.now()
    due = list(
        session.scalars(
            select(Escalation)
            .where(Escalation.state == EscalationState.PENDING, Escalation.due_at <= when)
            .order_by(Escalation.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not due:
        return 0
    in_force = set(
        session.scalars(
            select(Alert.id).where(Alert.id.in_({e.alert_id for e in due}), in_force_at(when))
        )
    )
    taken = 0
    for esc in due:
        if esc.alert_id in in_force:
            escalate_one(session, esc)
            taken += 1
        else:
            esc.state, esc.due_at, esc.updated_at = EscalationState.STOPPED, None, when
    return taken
