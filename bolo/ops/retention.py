"""The retention purge: ``BOLO_RETENTION_DAYS`` after a case is closed, its personal data goes;
as much after a tip that names no case was received, its personal data goes too.

Per case, one transaction: the case's people, vehicles, narrative, place name and hint texts,
the children's photos, the texts and CAP XML of its alerts (``bolo.cases.service.purge_case``),
the names on the acknowledgements of its alerts, the tipsters' contacts, the free text, place
texts and photo GPS positions of its reports (``bolo.reports.decisions.purge_contacts``). After
the commit, the report photos no remaining report refers to are deleted from disk. Then: other
agencies' imported alerts that ended and were imported as long ago lose their headline and
XML; report photo files no report refers to (a tip that never committed) go once untouched for
a day. Counts, positions, times, states and the audit chain remain (the chain only ever held
ids and counts).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, or_, select, text, update
from sqlalchemy.orm import Session

from bolo.alerts.external import ExternalAlert, ExternalState
from bolo.alerts.model import Alert
from bolo.auth.login import forget_old_attempts
from bolo.auth.sessions import purge_dead_sessions
from bolo.cases.model import Case, CaseState
from bolo.cases.service import purge_case
from bolo.clock import now
from bolo.dispatch.acks import purge_ack_names
from bolo.reports.model import Report
from bolo.reports.service import purge_caseless_reports, purge_contacts
from bolo.settings import get_settings
from bolo.store.db import default_engine, session_scope

# Tables whose rows held personal data before a purge overwrote it.
PERSONAL_TABLES = (
    "cases",
    "case_photos",
    "alert_versions",
    "reports",
    "report_contacts",
    "dispatch_acks",
    "dispatch_deliveries",
    "external_alerts",
)
PHOTO_FOLDER = "report-photos"
# An unreferenced photo file younger than this may belong to a tip being stored right now.
ORPHAN_GRACE_S = 24 * 3600.0


@dataclass
class PurgeReport:
    """What one run of the purge did."""

    cases: list[str] = field(default_factory=list)
    reports: int = 0
    photos_deleted: int = 0
    external_alerts: int = 0
    sessions_deleted: int = 0
    login_attempts_deleted: int = 0


def due_case_ids(session: Session, *, days: int) -> list[str]:
    """Ids of the cases closed at least ``days`` days (of 24 h) ago, oldest first."""
    cutoff = now() - timedelta(days=days)
    return list(
        session.execute(
            select(Case.id)
            .where(Case.state == CaseState.CLOSED, Case.closed_at <= cutoff)
            .order_by(Case.closed_at)
        ).scalars()
    )


def purge_case_data(
    session: Session, *, case_id: str, actor_id: str | None = None
) -> tuple[int, set[str]]:
    """Purge one closed case in the caller's transaction: the case and its alerts, the reports'
    contacts and texts. Returns (reports touched, photo paths relative to the data folder that
    the case's reports used): delete those files after the commit with ``delete_orphan_photos``."""
    _secure_delete(session)
    photos = {
        p
        for p in session.execute(
            select(Report.photo_path).where(
                Report.case_id == case_id, Report.photo_path.is_not(None)
            )
        ).scalars()
        if p
    }
    case = purge_case(session, case_id=case_id, actor_id=actor_id)
    alert_ids = list(session.execute(select(Alert.id).where(Alert.case_id == case.id)).scalars())
    purge_ack_names(session, alert_ids=alert_ids)
    reports = purge_contacts(session, case_id=case.id, actor_id=actor_id)
    return reports, photos


def _secure_delete(session: Session) -> None:
    if session.get_bind().dialect.name == "sqlite":
        # Zero the freed space of the rows we overwrite, so the names do not linger in free
        # pages of the database file.
        session.execute(text("PRAGMA secure_delete=ON"))


def delete_orphan_photos(session: Session, photos: set[str], *, data_dir: Path) -> int:
    """Delete the photo files in ``photos`` (relative to ``data_dir``) that no report refers
    to any more; return how many files went. Paths leaving ``data_dir`` are ignored."""
    if not photos:
        return 0
    wanted = sorted(photos)
    still_used: set[str | None] = set()
    for start in range(0, len(wanted), 500):
        still_used.update(
            session.execute(
                select(Report.photo_path).where(Report.photo_path.in_(wanted[start : start + 500]))
            ).scalars()
        )
    root = data_dir.resolve()
    deleted = 0
    for relative in sorted(photos - still_used):
        path = (root / relative).resolve()
        if not path.is_relative_to(root):
            continue
        if path.is_file():
            path.unlink()
            deleted += 1
    return deleted


def purge_external_alerts(session: Session, *, days: int) -> int:
    """Blank the headline and XML of other agencies' imported alerts that have ended (superseded,
    cancelled or expired) and were imported at least ``days`` days ago; the row (sender,
    identifier, sent, type, state) stays, so the same message is not imported again. An active
    one without an expiry is kept until its Update or Cancel arrives. Returns how many."""
    moment = now()
    ended = or_(ExternalAlert.state != ExternalState.ACTIVE, ExternalAlert.expires <= moment)
    result = session.execute(
        update(ExternalAlert)
        .where(
            ExternalAlert.imported_at <= moment - timedelta(days=days),
            ended,
            or_(ExternalAlert.xml != "", ExternalAlert.headline != ""),
        )
        .values(headline="", xml="")
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def delete_unreferenced_photos(
    session: Session, *, data_dir: Path, grace_s: float = ORPHAN_GRACE_S
) -> int:
    """Delete the report photo files (and leftover ``.part`` files) no report refers to and
    untouched for ``grace_s`` seconds (wall-clock file times): a photo written for a tip whose
    insert then failed. Returns how many files went."""
    folder = data_dir / PHOTO_FOLDER
    if not folder.is_dir():
        return 0
    cutoff = time.time() - grace_s
    old = {
        f"{PHOTO_FOLDER}/{p.name}"
        for p in folder.iterdir()
        if p.is_file() and p.stat().st_mtime <= cutoff
    }
    return delete_orphan_photos(session, old, data_dir=data_dir)


def purge_due(
    engine: Engine | None = None, *, days: int | None = None, actor_id: str | None = None
) -> PurgeReport:
    """Purge every case closed more than ``days`` (default ``BOLO_RETENTION_DAYS``) days ago,
    one transaction per case, then drop dead web sessions and old failed-login rows."""
    settings = get_settings()
    keep_days = settings.retention_days if days is None else days
    result = PurgeReport()
    with session_scope(engine) as session:
        due = due_case_ids(session, days=keep_days)
    for case_id in due:
        with session_scope(engine) as session:
            reports, photos = purge_case_data(session, case_id=case_id, actor_id=actor_id)
        with session_scope(engine) as session:
            result.photos_deleted += delete_orphan_photos(
                session, photos, data_dir=settings.data_dir
            )
        result.cases.append(case_id)
        result.reports += reports
    # Tips that name no case: no case's closing purges them, so their own age does.
    with session_scope(engine) as session:
        _secure_delete(session)
        reports, photos = purge_caseless_reports(
            session, received_before=now() - timedelta(days=keep_days), actor_id=actor_id
        )
    with session_scope(engine) as session:
        result.photos_deleted += delete_orphan_photos(session, photos, data_dir=settings.data_dir)
        result.photos_deleted += delete_unreferenced_photos(session, data_dir=settings.data_dir)
    result.reports += reports
    with session_scope(engine) as session:
        _secure_delete(session)
        result.external_alerts = purge_external_alerts(session, days=keep_days)
    with session_scope(engine) as session:
        result.sessions_deleted = purge_dead_sessions(session)
        result.login_attempts_deleted = forget_old_attempts(session)
    if result.cases or reports or result.external_alerts:
        compact(engine or default_engine())
    return result


def compact(engine: Engine) -> None:
    """Make the erased values unrecoverable from the database files: on SQLite, checkpoint the
    write-ahead log into the (securely overwritten) main file and truncate it; on PostgreSQL,
    VACUUM the tables that held personal data so dead row versions are reclaimed."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        elif engine.dialect.name == "postgresql":
            for table in PERSONAL_TABLES:
                connection.execute(text(f"VACUUM {table}"))
