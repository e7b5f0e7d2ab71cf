"""The triage queue: a case's ``new`` reports, one line per stored cluster, a page at a time.

Reading only: clusters are computed once per report by ``bolo.reports.clustering`` when it is
stored, which keeps one line per cluster with new reports (``report_clusters``: its most
credible new report and how many new reports it holds, rewritten as well when a report is
decided), so a page reads its lines in the queue's order without looking at every report. A
report not clustered yet takes a line of its own, so nothing waits unseen. Lines are ordered
by their head's credibility (highest first), then time seen, then id; a page continues after
the last line of the one before (``bolo.paging``'s keyset paging, ``QUEUE_ORDER``:
``QueuePage.next_after``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from fastapi.exceptions import RequestValidationError
from sqlalchemy import CTE, ColumnElement, Select, func, literal, select, union_all
from sqlalchemy.orm import Session

from bolo.auth.model import User
from bolo.auth.policy import require_reader
from bolo.errors import InvalidInput
from bolo.paging import Keyset, Value, encode_cursor
from bolo.reports.intake import ReportState
from bolo.reports.model import Report, ReportCluster

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
# The same order over the stored lines of clusters (their head report's values).
LINE_ORDER = Keyset(
    (ReportCluster.credibility, ReportCluster.seen_at, ReportCluster.head_id),
    descending=(True, False, False),
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


def _case_rule(
    case_id: str | None, column: ColumnElement[str | None] | None = None
) -> ColumnElement[bool]:
    target: Any = Report.case_id if column is None else column
    rule: ColumnElement[bool] = target.is_(None) if case_id is None else target == case_id
    return rule


def _waiting() -> CTE:
    """The reports not clustered yet (few: the worker's backlog), read through the index on
    ``cluster_id`` alone: as a plain condition beside the case's, SQLite would rather walk
    every report of the case."""
    return (
        select(Report.id, Report.case_id, Report.state, Report.credibility, Report.seen_at)
        .where(Report.cluster_id.is_(None))
        .cte("waiting")
        .prefix_with("MATERIALIZED")
    )


def _lines(
    case_id: str | None, waiting: CTE, position: list[Value] | None, limit: int
) -> list[Select[*tuple[Any, ...]]]:
    """The first ``limit`` queue lines after ``position``: the stored line of each cluster,
    and a line of its own for each new report not clustered yet (``waiting``)."""
    return [
        _first(
            LINE_ORDER,
            select(
                ReportCluster.head_id.label("id"),
                ReportCluster.credibility,
                ReportCluster.seen_at,
                ReportCluster.new_count.label("size"),
            ).where(_cluster_case_rule(case_id)),
            position,
            limit,
        ),
        _first(
            QUEUE_ORDER.on(waiting),
            select(waiting.c.id, waiting.c.credibility, waiting.c.seen_at, literal(1).label("size"))
            .where(_case_rule(case_id, waiting.c.case_id))
            .where(waiting.c.state == ReportState.NEW.value),
            position,
            limit,
        ),
    ]


def triage_page(
    session: Session,
    *,
    case_id: str | None,
    reader: User | None,
    after: Cursor | None = None,
    limit: int = 50,
) -> QueuePage:
    """The ``new`` reports of a case (None: those naming no case), one entry per cluster (its
    most credible report, with the number of new reports in the cluster), most credible first;
    ``limit`` lines after ``after``. Forbidden unless ``reader`` may read reports
    (``bolo.auth.policy.require_reader``; None: the local operator)."""
    require_reader(reader)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit: between 1 and {MAX_PAGE}")
    position: list[Value] | None = None
    if after is not None:
        position = [after.credibility, after.seen_at, after.report_id]
    # Both kinds of line in one statement, so both are read from the same state of the database.
    waiting = _waiting()
    merged = union_all(*_lines(case_id, waiting, position, limit)).subquery()
    rows = session.execute(
        QUEUE_ORDER.on(merged).apply(select(merged), None).limit(limit + 1)
    ).all()
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
        unclustered=int(
            session.execute(
                select(func.count())
                .select_from(waiting)
                .where(_case_rule(case_id, waiting.c.case_id))
            ).scalar_one()
        ),
    )


def _first(
    order: Keyset, stmt: Select[*tuple[Any, ...]], position: list[Value] | None, limit: int
) -> Select[*tuple[Any, ...]]:
    """The first ``limit`` + 1 rows of ``stmt`` in ``order`` after ``position``."""
    stmt = order.apply(stmt, None)
    if position is not None:
        stmt = stmt.where(order.after(position))
    return select(stmt.limit(limit + 1).subquery())


def _cluster_case_rule(case_id: str | None) -> ColumnElement[bool]:
    if case_id is None:
        return ReportCluster.case_id.is_(None)
    return ReportCluster.case_id == case_id


def _count(session: Session, *rules: ColumnElement[bool]) -> int:
    return int(session.execute(select(func.count()).select_from(Report).where(*rules)).scalar_one())


def triage_queue(
    session: Session, *, case_id: str | None, reader: User | None, limit: int = 100
) -> list[QueueEntry]:
    """The first ``limit`` lines of ``triage_page``."""
    return triage_page(session, case_id=case_id, reader=reader, limit=limit).entries
