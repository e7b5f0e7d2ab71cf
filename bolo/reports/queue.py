"""The triage queue: a case's ``new`` reports, one line per stored cluster, a page at a time.

Reading only: clusters are computed once per report by ``bolo.reports.clustering`` when it is
stored. A report not clustered yet takes a line of its own, so nothing waits unseen. Lines are
ordered by their head's credibility (highest first), then time seen, then id; a page continues
after the last line of the one before (``bolo.paging``'s keyset paging, ``QUEUE_ORDER``:
``QueuePage.next_after``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from fastapi.exceptions import RequestValidationError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bolo.errors import InvalidInput
from bolo.paging import Keyset, encode_cursor
from bolo.reports.intake import ReportState
from bolo.reports.model import Report

MAX_PAGE = 1000


@dataclass(frozen=True)
class QueueEntry:
    """One line of the triage queue: a report heading its cluster, with the cluster's size."""

    report: Report
    cluster_size: int


# Most credible first, then earliest seen, then id (the order of the queue's lines).
QUEUE_ORDER = Keyset(
    (Report.credibility, Report.seen_at, Report.id), descending=(True, False, False)
)


@dataclass(frozen=True)
class Cursor:
    """Where a page of the queue ends: its last line's credibility, time seen and id."""

    credibility: float
    seen_at: datetime
    report_id: str

    def encode(self) -> str:
        """The page's ``cursor`` (``bolo.paging``'s opaque form, URL-safe)."""
        return encode_cursor([self.credibility, self.seen_at, self.report_id])

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """Read a cursor made by ``encode``, or a position in the form ``credibility|time
        seen|id`` (URL-safe base64, an ``after`` some clients keep); InvalidInput (422) when
        it is neither."""
        try:
            score, seen, report_id = QUEUE_ORDER.decode(token)
            return cls(cast(float, score), cast(datetime, seen), str(report_id))
        except RequestValidationError:
            pass
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            score, seen, report_id = text.split("|")
            moment = datetime.fromisoformat(seen)
            if moment.tzinfo is None or not report_id:
                raise ValueError("incomplete")
            return cls(float(score), moment, report_id)
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            raise InvalidInput(f"cursor: not a queue position ({exc})") from exc


@dataclass(frozen=True)
class QueuePage:
    """A page of the queue, the position to continue from (None: the last page), the number of
    ``new`` reports of the case, and how many of the case's reports await clustering."""

    entries: list[QueueEntry]
    next_after: Cursor | None
    total_new: int
    unclustered: int


def _case_rule(case_id: str | None) -> ColumnElement[bool]:
    return Report.case_id.is_(None) if case_id is None else Report.case_id == case_id


def triage_page(
    session: Session, *, case_id: str | None, after: Cursor | None = None, limit: int = 50
) -> QueuePage:
    """The ``new`` reports of a case (None: those naming no case), one entry per cluster (its
    most credible report, with the number of new reports in the cluster), most credible first;
    ``limit`` lines after ``after``."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit: between 1 and {MAX_PAGE}")
    group = func.coalesce(Report.cluster_id, Report.id)
    order = (Report.credibility.desc(), Report.seen_at, Report.id)
    ranked = (
        select(
            Report.id,
            Report.credibility,
            Report.seen_at,
            func.row_number().over(partition_by=group, order_by=order).label("rank"),
            func.count().over(partition_by=group).label("size"),
        )
        .where(_case_rule(case_id), Report.state == ReportState.NEW.value)
        .subquery()
    )
    keys = QUEUE_ORDER.on(ranked)
    heads = keys.apply(select(ranked.c.id, ranked.c.size).where(ranked.c.rank == 1), None)
    if after is not None:
        heads = heads.where(keys.after([after.credibility, after.seen_at, after.report_id]))
    rows = session.execute(heads.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    reports = {
        r.id: r
        for r in session.execute(
            select(Report).where(Report.id.in_([row.id for row in rows]))
        ).scalars()
    }
    entries = [QueueEntry(reports[row.id], int(row.size)) for row in rows]
    last = entries[-1].report if entries else None
    return QueuePage(
        entries=entries,
        next_after=Cursor(last.credibility, last.seen_at, last.id) if more and last else None,
        total_new=_count(session, _case_rule(case_id), Report.state == ReportState.NEW.value),
        unclustered=_count(session, _case_rule(case_id), Report.cluster_id.is_(None)),
    )


def _count(session: Session, *rules: ColumnElement[bool]) -> int:
    return int(session.execute(select(func.count()).select_from(Report).where(*rules)).scalar_one())


def triage_queue(session: Session, *, case_id: str | None, limit: int = 100) -> list[QueueEntry]:
    """The first ``limit`` lines of ``triage_page``."""
    return triage_page(session, case_id=case_id, limit=limit).entries
