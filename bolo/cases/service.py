"""Case lifecycle: open -> resolved -> closed -> purged, enforced here for the API, the console and
the CLI, with who may do what (the acting user's role)."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from bolo.alerts.model import Alert, AlertState, AlertVersion, in_force_at
from bolo.audit.service import record
from bolo.auth.model import Role, User
from bolo.auth.policy import require_reader
from bolo.auth.service import require_role
from bolo.cases.model import Case, CasePhoto, CaseState
from bolo.cases.schemas import CaseCreate, CaseResolve, Hint
from bolo.clock import now
from bolo.errors import Conflict, Gone, InvalidInput, NotFound
from bolo.i18n import N_
from bolo.network import default_network, is_known
from bolo.paging import Keyset, PageRequest

PURGED = "[purged]"
# Decimal places of the last-known place a purged case keeps: 0.1 degree (about 11 km) counts
# cases by district without pointing at the child's home.
PURGED_PLACE_DECIMALS = 1
PICTURE_PURGED = N_(
    "the search picture was deleted with the case's personal data at the end of the"
    " retention period"
)
# Who opens cases and works on an open one (hints, photos); who records the outcome and closes.
EDITORS = (Role.COORDINATOR,)
CLOSERS = (Role.COORDINATOR, Role.SUPERVISOR)


def open_case(session: Session, *, data: CaseCreate, actor: User) -> Case:
    """Open a case from a report (``actor``: a coordinator); times must not lie in the
    future."""
    require_role(actor, *EDITORS)
    current = now()
    reported = data.reported_at or current
    if data.last_known.time_earliest > current or reported > current:
        raise InvalidInput("a time of the report lies in the future")
    network = data.network or default_network()
    if not is_known(network):
        raise InvalidInput(
            f"network: no network named {network!r}; import it first with "
            f"'bolo network import FILE.osm.pbf --name {network}'"
        )
    case = Case(
        reference=f"C-{reported:%Y%m%d}-{uuid.uuid4().hex[:6].upper()}",
        state=CaseState.OPEN,
        network=network,
        children=[p.model_dump() for p in data.children],
        suspects=[p.model_dump() for p in data.suspects],
        vehicles=[v.model_dump() for v in data.vehicles],
        narrative=data.narrative,
        hints=[h.model_dump(mode="json") for h in data.hints],
        last_known_place=data.last_known.place,
        last_known_lat=data.last_known.lat,
        last_known_lon=data.last_known.lon,
        last_seen_earliest=data.last_known.time_earliest,
        last_seen_latest=data.last_known.time_latest,
        reported_at=reported,
        created_by=actor.id,
    )
    session.add(case)
    session.flush()
    record(
        session,
        actor_id=actor.id,
        action="case.opened",
        entity="case",
        entity_id=case.id,
        data={
            "reference": case.reference,
            "children": len(data.children),
            "suspects": len(data.suspects),
            "hints": len(data.hints),
        },
    )
    return case


def get_case(session: Session, *, case_id: str, reader: User | None) -> Case:
    """The case with this id or reference, or NotFound; Forbidden unless ``reader`` may read
    cases (``bolo.auth.policy.require_reader``; None: the local operator)."""
    require_reader(reader)
    return _case(session, case_id)


def _case(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        case = session.execute(select(Case).where(Case.reference == case_id)).scalar_one_or_none()
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


# Newest report first; the id orders cases reported at the same time.
CASE_ORDER = Keyset((Case.reported_at, Case.id))


def list_cases(
    session: Session,
    *,
    reader: User | None,
    state: CaseState | None = None,
    page: PageRequest | None = None,
) -> list[Case]:
    """Cases, newest report first, optionally in one state; with ``page``, one page of them
    (plus one row telling whether more follow, see bolo.paging). Forbidden unless ``reader``
    may read cases (``require_reader``; None: the local operator)."""
    require_reader(reader)
    stmt = select(Case)
    if state is not None:
        stmt = stmt.where(Case.state == state)
    return list(session.execute(CASE_ORDER.apply(stmt, page)).scalars())


def add_hint(session: Session, *, case_id: str, hint: Hint, actor: User) -> Case:
    """Add a heading or destination hint to an open case (``actor``: a coordinator)."""
    require_role(actor, *EDITORS)
    case = _case(session, case_id)
    _require(case, CaseState.OPEN, "add a hint to")
    case.hints = [*case.hints, hint.model_dump(mode="json")]
    record(
        session,
        actor_id=actor.id,
        action="case.hint_added",
        entity="case",
        entity_id=case.id,
        data={"kind": hint.kind.value, "weight": hint.weight},
    )
    return case


def resolve_case(session: Session, *, case_id: str, data: CaseResolve, actor: User) -> Case:
    """Record the outcome (``actor``: a coordinator or supervisor); refused while one of the
    case's alerts is still live (in force, or waiting for approval; one past its expiry is
    not, whether or not the expiry job has stored that)."""
    require_role(actor, *CLOSERS)
    case = _case(session, case_id)
    _require(case, CaseState.OPEN, "resolve")
    live = (
        session.execute(
            select(Alert.id).where(
                Alert.case_id == case.id,
                or_(in_force_at(now()), Alert.state == AlertState.PENDING_APPROVAL),
            )
        )
        .scalars()
        .first()
    )
    if live is not None:
        raise Conflict(f"alert {live} of this case is still live: cancel it first")
    case.state = CaseState.RESOLVED
    case.outcome = data.outcome.value
    case.resolved_at = now()
    record(
        session,
        actor_id=actor.id,
        action="case.resolved",
        entity="case",
        entity_id=case.id,
        data={"outcome": data.outcome.value},
    )
    return case


def close_case(session: Session, *, case_id: str, actor: User) -> Case:
    """Close a resolved case (``actor``: a coordinator or supervisor); its retention period
    starts now."""
    require_role(actor, *CLOSERS)
    case = _case(session, case_id)
    _require(case, CaseState.RESOLVED, "close")
    case.state = CaseState.CLOSED
    case.closed_at = now()
    record(session, actor_id=actor.id, action="case.closed", entity="case", entity_id=case.id)
    return case


def purge_case(session: Session, *, case_id: str, actor_id: str | None) -> Case:
    """Erase the personal data of a closed case; counts, times and the audit chain remain."""
    case = _case(session, case_id)
    _require(case, CaseState.CLOSED, "purge")
    counts = {"children": len(case.children), "suspects": len(case.suspects)}
    case.children = [{"name": PURGED} for _ in case.children]
    case.suspects = [{"name": PURGED} for _ in case.suspects]
    case.vehicles = [{"description": PURGED} for _ in case.vehicles]
    case.narrative = ""
    case.last_known_place = PURGED
    case.last_known_lat = round(case.last_known_lat, PURGED_PLACE_DECIMALS)
    case.last_known_lon = round(case.last_known_lon, PURGED_PLACE_DECIMALS)
    case.hints = [{**h, "text": ""} for h in case.hints]
    counts["alert_versions"] = _purge_alert_texts(session, case.id)
    counts["photos"] = session.execute(
        delete(CasePhoto).where(CasePhoto.case_id == case.id)
    ).rowcount  # type: ignore[attr-defined]
    case.state = CaseState.PURGED
    case.purged_at = now()
    record(
        session,
        actor_id=actor_id,
        action="case.purged",
        entity="case",
        entity_id=case.id,
        data=counts,
    )
    return case


def require_picture(case: Case) -> None:
    """Gone (410) for a purged case: its search picture would show where the child was last
    known (the home area), which the purge erased."""
    if case.state == CaseState.PURGED:
        raise Gone(PICTURE_PURGED)


def _purge_alert_texts(session: Session, case_id: str) -> int:
    """Blank the content and CAP XML of every version of the case's alerts (they name and
    describe the child), and the free text of their activation overrides and rejections; ids,
    times, states and the SHA-256 the approval was bound to remain."""
    versions = (
        session.execute(
            select(AlertVersion)
            .join(Alert, Alert.id == AlertVersion.alert_id)
            .where(Alert.case_id == case_id)
        )
        .scalars()
        .all()
    )
    for version in versions:
        version.content = {"purged": True}
        version.cap_xml = ""
        if version.activation is not None:
            version.activation = {
                **version.activation,
                "override_reason": None,
                "missing": [],
                "purged": True,
            }
        if version.rejection_reason is not None:
            version.rejection_reason = ""
    return len(versions)


def _require(case: Case, state: CaseState, verb: str) -> None:
    if case.state != state:
        raise Conflict(f"cannot {verb} case {case.reference}: it is {case.state}, not {state}")
