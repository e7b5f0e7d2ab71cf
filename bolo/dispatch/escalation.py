"""Escalation: a post that has not acknowledged within T is escalated (next channel, then its
supervisor post). The next escalation time is a column, so it survives restarts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
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


def stop_out_of_force(session: Session) -> int:
    """Stop every pending escalation of an alert no longer in force (cancelled, expired, or
    past its expiry before the expiry job has stored it): nobody is chased about an alert that
    has ended. Returns how many were stopped."""
    when = clock.now()
    result = session.execute(
        update(Escalation)
        .where(Escalation.state == EscalationState.PENDING)
        .where(Escalation.alert_id.in_(select(Alert.id).where(~in_force_at(when))))
        .values(state=EscalationState.STOPPED, due_at=None, updated_at=when)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def run_escalations(session: Session, *, limit: int = 500) -> int:
    """Escalate every pending escalation that is due by bolo's clock, of alerts still in force
    (the others are stopped first); return how many were escalated. (The standby channels of a
    Cancel are retired where its delivery is recorded, not here.)"""
    stop_out_of_force(session)
    due = list(
        session.scalars(
            select(Escalation)
            .where(Escalation.state == EscalationState.PENDING, Escalation.due_at <= clock.now())
            .order_by(Escalation.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for esc in due:
        escalate_one(session, esc)
    return len(due)
