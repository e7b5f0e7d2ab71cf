"""Triage without stored clusters, the baseline of bench/triage_bench.py.

Every page view re-clusters the case's recent reports, comparing every pair inside the 2-hour
window and rebuilding both texts' trigram sets (and romanisation) for each pair, the text
comparison before the distance check; then it groups at most 5,000 new reports.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolo.cases.model import Case
from bolo.clock import now
from bolo.reports.decisions import facts_of
from bolo.reports.geocode import haversine_m
from bolo.reports.intake import ReportState
from bolo.reports.model import Report
from bolo.reports.romanise import strip_marks
from bolo.reports.triage_rules import CaseFacts, ReportFacts, credibility

_WORD = re.compile(r"\w+")


def _shingles(text: str) -> set[str]:
    words = " ".join(_WORD.findall(strip_marks(text)))
    return {words[i : i + 3] for i in range(max(1, len(words) - 2))}


def _text_similarity(a: str, b: str) -> float:
    sa, sb = _shingles(a), _shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def _same_event(
    a: ReportFacts,
    b: ReportFacts,
    *,
    distance_m: float = 3000.0,
    window: timedelta = timedelta(hours=2),
    text_threshold: float = 0.3,
) -> bool:
    if abs(a.time - b.time) > window:
        return False
    similar = _text_similarity(a.text, b.text)
    if a.lat is None or b.lat is None or a.lon is None or b.lon is None:
        return similar >= 0.8
    gap = haversine_m(a.lat, a.lon, b.lat, b.lon)
    if gap > distance_m + min(a.radius_m, b.radius_m):
        return False
    return similar >= text_threshold or (gap < 500 and abs(a.time - b.time) < window / 4)


def _cluster(reports: Sequence[ReportFacts], **limits: Any) -> list[str]:
    window: timedelta = limits.get("window", timedelta(hours=2))
    order = sorted(range(len(reports)), key=lambda i: reports[i].time)
    parent = list(range(len(reports)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    start = 0
    for pos, i in enumerate(order):
        while reports[i].time - reports[order[start]].time > window:
            start += 1
        for j in order[start:pos]:
            if root(i) != root(j) and _same_event(reports[i], reports[j], **limits):
                a, b = sorted((root(i), root(j)), key=lambda k: (reports[k].time, reports[k].id))
                parent[b] = a
    return [reports[root(i)].id for i in range(len(reports))]


def refresh_and_queue(session: Session, case_id: str, limit: int = 100) -> list[Report]:
    """What one view of the triage page computes for a case without stored clusters: re-cluster
    and re-score the new and credible reports of the last 48 h, then one line per cluster of new
    reports."""
    stmt = select(Report).where(
        Report.state.in_([ReportState.NEW.value, ReportState.CREDIBLE.value]),
        Report.seen_at >= now() - timedelta(hours=48),
        Report.case_id == case_id,
    )
    reports = list(session.execute(stmt.limit(5000)).scalars())
    facts = [facts_of(r) for r in reports]
    labels = _cluster(facts)
    sizes: dict[str, int] = {}
    for label in labels:
        sizes[label] = sizes.get(label, 0) + 1
    case = session.get(Case, case_id)
    assert case is not None
    where = CaseFacts(case.last_known_lat, case.last_known_lon, case.last_seen_earliest)
    for report, fact, label in zip(reports, facts, labels, strict=True):
        report.cluster_id = label
        if report.state == ReportState.NEW.value:
            report.credibility, report.reasons = credibility(fact, where, sizes[label] - 1)
    heads: dict[str, Report] = {}
    for report in session.execute(
        select(Report)
        .where(Report.state == ReportState.NEW.value, Report.case_id == case_id)
        .limit(5000)
    ).scalars():
        label = report.cluster_id or report.id
        if label not in heads or report.credibility > heads[label].credibility:
            heads[label] = report
    return sorted(heads.values(), key=lambda r: (-r.credibility, r.seen_at))[:limit]
