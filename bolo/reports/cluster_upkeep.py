"""Keeping stored clusters current: the corroboration scores of their new reports and their
queue lines (``report_clusters``), rewritten in the caller's transaction after a clustering
batch or a triage decision."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from sqlalchemy import Connection, Table, bindparam, case, delete, func, insert, select, update

from bolo.cases.model import Case
from bolo.reports.intake import ReportState
from bolo.reports.model import Report, ReportCluster
from bolo.reports.triage_rules import CaseFacts, credibility

_REPORTS = cast(Table, Report.__table__)
_IN_CHUNK = 500  # values per IN list (well under every driver's bound-parameter limit)
# The queue's order of a cluster's new reports: most credible, then earliest seen, then id.
_QUEUE_ORDER = (Report.credibility.desc(), Report.seen_at, Report.id)


def in_chunks(values: Iterable[str]) -> Iterable[list[str]]:
    """``values`` sorted, in lists short enough for one SQL ``IN``."""
    ordered = sorted(values)
    for start in range(0, len(ordered), _IN_CHUNK):
        yield ordered[start : start + _IN_CHUNK]


def live_sizes(conn: Connection, labels: Iterable[str]) -> dict[str, int]:
    """Reports per cluster that are not dismissed."""
    live = func.sum(case((Report.state != ReportState.DISMISSED.value, 1), else_=0))
    return {
        label: int(n or 0)
        for chunk in in_chunks(labels)
        for label, n in conn.execute(
            select(Report.cluster_id, live)
            .where(Report.cluster_id.in_(chunk))
            .group_by(Report.cluster_id)
        )
    }


def case_facts(conn: Connection, case_id: str | None) -> CaseFacts | None:
    """The case's last-known place and time, as credibility scoring reads them (None: no case)."""
    if case_id is None:
        return None
    found = conn.execute(
        select(Case.last_known_lat, Case.last_known_lon, Case.last_seen_earliest).where(
            Case.id == case_id
        )
    ).first()
    return None if found is None else CaseFacts(found[0], found[1], found[2])


def rescore(conn: Connection, *, ids: set[str], case: CaseFacts | None) -> int:
    """Re-score the ``new`` reports among ``ids`` with the case's last-known place and their
    corroboration (the other reports of their cluster not dismissed, counting up to 2).
    Returns how many rows changed."""
    from bolo.reports.decisions import facts_of

    reports = [
        r
        for chunk in in_chunks(ids)
        for r in conn.execute(
            select(_REPORTS).where(Report.id.in_(chunk), Report.state == ReportState.NEW.value)
        )
    ]
    sizes = live_sizes(conn, {r.cluster_id for r in reports if r.cluster_id})
    changed = []
    for report in reports:
        others = max(0, sizes.get(report.cluster_id, 1) - 1)
        score, reasons = credibility(facts_of(report), case, others)
        if score != report.credibility or reasons != report.reasons:
            changed.append({"rid": report.id, "score": score, "why": reasons})
    if changed:
        conn.execute(
            update(_REPORTS)
            .where(_REPORTS.c.id == bindparam("rid"))
            .values(credibility=bindparam("score"), reasons=bindparam("why")),
            changed,
        )
    return len(changed)


def refresh_lines(conn: Connection, labels: Iterable[str]) -> None:
    """Rewrite the queue lines (``report_clusters``) of the clusters ``labels`` from their
    reports, in the caller's transaction: the most credible new report (then the earliest, then
    the lowest id) and the number of new reports; no line for a cluster without new reports
    (or merged into another). One DELETE and one INSERT ... SELECT per chunk of labels, reading
    the clusters' own rows by their index: the database ranks each cluster's reports (window
    functions), so no report row comes back to Python."""
    new = Report.state == ReportState.NEW.value
    for chunk in in_chunks(labels):
        conn.execute(delete(ReportCluster).where(ReportCluster.id.in_(chunk)))
        cluster = Report.cluster_id
        ranked = (
            select(
                cluster.label("id"),
                Report.case_id,
                Report.id.label("head_id"),
                Report.credibility,
                Report.seen_at,
                new.label("is_new"),
                func.sum(case((new, 1), else_=0)).over(partition_by=cluster).label("new_count"),
                func.row_number()
                .over(
                    partition_by=cluster,
                    order_by=(case((new, 0), else_=1), *_QUEUE_ORDER),
                )
                .label("place"),
            )
            # Only the cluster in the WHERE: a test of the state there let SQLite walk the
            # index of every new report of the database instead of the clusters' own rows.
            .where(cluster.in_(chunk))
            .subquery()
        )
        columns = ["id", "case_id", "head_id", "credibility", "seen_at", "new_count"]
        heads = select(*(ranked.c[name] for name in columns)).where(
            ranked.c.place == 1, ranked.c.is_new
        )
        conn.execute(insert(ReportCluster).from_select(columns, heads))


def rescore_cluster(conn: Connection, *, cluster_id: str, case_id: str | None) -> int:
    """Re-score the ``new`` reports of a cluster after one of its reports was dismissed or
    taken back (its corroboration changed); returns how many rows changed. Only a cluster of at
    most 3 reports not dismissed can change (corroboration counts up to 2 others)."""
    if live_sizes(conn, [cluster_id]).get(cluster_id, 0) > 3:
        return 0
    ids = set(conn.execute(select(Report.id).where(Report.cluster_id == cluster_id)).scalars())
    return rescore(conn, ids=ids, case=case_facts(conn, case_id))
