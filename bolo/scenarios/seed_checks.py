"""Checks and output of the reference replay: CAP files, references, deliveries, audit."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from bolo.alerts.service import targets_of
from bolo.audit.service import verify
from bolo.cap.codec import decode
from bolo.cap.schema import schema_errors
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
    report = verify(db)
    if not report.ok:
        raise ReplayFailed(f"audit chain broken: {report.reason}")
    return files


def print_timeline(console: Console, tl: Timeline, files: list[Path]) -> None:
    """The timeline table, the files written and the assumptions made."""
    table = Table("when (Pyongyang time)", "who", "what", title="Reference incident replay")
    for when, who, what in tl.rows:
        table.add_row(when.strftime("%a %d %b %Y %H:%M"), who, what)
    console.print(table)
    console.print(f"Kilju guard post rank in the search picture: {tl.kilju_ranks}")
    for path in files:
        console.print(f"wrote {path}")
    console.print("[bold]Assumptions[/bold] (not in the source report):")
    for item in ASSUMPTIONS:
        console.print(f"  - {item}", highlight=False)
