"""Reports from posts: a post's sighting (or interception) of the suspects and its search
reports (searched here, found nothing). Posts are authenticated, so these enter as credible
evidence at once; the audit log gets ids only. Times are aware datetimes, positions WGS84 degrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bolo.audit.service import record
from bolo.cases.model import Case
from bolo.clock import now
from bolo.errors import InvalidInput, NotFound
from bolo.posts.model import Post
from bolo.reports.geocode import gazetteer_for_network
from bolo.reports.intake import ReportKind, ReportState, SearchReportIn, SearchResult, SightingIn
from bolo.reports.locate import HowLocated, locate
from bolo.reports.model import Report
from bolo.reports.service import (
    DuplicateSubmission,
    check_case,
    dedupe_key,
    existing_receipt,
    report_row,
)
from bolo.reports.triage_rules import ReportFacts, credibility


@dataclass(frozen=True)
class _PostFacts:
    post: Post
    case: Case


def _post_and_case(session: Session, post_id: str, case_id: str) -> _PostFacts:
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(f"no post {post_id!r}")
    case = check_case(session, case_id)
    if case is None:
        raise InvalidInput("case_id is required")
    return _PostFacts(post, case)


def _store_post_report(session: Session, row: dict[str, Any], actor_id: str | None) -> Report:
    receipt = existing_receipt(session, row["dedupe_key"])
    if receipt is not None:
        raise DuplicateSubmission(receipt)
    report = Report(**row)
    session.add(report)
    session.flush()
    record(
        session,
        actor_id=actor_id,
        action=f"report.{row['kind']}",
        entity="report",
        entity_id=report.id,
        data={"case_id": row["case_id"], "post_id": row["post_id"], "state": row["state"]},
    )
    return report


def submit_sighting(
    session: Session,
    *,
    case_id: str,
    post_id: str,
    seen_at: datetime,
    text: str,
    lat: float | None = None,
    lon: float | None = None,
    place: str | None = None,
    intercepted: bool = False,
    actor_id: str | None = None,
    via: str = "api",
) -> Report:
    """Store a post's sighting (or interception) of the suspects. Position: the coordinates
    or place given, else the post's own. Posts are authenticated, so the report enters as
    ``credible`` (decided by the reporting user) and counts as evidence at once."""
    data = SightingIn(
        case_id=case_id,
        post_id=post_id,
        seen_at=seen_at,
        text=text,
        lat=lat,
        lon=lon,
        place=place,
        intercepted=intercepted,
    )
    facts = _post_and_case(session, post_id, case_id)
    where = locate(
        place=data.place,
        lat=data.lat,
        lon=data.lon,
        gazetteer=gazetteer_for_network(facts.case.network),
    )
    if where.lat is None:
        where = type(where)(facts.post.lat, facts.post.lon, 500.0, HowLocated.POST, facts.post.name)
    triage = ReportFacts(
        id="",
        kind=ReportKind.SIGHTING,
        text=data.text,
        time=data.seen_at,
        lat=where.lat,
        lon=where.lon,
        radius_m=where.radius_m,
        how_located=where.how.value,
        post_id=post_id,
    )
    score, reasons = credibility(triage)
    row = report_row(
        kind=ReportKind.SIGHTING,
        case_id=case_id,
        post_id=post_id,
        state=ReportState.CREDIBLE,
        via=via,
        text=data.text,
        place=data.place or "",
        place_resolved=where.resolved,
        lat=where.lat,
        lon=where.lon,
        radius_m=where.radius_m,
        how_located=where.how.value,
        seen_at=data.seen_at,
        intercepted=data.intercepted,
        credibility=score,
        reasons=reasons,
        decided_by=actor_id,
        decided_at=now(),
        decision_reason=f"reported by post {post_id}",
        dedupe_key=dedupe_key(
            "sighting", case_id, post_id, data.seen_at.isoformat(), data.text, where.lat, where.lon
        ),
    )
    return _store_post_report(session, row, actor_id)


def submit_search_report(
    session: Session,
    *,
    case_id: str,
    post_id: str,
    searched_from: datetime,
    searched_to: datetime,
    searched: str,
    result: SearchResult = SearchResult.NOTHING_FOUND,
    detection_probability: float = 0.8,
    actor_id: str | None = None,
    via: str = "api",
) -> Report:
    """Store a post's search report ("searched all passengers with children 14:00-18:00, none
    matched"): negative evidence (or, with result ``found``, a sighting at the post). Enters
    as ``credible``, decided by the reporting user."""
    data = SearchReportIn(
        case_id=case_id,
        post_id=post_id,
        searched_from=searched_from,
        searched_to=searched_to,
        searched=searched,
        result=result,
        detection_probability=detection_probability,
    )
    facts = _post_and_case(session, post_id, case_id)
    # Imported here: the picture's modules load the search kernels, which tip intake never needs.
    from bolo.cases.picture import check_reporting_post

    check_reporting_post(session, facts.case, post_id)
    triage = ReportFacts(
        id="", kind=ReportKind.SEARCH, text=data.searched, time=data.searched_from, post_id=post_id
    )
    score, reasons = credibility(triage)
    row = report_row(
        kind=ReportKind.SEARCH,
        case_id=case_id,
        post_id=post_id,
        state=ReportState.CREDIBLE,
        via=via,
        text=data.searched,
        place=facts.post.name,
        place_resolved=facts.post.name,
        lat=facts.post.lat,
        lon=facts.post.lon,
        radius_m=500.0,
        how_located=HowLocated.POST.value,
        seen_at=data.searched_from,
        seen_until=data.searched_to,
        result=data.result.value,
        detection_probability=data.detection_probability,
        credibility=score,
        reasons=reasons,
        decided_by=actor_id,
        decided_at=now(),
        decision_reason=f"reported by post {post_id}",
        dedupe_key=dedupe_key(
            "search",
            case_id,
            post_id,
            data.searched_from.isoformat(),
            data.searched_to.isoformat(),
            data.result.value,
        ),
    )
    return _store_post_report(session, row, actor_id)
