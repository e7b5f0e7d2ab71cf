"""Checks and output of the reference replay: CAP files, references, deliveries, audit."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from bolo.alerts.model import AlertVersion, MsgType
from bolo.alerts.service import targets_of
from bolo.audit.service import verify
from bolo.cap.codec import decode
from bolo.cap.schema import schema_errors
from bolo.dispatch.model import (
    Acknowledgement,
    Delivery,
    DeliveryStatus,
    Escalation,
    EscalationState,
)
from bolo.errors import BoloError
from bolo.scenarios.seed_incident import ASSUMPTIONS, Timeline


class ReplayFailed(BoloError):
    """A check of the replay did not hold."""


def write_and_check(db: Session, tl: Timeline, out: Path) -> list[Path]:
    """Write each CAP message to ``out`` and check the replay's promises; return the files."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.xml"):
        old.unlink()
    files = []
    for i, version in enumerate(tl.versions, start=1):
        path = out / f"{i:02d}-{version.msg_type.lower()}-{version.identifier}.xml"
        path.write_text(version.cap_xml, encoding="utf-8")
        errors = schema_errors(version.cap_xml.encode("utf-8"))
        if errors:
            raise ReplayFailed(f"{path.name} is not valid CAP 1.2: {errors[0]}")
        files.append(path)
    cancel = decode(tl.versions[-1].cap_xml.encode("utf-8"))
    named = {r.identifier for r in cancel.references}
    earlier = {v.identifier for v in tl.versions[:-1]}
    if cancel.msg_type != "Cancel" or named != earlier:
        raise ReplayFailed("the last message is not a Cancel referencing every earlier one")
    reached = {p for v in tl.versions[:-1] for p in targets_of(db, version_id=v.id)}
    cancelled = set(targets_of(db, version_id=tl.versions[-1].id))
    if not reached <= cancelled:
        raise ReplayFailed(f"{len(reached - cancelled)} posts got the alert but not the Cancel")
    check_dissemination(db, tl)
    report = verify(db)
    if not report.ok:
        raise ReplayFailed(f"audit chain broken: {report.reason}")
    return files


def print_timeline(console: Console, db: Session, tl: Timeline, files: list[Path]) -> None:
    """The timeline table, the files written and the assumptions made."""
    table = Table("when (Pyongyang time)", "who", "what", title="Reference incident replay")
    for when, who, what in tl.rows:
        table.add_row(when.strftime("%a %d %b %Y %H:%M"), who, what)
    console.print(table)
    console.print(f"Kilju guard post rank in the search picture: {tl.kilju_ranks}")
    console.print(dissemination_summary(db, tl), highlight=False)
    for path in files:
        console.print(f"wrote {path}")
    # print_timeline runs after write_and_check: what it checked held.
    console.print(
        f"checked: the {len(files)} messages are valid CAP 1.2 (OASIS schema), the Cancel "
        "references every earlier one and reached every post any version reached, the audit "
        "chain verifies",
        highlight=False,
    )
    console.print("[bold]Assumptions[/bold] (not in the source report):")
    for item in ASSUMPTIONS:
        console.print(f"  - {item}", highlight=False)


def delivered_posts(db: Session, version_id: str, *, escalated_only: bool = False) -> set[str]:
    """Posts with a delivered row of the version (only rows sent by escalation, if asked)."""
    stmt = select(Delivery.post_id).where(
        Delivery.version_id == version_id, Delivery.status == DeliveryStatus.DELIVERED
    )
    if escalated_only:
        stmt = stmt.where(Delivery.escalation_step >= 1)
    return set(db.scalars(stmt))


def acknowledged_by(db: Session, version_id: str) -> dict[str, set[str]]:
    """Post id -> names of the people who acknowledged the version there."""
    found: dict[str, set[str]] = {}
    rows = db.execute(
        select(Acknowledgement.post_id, Acknowledgement.by_name).where(
            Acknowledgement.version_id == version_id
        )
    )
    for post_id, name in rows:
        found.setdefault(post_id, set()).add(name)
    return found


def escalations(db: Session, version_id: str) -> dict[str, tuple[int, str]]:
    """Post id -> (steps taken, state) of every escalation clock of the version."""
    rows = db.execute(
        select(Escalation.post_id, Escalation.step, Escalation.state).where(
            Escalation.version_id == version_id
        )
    )
    return {post_id: (step, state) for post_id, step, state in rows}


def _received_before(db: Session, cancel: AlertVersion) -> set[str]:
    """Posts with a delivered row of any earlier version of the cancelled alert."""
    return set(
        db.scalars(
            select(Delivery.post_id).where(
                Delivery.alert_id == cancel.alert_id,
                Delivery.version_id != cancel.id,
                Delivery.status == DeliveryStatus.DELIVERED,
            )
        )
    )


def _check_version(db: Session, tl: Timeline, version: AlertVersion) -> None:
    name = version.msg_type
    missing = set(targets_of(db, version_id=version.id)) - delivered_posts(db, version.id)
    if missing:
        raise ReplayFailed(f"{name}: {len(missing)} targeted posts have no delivered row")
    acks = acknowledged_by(db, version.id)
    wrong = [p for (v, p), who in tl.acks.items() if v == version.id and who not in acks.get(p, ())]
    if wrong:
        raise ReplayFailed(f"{name}: {wrong} not recorded as acknowledged by the named person")
    silent = tl.silent.get(version.id, [])
    if not silent:
        raise ReplayFailed(f"{name}: no post stayed silent, so escalation was not shown")
    clocks = escalations(db, version.id)
    phoned = delivered_posts(db, version.id, escalated_only=True)
    not_escalated = [p for p in silent if clocks.get(p, (0, ""))[0] < 1 or p not in phoned]
    if not_escalated:
        raise ReplayFailed(f"{name}: silent posts {not_escalated} were not escalated")
    for post_id in tl.unacknowledged.get(version.id, []):
        if post_id in acks or clocks[post_id][1] != EscalationState.EXHAUSTED:
            raise ReplayFailed(f"{name}: {post_id} should be unacknowledged, escalation exhausted")


def check_dissemination(db: Session, tl: Timeline) -> None:
    """Check the stored rows: every targeted post has a delivered row of each version it was
    targeted by; the acknowledging posts are recorded as acknowledged by the named person; the
    silent posts were escalated (a second channel delivered); the Cancel was delivered to every
    post that received any version; every delivered row was verified by the posts' receiver."""
    for version in tl.versions:
        if version.msg_type != MsgType.CANCEL:
            _check_version(db, tl, version)
    cancel = tl.versions[-1]
    missed = _received_before(db, cancel) - delivered_posts(db, cancel.id)
    if missed:
        raise ReplayFailed(f"{len(missed)} posts received a version but not the Cancel")
    ids = [v.id for v in tl.versions]
    delivered = set(
        db.scalars(
            select(Delivery.id).where(
                Delivery.version_id.in_(ids), Delivery.status == DeliveryStatus.DELIVERED
            )
        )
    )
    if tl.rejected or delivered != set(tl.received):
        raise ReplayFailed(
            f"the posts verified {len(tl.received)} messages and refused "
            f"{tl.rejected}; the outbox says {len(delivered)} were delivered"
        )


def dissemination_summary(db: Session, tl: Timeline) -> str:
    """One line of delivered / acknowledged / escalated counts per version, from the rows."""
    parts = []
    for version in tl.versions:
        targets = targets_of(db, version_id=version.id)
        got = delivered_posts(db, version.id)
        if version.msg_type == MsgType.CANCEL:
            before = _received_before(db, version)
            parts.append(
                f"Cancel delivered to {len(before & got)}/{len(before)} posts that "
                "received any version"
            )
            continue
        acks = acknowledged_by(db, version.id)
        escalated = [p for p, (step, _) in escalations(db, version.id).items() if step >= 1]
        parts.append(
            f"{version.msg_type} delivered {len(got)}/{len(targets)}, acknowledged "
            f"{len(acks)}/{len(targets)}, escalated {len(escalated)}"
        )
    return "Dissemination (from the outbox): " + "; ".join(parts) + "."
