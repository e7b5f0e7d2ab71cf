"""Triage of stored reports: decisions, evidence, contact purge (the queue: ``queue.py``).

Re-exported by ``bolo.reports.service``. State changes append to the audit log in the caller's
transaction; decision reasons stay on the report (they may name people), not in the audit data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bolo.audit.service import record
from bolo.auth.model import Role, User
from bolo.auth.policy import require_reader
from bolo.auth.service import require_role
from bolo.clock import now
from bolo.errors import Conflict, InvalidInput, NotFound
from bolo.paging import Keyset, PageRequest
from bolo.reports.cluster_upkeep import refresh_lines, rescore_cluster
from bolo.reports.intake import ReportKind, ReportState, SearchResult
from bolo.reports.model import Report, ReportContact
from bolo.reports.triage_rules import ReportFacts, evidence

ALLOWED: dict[ReportState, frozenset[ReportState]] = {
    ReportState.NEW: frozenset({ReportState.CREDIBLE, ReportState.DISMISSED}),
    ReportState.CREDIBLE: frozenset({ReportState.CONFIRMED, ReportState.DISMISSED}),
    ReportState.DISMISSED: frozenset({ReportState.CREDIBLE}),
    ReportState.CONFIRMED: frozenset(),
}
EVIDENCE_STATES = (ReportState.CREDIBLE, ReportState.CONFIRMED)


# Who decides on a report (credible, dismissed, confirmed).
DECIDERS = (Role.COORDINATOR, Role.SUPERVISOR)


def facts_of(report: Any) -> ReportFacts:
    """The triage view of a stored report: a ``Report`` or a row of the reports table."""
    return ReportFacts(
        id=report.id,
        kind=ReportKind(report.kind),
        text=report.text,
        time=report.seen_at,
        lat=report.lat,
        lon=report.lon,
        radius_m=report.radius_m,
        how_located=report.how_located,
        photo_lat=report.photo_lat,
        photo_lon=report.photo_lon,
        has_photo=report.photo_path is not None,
        post_id=report.post_id,
        searched_to=report.seen_until,
        result=SearchResult(report.result) if report.result else None,
        detection_probability=report.detection_probability or 0.8,
    )


def get_report(session: Session, *, report_id: str, reader: User | None) -> Report:
    """The report with this id (or receipt number), or NotFound; Forbidden unless ``reader``
    may read reports (``bolo.auth.policy.require_reader``; None: the local operator)."""
    require_reader(reader)
    return _report(session, report_id)


def _report(session: Session, report_id: str) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        report = session.execute(
            select(Report).where(Report.receipt == report_id)
        ).scalar_one_or_none()
    if report is None:
        raise NotFound(f"no report {report_id!r}")
    return report


# Newest first; the id orders reports stored at the same time.
REPORT_ORDER = Keyset((Report.created_at, Report.id))


def list_reports(
    session: Session,
    *,
    reader: User | None,
    case_id: str | None = None,
    state: ReportState | None = None,
    kind: ReportKind | None = None,
    limit: int = 100,
    page: PageRequest | None = None,
) -> list[Report]:
    """Reports, newest first, filtered by case, state and kind: the first ``limit``, or with
    ``page`` one page of them (plus one row telling whether more follow, see bolo.paging).
    Forbidden unless ``reader`` may read reports (``require_reader``; None: the local
    operator)."""
    require_reader(reader)
    stmt = REPORT_ORDER.apply(select(Report), page)
    if page is None:
        stmt = stmt.limit(limit)
    if case_id is not None:
        stmt = stmt.where(Report.case_id == case_id)
    if state is not None:
        stmt = stmt.where(Report.state == state.value)
    if kind is not None:
        stmt = stmt.where(Report.kind == kind.value)
    return list(session.execute(stmt).scalars())


def triage_report(
    session: Session, *, report_id: str, state: ReportState, reason: str, actor: User
) -> Report:
    """Move a report to ``state`` (new -> credible | dismissed, credible -> confirmed |
    dismissed, dismissed -> credible), recording who decided and why, and rewriting its
    cluster's queue line; dismissing a report (or taking a dismissal back) re-scores the new
    reports of its cluster, whose corroboration changed. Conflict (409) for any other
    transition, InvalidInput (422) without a reason. ``actor``: a coordinator or supervisor."""
    require_role(actor, *DECIDERS)
    if not reason.strip():
        raise InvalidInput("reason: say why")
    report = _report(session, report_id)
    current = ReportState(report.state)
    if state not in ALLOWED[current]:
        raise Conflict(
            f"report {report.receipt} is {current.value}; it cannot become {state.value}"
        )
    report.state = state.value
    report.decided_by = actor.id
    report.decided_at = now()
    report.decision_reason = reason.strip()
    if report.cluster_id is not None:
        session.flush()
        conn = session.connection()
        if ReportState.DISMISSED in (current, state):
            # A dismissed report corroborates nothing: the others of its cluster lose (or,
            # taken back, regain) its support.
            rescore_cluster(conn, cluster_id=report.cluster_id, case_id=report.case_id)
        refresh_lines(conn, [report.cluster_id])
    record(
        session,
        actor_id=actor.id,
        action="report.triaged",
        entity="report",
        entity_id=report.id,
        data={"from": current.value, "to": state.value, "case_id": report.case_id},
    )
    return report


def evidence_for_case(session: Session, *, case_id: str) -> list[dict[str, Any]]:
    """Search-picture evidence from the case's credible and confirmed reports, oldest first:
    ``{"kind": "sighting", "time", "lat", "lon", "radius_m", "credibility"}`` and
    ``{"kind": "search", "post_id", "from", "to", "detection_probability", "found"}``."""
    stmt = (
        select(Report)
        .where(Report.case_id == case_id, Report.state.in_([s.value for s in EVIDENCE_STATES]))
        .order_by(Report.seen_at, Report.id)
    )
    items: list[dict[str, Any]] = []
    for report in session.execute(stmt).scalars():
        score = 1.0 if report.state == ReportState.CONFIRMED.value else report.credibility
        items.extend(evidence(facts_of(report), score))
    return items


def purge_contacts(session: Session, *, case_id: str, actor_id: str | None) -> int:
    """Delete the tipsters' contacts, blank the free text and place texts and drop the photo
    references and photo GPS positions of a case's reports (personal data); positions, times
    and states remain. Returns the number of
    reports touched. The photo files are deleted after the commit by the caller
    (``bolo.ops.retention.delete_orphan_photos``): a rolled-back purge keeps them."""
    ids = list(session.execute(select(Report.id).where(Report.case_id == case_id)).scalars())
    if not ids:
        return 0
    _blank_reports(session, ids)
    record(
        session,
        actor_id=actor_id,
        action="report.purged",
        entity="case",
        entity_id=case_id,
        data={"reports": len(ids)},
    )
    return len(ids)


def purge_caseless_reports(
    session: Session, *, received_before: datetime, actor_id: str | None
) -> tuple[int, set[str]]:
    """Purge, as ``purge_contacts`` does for a case, the reports that name no case and were
    received at or before ``received_before`` (no case's closing will ever purge them): contacts
    deleted, free text blanked, photo references dropped. Reports already purged are left
    alone. Returns (reports touched, photo paths they used, relative to the data folder: delete
    the orphans after the commit)."""
    with_contact = select(ReportContact.report_id)
    rows = session.execute(
        select(Report.id, Report.photo_path).where(
            Report.case_id.is_(None),
            Report.created_at <= received_before,
            (Report.text != "")
            | (Report.decision_reason != "")
            | (Report.place != "")
            | (Report.place_resolved != "")
            | Report.photo_lat.is_not(None)
            | Report.photo_path.is_not(None)
            | Report.id.in_(with_contact),
        )
    ).all()
    if not rows:
        return 0, set()
    ids = [row.id for row in rows]
    _blank_reports(session, ids)
    record(
        session,
        actor_id=actor_id,
        action="report.purged",
        entity="report",
        entity_id=ids[0],
        data={"reports": len(ids), "caseless": True},
    )
    return len(ids), {row.photo_path for row in rows if row.photo_path}


def _blank_reports(session: Session, ids: list[str]) -> None:
    # The place as the tipster wrote it (and the gazetteer's reading of it) and the photo's
    # GPS position (where the phone was: maybe the tipster's home) go with the text; the
    # report's own position, radius and time remain as evidence counts.
    session.execute(delete(ReportContact).where(ReportContact.report_id.in_(ids)))
    for report in session.execute(select(Report).where(Report.id.in_(ids))).scalars():
        report.text = ""
        report.decision_reason = ""
        report.place = report.place_resolved = ""
        report.photo_path = None
        report.photo_lat = report.photo_lon = None
        # The stored trigrams spell out the text: they go with it (the cluster stays).
        report.text_key = ""
