"""Report services: submit tips, sightings and search reports; triage; evidence for a case.

Every function takes the caller's session and changes state in that one transaction, appending to
the audit log (ids only, never names). Times are aware datetimes, positions WGS84 degrees.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.orm import Session

from bolo.audit.service import append
from bolo.cases.model import Case
from bolo.clock import now
from bolo.errors import Conflict, InvalidInput, NotFound
from bolo.reports.geocode import gazetteer_for_network
from bolo.reports.intake import (
    ReportKind,
    ReportState,
    TipIn,
)
from bolo.reports.locate import locate
from bolo.reports.model import Report, ReportContact
from bolo.reports.photo import CleanPhoto
from bolo.reports.triage_rules import ReportFacts, credibility
from bolo.settings import get_settings
from bolo.store.types import new_id

_RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_REPORTS = cast(Table, Report.__table__)
_CONTACTS = cast(Table, ReportContact.__table__)


class DuplicateSubmission(Conflict):
    """The same report was already received; ``receipt`` is the one given the first time."""

    def __init__(self, receipt: str) -> None:
        super().__init__(f"this report was already received (receipt {receipt})")
        self.receipt = receipt


def new_receipt() -> str:
    """A receipt number a tipster can read out over the phone, e.g. ``T-7KQ3-M9XA`` (40 random
    bits, an alphabet without 0/O and 1/I)."""
    bits = int.from_bytes(secrets.token_bytes(5), "big")
    chars = [_RECEIPT_ALPHABET[(bits >> (5 * i)) & 31] for i in range(8)]
    return f"T-{''.join(chars[:4])}-{''.join(chars[4:])}"


def dedupe_key(*parts: object) -> str:
    """SHA-256 over the identifying content of a submission (same content, same key)."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save_photo(photo: CleanPhoto) -> str:
    """Write a cleaned photo under ``<data_dir>/report-photos``; returns its path relative to
    the data folder. Content-addressed, so a repeated photo is stored once."""
    folder = get_settings().data_dir / "report-photos"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{photo.sha256}.{photo.extension}"
    target = folder / name
    if target.exists():
        # Touched: the retention purge deletes only unreferenced files untouched for a day,
        # so it cannot take this one before the report naming it is committed.
        target.touch()
    else:
        partial = target.with_suffix(".part")
        partial.write_bytes(photo.data)
        partial.replace(target)
    return str(Path("report-photos") / name)


def tip_row(
    tip: TipIn,
    *,
    photo: CleanPhoto | None = None,
    photo_path: str | None = None,
    via: str = "api",
    network: str | None = None,
) -> dict[str, Any]:
    """The ``reports`` row for a validated tip (geocoded against the bundled data plus the
    case's ``network``, scored, not yet stored)."""
    photo_lat = photo.lat if photo else None
    photo_lon = photo.lon if photo else None
    where = locate(
        place=tip.place,
        lat=tip.lat,
        lon=tip.lon,
        photo_lat=photo_lat,
        photo_lon=photo_lon,
        gazetteer=gazetteer_for_network(network),
    )
    facts = ReportFacts(
        id="",
        kind=ReportKind.TIP,
        text=tip.what,
        time=tip.seen_at,
        lat=where.lat,
        lon=where.lon,
        radius_m=where.radius_m,
        how_located=where.how.value,
        photo_lat=photo_lat,
        photo_lon=photo_lon,
        has_photo=photo is not None,
        has_contact=bool(tip.contact),
    )
    score, reasons = credibility(facts)
    key = dedupe_key(
        "tip",
        tip.case_id,
        tip.what,
        tip.place,
        tip.lat,
        tip.lon,
        tip.seen_at.isoformat(),
        photo.sha256 if photo else None,
    )
    return report_row(
        kind=ReportKind.TIP,
        case_id=tip.case_id,
        post_id=None,
        state=ReportState.NEW,
        via=via,
        text=tip.what,
        place=tip.place or "",
        lat=where.lat,
        lon=where.lon,
        radius_m=where.radius_m,
        how_located=where.how.value,
        place_resolved=where.resolved,
        seen_at=tip.seen_at,
        credibility=score,
        reasons=reasons,
        dedupe_key=key,
        photo_path=photo_path,
        photo_lat=photo_lat,
        photo_lon=photo_lon,
    )


def report_row(**values: Any) -> dict[str, Any]:
    """A reports-table row from ``values``, with a new id, receipt and the defaults filled in."""
    row: dict[str, Any] = {
        "id": new_id(),
        "receipt": new_receipt(),
        "seen_until": None,
        "result": None,
        "detection_probability": None,
        "intercepted": False,
        "cluster_id": None,
        "photo_path": None,
        "photo_lat": None,
        "photo_lon": None,
        "decided_by": None,
        "decided_at": None,
        "decision_reason": "",
        "created_at": now(),
        "place_resolved": "",
    }
    row.update(values)
    return row


def existing_receipt(session: Session, key: str) -> str | None:
    """The receipt of an already stored report with this dedupe key, if any."""
    return session.execute(
        select(Report.receipt).where(Report.dedupe_key == key)
    ).scalar_one_or_none()


def check_case(session: Session, case_id: str | None) -> Case | None:
    """The case a report names (None when it names none); InvalidInput when it is unknown."""
    if case_id is None:
        return None
    case = session.get(Case, case_id)
    if case is None:
        raise InvalidInput(f"case_id: no case {case_id!r}")
    return case


def store_rows(
    session: Session | Connection,
    rows: list[dict[str, Any]],
    contacts: dict[str, str],
    *,
    actor_id: str | None = None,
) -> None:
    """Insert prepared report rows (and contacts, by report id) with one audit entry per batch
    listing every report id. The caller's transaction (a Session or a plain Connection)
    commits them."""
    if not rows:
        return
    # Core inserts of the tables: the ORM's bulk path adds per-row bookkeeping nobody reads.
    session.execute(insert(_REPORTS), rows)
    if contacts:
        session.execute(
            insert(_CONTACTS), [{"report_id": k, "contact": v} for k, v in contacts.items()]
        )
    # Core append, same entry as ``record``: the ORM unit of work cost ~2 ms per batch.
    append(
        session,
        actor_id=actor_id,
        action="report.received",
        entity="report",
        entity_id=rows[0]["id"],
        data={"ids": [r["id"] for r in rows], "kinds": sorted({r["kind"] for r in rows})},
    )


def submit_tip(
    session: Session, *, tip: TipIn, photo: CleanPhoto | None = None, via: str = "api"
) -> Report:
    """Store one public tip (state ``new``) and return it; DuplicateSubmission (409) when the
    same tip was already received, InvalidInput (422) when it names an unknown case."""
    case = check_case(session, tip.case_id)
    row = tip_row(
        tip,
        photo=photo,
        photo_path=save_photo(photo) if photo else None,
        via=via,
        network=case.network if case else None,
    )
    receipt = existing_receipt(session, row["dedupe_key"])
    if receipt is not None:
        raise DuplicateSubmission(receipt)
    store_rows(session, [row], {row["id"]: tip.contact} if tip.contact else {})
    report = session.get(Report, row["id"])
    if report is None:
        raise NotFound(f"report {row['id']} vanished after insert")
    return report


from bolo.reports.decisions import (  # noqa: E402
    evidence_for_case,
    get_report,
    list_reports,
    purge_caseless_reports,
    purge_contacts,
    triage_report,
)
from bolo.reports.post_reports import (  # noqa: E402  (re-exported: one service module for callers)
    submit_search_report,
    submit_sighting,
)
from bolo.reports.queue import (  # noqa: E402
    Cursor,
    QueueEntry,
    QueuePage,
    triage_page,
    triage_queue,
)

__all__ = [
    "Cursor",
    "DuplicateSubmission",
    "QueueEntry",
    "QueuePage",
    "evidence_for_case",
    "get_report",
    "list_reports",
    "purge_caseless_reports",
    "purge_contacts",
    "store_rows",
    "submit_search_report",
    "submit_sighting",
    "submit_tip",
    "tip_row",
    "triage_page",
    "triage_queue",
    "triage_report",
]
