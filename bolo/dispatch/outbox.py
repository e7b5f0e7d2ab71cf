"""The outbox: delivery rows written in the same transaction as the alert's state change."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bolo import clock
from bolo.alerts.model import Alert, AlertTarget, AlertVersion, CapStatus, MsgType
from bolo.dispatch.config import dispatch_settings
from bolo.dispatch.keys import ensure_post_keys
from bolo.dispatch.model import (
    FINAL_STATUSES,
    Delivery,
    DeliveryStatus,
    DisabledEndpoint,
    Escalation,
    EscalationState,
    Phase,
)
from bolo.posts.channel_kinds import ChannelKind
from bolo.posts.model import Post
from bolo.store.types import new_id

PUBLIC_KIND = "public"
UNREACHABLE_REASON = "unreachable: the post has no channel"


def _posts_that_received(session: Session, alert_id: str, version_id: str) -> set[str]:
    """Posts an earlier version may have reached: any delivery with at least one attempt."""
    rows = session.execute(
        select(Delivery.post_id)
        .where(Delivery.alert_id == alert_id, Delivery.version_id != version_id)
        .where(Delivery.attempts > 0)
        .distinct()
    )
    return set(rows.scalars())


def stop_earlier_versions(session: Session, *, alert_id: str, version_id: str) -> int:
    """Stop every unfinished delivery and pending escalation of the alert's other versions;
    return how many deliveries were stopped."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.alert_id == alert_id, Delivery.version_id != version_id)
        .where(Delivery.phase != Phase.STOPPED)
        .where(Delivery.status.not_in([str(s) for s in FINAL_STATUSES]))
        .values(phase=Phase.STOPPED, last_error="stopped: alert cancelled")
        .execution_options(synchronize_session="fetch")
    )
    session.execute(
        update(Escalation)
        .where(Escalation.alert_id == alert_id, Escalation.version_id != version_id)
        .where(Escalation.state == EscalationState.PENDING)
        .values(state=EscalationState.STOPPED, due_at=None, updated_at=clock.now())
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


CANCEL_REACHED = "stopped: the Cancel reached the post"
# Whether a version is a Cancel never changes once it is issued, so it is remembered per
# process: recording a batch then costs no extra query for versions already seen.
_is_cancel: dict[str, bool] = {}
_IS_CANCEL_MAX = 4096


def _cancel_versions(session: Session, version_ids: set[str]) -> set[str]:
    """Those of ``version_ids`` that are Cancels (one query for versions not seen before)."""
    # Read into a local dict first: another database thread may clear the cache meanwhile.
    known = {v: _is_cancel.get(v) for v in version_ids}
    unknown = [v for v, is_cancel in known.items() if is_cancel is None]
    if unknown:
        rows = session.execute(
            select(AlertVersion.id, AlertVersion.msg_type).where(AlertVersion.id.in_(unknown))
        )
        found = {v: msg_type == MsgType.CANCEL for v, msg_type in rows}
        known.update(found)
        if len(_is_cancel) + len(found) > _IS_CANCEL_MAX:
            _is_cancel.clear()
        _is_cancel.update(found)
    return {v for v, is_cancel in known.items() if is_cancel}


def retire_cancel_standbys(session: Session, reached: Iterable[tuple[str, str]]) -> int:
    """Stop the standby channels of the Cancels among ``reached``: (version id, post id) of
    deliveries just recorded delivered or sent. Called where they are recorded, in the same
    transaction; pairs of other versions cost nothing more than knowing the version's type.

    A Cancel is not escalated, so its standby rows only serve as a fallback while the first
    channel fails; once the post has it, they would otherwise stay ``pending`` for ever.
    Returns how many rows were stopped."""
    by_version: dict[str, set[str]] = {}
    for version_id, post_id in reached:
        by_version.setdefault(version_id, set()).add(post_id)
    stopped = 0
    for version_id in _cancel_versions(session, set(by_version)):
        posts = sorted(by_version[version_id])
        for start in range(0, len(posts), 500):
            result = session.execute(
                update(Delivery)
                .where(
                    Delivery.version_id == version_id,
                    Delivery.post_id.in_(posts[start : start + 500]),
                    Delivery.phase == Phase.STANDBY,
                    Delivery.status == DeliveryStatus.PENDING,
                )
                .values(phase=Phase.STOPPED, next_attempt_at=None, last_error=CANCEL_REACHED)
                .execution_options(synchronize_session=False)
            )
            stopped += int(getattr(result, "rowcount", 0) or 0)
    return stopped


def _disabled(session: Session, post_ids: Iterable[str]) -> set[tuple[str, str]]:
    ids = list(post_ids)
    found: set[tuple[str, str]] = set()
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(DisabledEndpoint.post_id, DisabledEndpoint.url).where(
                DisabledEndpoint.post_id.in_(ids[start : start + 500])
            )
        )
        found.update((p, u) for p, u in rows)
    return found


def delivery_rows(
    *,
    alert_id: str,
    version_id: str,
    post: Post,
    when: datetime,
    disabled: set[tuple[str, str]],
    origin_post_id: str | None = None,
) -> list[dict[str, Any]]:
    """One row per channel of ``post``: the first usable channel active, later ones on standby
    (for escalation and fallback), disabled endpoints recorded as failed_permanent. A post
    without any channel gets one failed_permanent row of kind ``none`` saying it is
    unreachable."""
    if not post.channels:
        # Nothing can be sent, but the coordinator must see the post as unreachable (a row
        # that is final at once, with the reason) rather than not see it at all.
        return [
            {
                "id": new_id(),
                "alert_id": alert_id,
                "version_id": version_id,
                "post_id": post.id,
                "channel_index": 0,
                "channel_kind": ChannelKind.NONE,
                "url": "",
                "status": DeliveryStatus.FAILED_PERMANENT,
                "phase": Phase.STOPPED,
                "attempts": 0,
                "next_attempt_at": None,
                "queued_attempt": 0,
                "created_at": when,
                "escalation_step": 0,
                "origin_post_id": origin_post_id,
                "last_error": UNREACHABLE_REASON,
            }
        ]
    rows: list[dict[str, Any]] = []
    active_given = False
    for index, channel in enumerate(post.channels):
        url = str(channel.get("url", ""))
        row: dict[str, Any] = {
            "id": new_id(),
            "alert_id": alert_id,
            "version_id": version_id,
            "post_id": post.id,
            "channel_index": index,
            "channel_kind": str(channel.get("kind", "webhook")),
            "url": url,
            "status": DeliveryStatus.PENDING,
            "phase": Phase.STANDBY,
            "attempts": 0,
            "next_attempt_at": when,
            "queued_attempt": 0,
            "created_at": when,
            "escalation_step": 0,
            "origin_post_id": origin_post_id,
            "last_error": None,
        }
        if (post.id, url) in disabled:
            row.update(
                status=DeliveryStatus.FAILED_PERMANENT,
                phase=Phase.STOPPED,
                last_error="endpoint disabled (410 Gone)",
            )
        elif not active_given:
            row["phase"] = Phase.ACTIVE
            active_given = True
        rows.append(row)
    return rows


def _bulk_insert(session: Session, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 1000):
        session.execute(insert(model), list(rows[start : start + 1000]))


def write_deliveries(
    session: Session,
    *,
    version: AlertVersion,
    posts: Sequence[Post],
    escalate: bool,
    origin_post_id: str | None = None,
) -> int:
    """Write delivery rows (and escalation clocks when ``escalate``) for ``posts``; return the
    number of delivery rows written. Public posts are left out of Exercise and Test alerts
    here, where every delivery is written (targets, Cancels, escalation to a supervisor)."""
    posts = reachable_posts(session, version=version, posts=posts)
    when = clock.now()
    disabled = _disabled(session, (p.id for p in posts))
    ensure_post_keys(session, {p.id: _channel_secret(p) for p in posts if _has_webhook(p)})
    rows: list[dict[str, Any]] = []
    for post in posts:
        rows.extend(
            delivery_rows(
                alert_id=version.alert_id,
                version_id=version.id,
                post=post,
                when=when,
                disabled=disabled,
                origin_post_id=origin_post_id,
            )
        )
    _bulk_insert(session, Delivery, rows)
    if escalate:
        due = when + timedelta(seconds=dispatch_settings().escalate_after_s)
        _bulk_insert(
            session,
            Escalation,
            [
                {
                    "id": new_id(),
                    "alert_id": version.alert_id,
                    "version_id": version.id,
                    "post_id": post.id,
                    "origin_post_id": origin_post_id,
                    "step": 0,
                    "due_at": due,
                    "state": EscalationState.PENDING,
                    "updated_at": when,
                }
                # A post without channels is escalated too: straight to its supervisor.
                for post in posts
            ],
        )
    return len(rows)


def reachable_posts(
    session: Session, *, version: AlertVersion, posts: Sequence[Post]
) -> list[Post]:
    """Those of ``posts`` the version may be sent to: all for an Actual alert; for Exercise
    and Test, none of kind ``public`` (the public must never see a drill)."""
    alert = session.get(Alert, version.alert_id)
    if alert is not None and alert.cap_status == CapStatus.ACTUAL:
        return list(posts)
    return [p for p in posts if p.kind != PUBLIC_KIND]


def _has_webhook(post: Post) -> bool:
    return any(str(c.get("kind", "webhook")) == "webhook" for c in post.channels or [])


def _channel_secret(post: Post) -> str | None:
    """The secret set on the post's first webhook channel, if any."""
    for channel in post.channels or []:
        if str(channel.get("kind", "webhook")) == "webhook" and channel.get("secret"):
            return str(channel["secret"])
    return None


def _load_posts(session: Session, post_ids: Iterable[str]) -> list[Post]:
    ids = sorted(set(post_ids))
    posts: list[Post] = []
    for start in range(0, len(ids), 500):
        posts.extend(session.scalars(select(Post).where(Post.id.in_(ids[start : start + 500]))))
    return posts


def enqueue_version(session: Session, *, version_id: str) -> int:
    """Write the outbox rows of an issued version, inside the caller's transaction.

    One delivery row per (version, post, channel) for every AlertTarget of the version: the
    post's first usable channel is sent at once, its later channels wait for escalation. Exercise
    and Test alerts never address public posts. A Cancel also stops every unfinished delivery and
    escalation of the earlier versions and addresses every post any earlier version may have
    reached. Returns the number of delivery rows written. Calling it twice for one version is
    refused (the unique constraint on (version, post, channel) raises IntegrityError).
    """
    version = session.get(AlertVersion, version_id)
    if version is None:
        raise LookupError(f"no alert version {version_id}")
    alert = session.get(Alert, version.alert_id)
    if alert is None:
        raise LookupError(f"no alert {version.alert_id}")
    session.flush()
    post_ids = set(
        session.scalars(select(AlertTarget.post_id).where(AlertTarget.version_id == version_id))
    )
    is_cancel = version.msg_type == MsgType.CANCEL
    if is_cancel:
        post_ids |= _posts_that_received(session, alert.id, version.id)
        stop_earlier_versions(session, alert_id=alert.id, version_id=version.id)
    posts = [p for p in _load_posts(session, post_ids) if p.active or is_cancel]
    return write_deliveries(session, version=version, posts=posts, escalate=not is_cancel)
