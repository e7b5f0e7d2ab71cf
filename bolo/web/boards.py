"""Console boards: the triage queue, the delivery board (who has not acknowledged), heartbeats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from bolo.alerts.model import Alert, in_force_at
from bolo.alerts.service import latest_issued, targets_of
from bolo.auth.deps import DB
from bolo.cases.model import Case, CaseState
from bolo.cases.service import list_cases
from bolo.clock import now
from bolo.dispatch.model import Delivery, DeliveryStatus, Phase
from bolo.errors import InvalidInput, NotFound
from bolo.posts.channel_kinds import ChannelKind
from bolo.posts.service import list_posts
from bolo.reports.intake import ReportState
from bolo.reports.service import Cursor, triage_page, triage_report
from bolo.web.auth import Csrf, Managers, PageUser
from bolo.web.console import base_context
from bolo.web.forms import FormFields
from bolo.web.templating import page

router = APIRouter(prefix="/console", include_in_schema=False)


NO_CASE = "none"
TRIAGE_PAGE = 50


@router.get("/triage", response_class=HTMLResponse)
def triage(
    request: Request,
    db: DB,
    user: PageUser,
    case: str | None = None,
    cursor: str | None = None,
    after: str | None = None,
) -> Response:
    """New reports of every open case (and those naming no case), one line per cluster, most
    credible first, ``TRIAGE_PAGE`` lines per case; ``?case=ID`` (or ``none``) shows one case
    and ``&cursor=`` (or ``&after=``) its next page. Reads stored clusters only: nothing is
    computed or written."""
    token = cursor or after
    position = Cursor.decode(token) if token else None
    if case is None:
        if position is not None:
            raise InvalidInput("cursor: give the case (?case=) the position belongs to")
        targets: list[Case | None] = [*list_cases(db, state=CaseState.OPEN, reader=user), None]
    elif case == NO_CASE:
        targets = [None]
    else:
        found = db.get(Case, case)
        if found is None:
            raise NotFound(f"no case {case!r}")
        targets = [found]
    queues = [
        (
            c,
            triage_page(
                db, case_id=c.id if c else None, reader=user, after=position, limit=TRIAGE_PAGE
            ),
        )
        for c in targets
    ]
    return page(
        request,
        "console/triage.html",
        base_context(
            request,
            user,
            queues=queues,
            one_case=case is not None,
            no_case=NO_CASE,
            total=sum(q.total_new for _c, q in queues),
        ),
    )


@router.post("/triage/{report_id}", dependencies=[Managers, Csrf])
def decide(report_id: str, db: DB, user: PageUser, form: FormFields) -> Response:
    """Mark a report credible, dismissed or confirmed."""
    state, reason = form.get("state", ""), form.get("reason", "")
    if state not in {s.value for s in ReportState}:
        raise InvalidInput(f"choose a triage state, not {state!r}")
    triage_report(
        db,
        report_id=report_id,
        state=ReportState(state),
        reason=reason.strip() or f"marked {state} in the console",
        actor=user,
    )
    db.commit()
    return RedirectResponse("/console/triage", status_code=303)


@dataclass(frozen=True)
class BoardLine:
    """One post addressed by a live alert: delivery state (``_label``) and acknowledgement."""

    post_id: str
    name: str
    status: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None


# How far a post got, best first: the board shows each post's best channel.
_RANK: dict[str, int] = {
    DeliveryStatus.DELIVERED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.PENDING: 2,
    DeliveryStatus.FAILED_TEMPORARY: 3,
    DeliveryStatus.FAILED_PERMANENT: 4,
}


# The board's states beyond a delivery's own status (bolo.web.words has their words).
NO_CHANNEL, NOT_SENT, STOPPED, NO_DELIVERY = (
    "no_channel",
    "not_sent_standby",
    "stopped",
    "no_delivery",
)


def _label(d: Delivery) -> str:
    """The delivery's state on the board (a value the page shows with ``word``)."""
    if d.channel_kind == ChannelKind.NONE:
        return NO_CHANNEL
    if d.status == DeliveryStatus.PENDING and d.phase != Phase.ACTIVE:
        return NOT_SENT if d.phase == Phase.STANDBY else STOPPED
    return str(d.status)


def _rank(d: Delivery) -> tuple[int, int]:
    unsent = d.status == DeliveryStatus.PENDING and d.phase != Phase.ACTIVE
    return (0 if d.acknowledged_at else 1, 9 if unsent else _RANK.get(d.status, 8))


def _lines(db: DB, alert: Alert) -> list[BoardLine]:
    version = latest_issued(db, alert_id=alert.id)
    if version is None:
        return []
    names = {p.id: p.name for p in list_posts(db, ids=targets_of(db, version_id=version.id))}
    best: dict[str, Delivery] = {}
    for d in db.scalars(
        select(Delivery).where(Delivery.version_id == version.id).order_by(Delivery.channel_index)
    ):
        old = best.get(d.post_id)
        if old is None or _rank(d) < _rank(old):
            best[d.post_id] = d
    lines = [
        BoardLine(post_id, name, NO_DELIVERY, None, None)
        for post_id, name in names.items()
        if post_id not in best
    ]
    lines += [
        BoardLine(
            d.post_id,
            names.get(d.post_id, d.post_id),
            _label(d),
            d.acknowledged_at,
            d.acknowledged_by,
        )
        for d in best.values()
    ]
    # Who has not acknowledged comes first: that is who the coordinator must chase.
    return sorted(lines, key=lambda b: (b.acknowledged_at is not None, b.post_id))


@router.get("/deliveries", response_class=HTMLResponse)
def deliveries(request: Request, db: DB, user: PageUser) -> Response:
    """Every live alert's posts: delivered or not, acknowledged or not (unacknowledged first)."""
    alerts = list(db.scalars(select(Alert).where(in_force_at(now()))))
    boards = [(a, _lines(db, a)) for a in alerts]
    return page(request, "console/deliveries.html", base_context(request, user, boards=boards))
