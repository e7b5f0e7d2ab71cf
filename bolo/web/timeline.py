"""One timeline of everything that happened to a case: versions, deliveries, acks, reports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolo.alerts.model import Alert, AlertVersion
from bolo.auth.model import User
from bolo.cases.model import Case
from bolo.dispatch.model import Acknowledgement, Delivery, DeliveryStatus, Phase
from bolo.i18n import N_, gettext
from bolo.posts.model import Post
from bolo.reports.model import Report
from bolo.web.words import ack_channel, word


class Kind(StrEnum):
    """What a timeline row is about (also its CSS class)."""

    CASE = "case"
    VERSION = "version"
    DELIVERY = "delivery"
    ACK = "ack"
    REPORT = "report"


# Fields whose values are model words (states, kinds), shown translated; others are names.
_WORD_FIELDS = frozenset({"state", "kind", "type", "status", "via", "outcome"})


def _field(name: str, value: str) -> str:
    """A field's value as a line shows it: model words and channels translated, names as is."""
    if name == "channel":
        return ack_channel(value)
    return word(value) if name in _WORD_FIELDS else value


@dataclass(frozen=True)
class Row:
    """One line of the timeline: ``text`` in English; ``shown()`` in the language in use."""

    at: datetime
    kind: Kind
    text: str
    link: str | None = None
    message: str = ""  # the message id ``text`` was made from (with %(name)s fields)
    params: tuple[tuple[str, str], ...] = ()

    def shown(self) -> str:
        """The line in the language in use (the values of its fields as they are)."""
        if not self.message:
            return self.text
        fields = {name: _field(name, value) for name, value in self.params}
        return gettext(self.message) % fields


def _row(
    at: datetime, kind: Kind, message: str, link: str | None = None, /, **params: object
) -> Row:
    fields = tuple((name, str(value)) for name, value in params.items())
    return Row(at, kind, message % dict(fields), link, message, fields)


def _names(db: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = db.execute(select(User.id, User.username).where(User.id.in_(ids))).all()
    return dict(rows)


def _post_names(db: Session, ids: set[str]) -> dict[str, str]:
    """The names of the posts ``ids`` that still exist (a post gone is absent)."""
    if not ids:
        return {}
    return dict(db.execute(select(Post.id, Post.name).where(Post.id.in_(ids))).all())


def _version_rows(db: Session, alerts: list[Alert]) -> list[Row]:
    ids = [a.id for a in alerts]
    versions = list(db.scalars(select(AlertVersion).where(AlertVersion.alert_id.in_(ids))))
    people = _names(
        db,
        {v.author_id for v in versions} | {v.approved_by_id for v in versions if v.approved_by_id},
    )
    status = {a.id: a.cap_status for a in alerts}
    rows = []
    for v in versions:
        link = f"/console/alerts/{v.alert_id}"
        label = {"status": status[v.alert_id], "type": v.msg_type, "seq": v.seq}
        rows.append(
            _row(
                v.sent,
                Kind.VERSION,
                N_("%(status)s %(type)s v%(seq)s written by %(who)s (%(state)s)"),
                link,
                **label,
                who=people.get(v.author_id, "?"),
                state=v.state,
            )
        )
        if v.approved_at and v.approved_by_id and v.msg_type != "Cancel":
            rows.append(
                _row(
                    v.approved_at,
                    Kind.VERSION,
                    N_("%(status)s %(type)s v%(seq)s approved by %(who)s"),
                    link,
                    **label,
                    who=people.get(v.approved_by_id, "?"),
                )
            )
        if v.issued_at:
            rows.append(
                _row(
                    v.issued_at,
                    Kind.VERSION,
                    N_("%(status)s %(type)s v%(seq)s issued"),
                    link,
                    **label,
                )
            )
    return rows


def _delivery_rows(db: Session, alert_ids: list[str]) -> list[Row]:
    rows = []
    deliveries = db.execute(
        select(Delivery.version_id, Delivery.status, Delivery.phase, Delivery.created_at).where(
            Delivery.alert_id.in_(alert_ids)
        )
    ).all()
    by_version: dict[str, Counter[str]] = {}
    first: dict[str, datetime] = {}
    for version_id, status, phase, created in deliveries:
        # An unsent standby channel, or one stopped by an ack or a Cancel, is not "pending".
        label = phase if status == DeliveryStatus.PENDING and phase != Phase.ACTIVE else status
        by_version.setdefault(version_id, Counter())[label] += 1
        first[version_id] = min(first.get(version_id, created), created)
    for version_id, counts in by_version.items():
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        rows.append(
            _row(
                first[version_id],
                Kind.DELIVERY,
                N_("deliveries: %(summary)s"),
                "/console/deliveries",
                summary=summary,
            )
        )
    acks = list(db.scalars(select(Acknowledgement).where(Acknowledgement.alert_id.in_(alert_ids))))
    posts = _post_names(db, {a.post_id for a in acks})
    for ack in acks:
        rows.append(
            _row(
                ack.at,
                Kind.ACK,
                N_("%(post)s acknowledged by %(who)s through %(channel)s"),
                post=posts.get(ack.post_id, ack.post_id),
                who=ack.by_name,
                channel=ack.via,
            )
        )
    return rows


def case_timeline(db: Session, case: Case, hints: list[dict[str, Any]] | None = None) -> list[Row]:
    """Every event of ``case`` in time order, newest last; ``hints`` are the case's hints as
    the reader may see them (all of them, unredacted, when not given)."""
    rows = [
        _row(case.reported_at, Kind.CASE, N_("case %(ref)s reported"), ref=case.reference),
        _row(case.created_at, Kind.CASE, N_("case opened in bolo")),
    ]
    for hint in case.hints if hints is None else hints:
        rows.append(
            _row(
                case.created_at,
                Kind.CASE,
                N_("hint: %(kind)s %(text)s"),
                kind=hint.get("kind"),
                text=hint.get("text") or "",
            )
        )
    alerts = list(db.scalars(select(Alert).where(Alert.case_id == case.id)))
    rows += _version_rows(db, alerts)
    rows += _delivery_rows(db, [a.id for a in alerts])
    for report in db.scalars(select(Report).where(Report.case_id == case.id)):
        where = report.place_resolved or report.place or report.post_id or "?"
        rows.append(
            _row(
                report.created_at,
                Kind.REPORT,
                N_("%(kind)s %(receipt)s at %(where)s (%(state)s)"),
                "/console/triage",
                kind=report.kind,
                receipt=report.receipt,
                where=where,
                state=report.state,
            )
        )
    for stamp, message in (
        (case.resolved_at, N_("case resolved: %(outcome)s")),
        (case.closed_at, N_("case closed")),
        (case.purged_at, N_("case purged")),
    ):
        if stamp is not None:
            rows.append(_row(stamp, Kind.CASE, message, outcome=case.outcome))
    return sorted(rows, key=lambda r: r.at)
