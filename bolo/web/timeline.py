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
from bolo.reports.model import Report


class Kind(StrEnum):
    """What a timeline row is about (also its CSS class)."""

    CASE = "case"
    VERSION = "version"
    DELIVERY = "delivery"
    ACK = "ack"
    REPORT = "report"


@dataclass(frozen=True)
class Row:
    """One line of the timeline."""

    at: datetime
    kind: Kind
    text: str
    link: str | None = None


def _names(db: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = db.execute(select(User.id, User.username).where(User.id.in_(ids))).all()
    return dict(rows)


def _version_rows(db: Session, alerts: list[Alert]) -> list[Row]:
    ids = [a.id for a in alerts]
    versions = list(db.scalars(select(AlertVersion).where(AlertVersion.alert_id.in_(ids))))
    people = _names(db, {v.author_id for v in versions}
                    | {v.approved_by_id for v in versions if v.approved_by_id})
    status = {a.id: a.cap_status for a in alerts}
    rows = []
    for v in versions:
        link = f"/console/alerts/{v.alert_id}"
        label = f"{status[v.alert_id]} {v.msg_type} v{v.seq}"
        rows.append(Row(v.sent, Kind.VERSION,
                        f"{label} written by {people.get(v.author_id, '?')} ({v.state})", link))
        if v.approved_at and v.approved_by_id and v.msg_type != "Cancel":
            rows.append(Row(v.approved_at, Kind.VERSION,
                            f"{label} approved by {people.get(v.approved_by_id, '?')}", link))
        if v.issued_at:
            rows.append(Row(v.issued_at, Kind.VERSION, f"{label} issued", link))
    return rows


def _delivery_rows(db: Session, alert_ids: list[str]) -> list[Row]:
    rows = []
    deliveries = db.execute(
        select(Delivery.version_id, Delivery.status, Delivery.phase, Delivery.created_at)
        .where(Delivery.alert_id.in_(alert_ids))
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
        rows.append(Row(first[version_id], Kind.DELIVERY, f"deliveries: {summary}",
                        "/console/deliveries"))
    for ack in db.scalars(select(Acknowledgement).where(Acknowledgement.alert_id.in_(alert_ids))):
        rows.append(Row(ack.at, Kind.ACK, f"{ack.post_id} acknowledged ({ack.by_name}, {ack.via})"))
    return rows


def case_timeline(db: Session, case: Case, hints: list[dict[str, Any]] | None = None
                  ) -> list[Row]:
    """Every event of ``case`` in time order, newest last; ``hints`` are the case's hints as
    the reader may see them (all of them, unredacted, when not given)."""
    rows = [Row(case.reported_at, Kind.CASE, f"case {case.reference} reported"),
            Row(case.created_at, Kind.CASE, "case opened in bolo")]
    for hint in case.hints if hints is None else hints:
        rows.append(Row(case.created_at, Kind.CASE, f"hint: {hint.get('kind')} "
                        f"{hint.get('text') or ''}".strip()))
    alerts = list(db.scalars(select(Alert).where(Alert.case_id == case.id)))
    rows += _version_rows(db, alerts)
    rows += _delivery_rows(db, [a.id for a in alerts])
    for report in db.scalars(select(Report).where(Report.case_id == case.id)):
        where = report.place_resolved or report.place or report.post_id or "?"
        rows.append(Row(report.created_at, Kind.REPORT,
                        f"{report.kind} {report.receipt} at {where} ({report.state})",
                        "/console/triage"))
    for stamp, text in ((case.resolved_at, f"case resolved: {case.outcome}"),
                        (case.closed_at, "case closed"), (case.purged_at, "case purged")):
        if stamp is not None:
            rows.append(Row(stamp, Kind.CASE, text))
    return sorted(rows, key=lambda r: r.at)
