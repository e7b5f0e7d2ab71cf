"""Other agencies' CAP alerts, imported read-only and kept current by their Updates and Cancels."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bolo.audit.service import record
from bolo.cap.codec import decode
from bolo.cap.errors import CapRefused
from bolo.cap.imports import Decision, ImportPlan, Key
from bolo.cap.model import Alert as CapAlert
from bolo.cap.xmlsafe import xml_text
from bolo.cases.model import Case
from bolo.clock import now
from bolo.errors import NotFound
from bolo.store.db import Base, session_scope
from bolo.store.types import UtcDateTime, new_id

KEY_CHARS = 255  # the longest sender or identifier stored (the columns' length)


class ExternalState(StrEnum):
    """Where an imported alert stands."""

    ACTIVE = "active"
    SUPERSEDED = "superseded"
    CANCELLED = "cancelled"


class ExternalAlert(Base):
    """One imported CAP message, named by (sender, identifier, sent)."""

    __tablename__ = "external_alerts"
    __table_args__ = (UniqueConstraint("sender", "identifier", "sent"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    sender: Mapped[str] = mapped_column(String(KEY_CHARS))
    identifier: Mapped[str] = mapped_column(String(KEY_CHARS))
    sent: Mapped[datetime] = mapped_column(UtcDateTime())
    msg_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    # Indexed: the alerts in force are read by state (active_external_alerts).
    state: Mapped[str] = mapped_column(String(16), default=ExternalState.ACTIVE, index=True)
    headline: Mapped[str] = mapped_column(String(500), default="")
    expires: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    xml: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    scope: Mapped[str] = mapped_column(String(16), default="Public", server_default="Public")
    sender_name: Mapped[str] = mapped_column(String(255), default="", server_default="")
    event: Mapped[str] = mapped_column(String(255), default="", server_default="")
    case_id: Mapped[str | None] = mapped_column(String(36), nullable=True)

    @property
    def shown_sender(self) -> str:
        """Who sent it, as a person reads it: the sender name, else the CAP sender."""
        return self.sender_name or self.sender

    @property
    def child_abduction(self) -> bool:
        """True for a child abduction alert (SAME code CAE, or AMBER / abduction in the event)."""
        event = self.event.lower()
        return "abduct" in event or "amber" in event or ">CAE<" in self.xml

    @property
    def public(self) -> bool:
        """True when the public may see it: status Actual, scope Public."""
        return self.status == "Actual" and self.scope == "Public"


def _utc(key: Key) -> Key:
    return key[0], key[1], key[2].astimezone(UTC)


class DatabaseImportStore:
    """bolo.cap.imports.ImportStore on the database: each call is its own transaction."""

    def known(self, keys: Collection[Key]) -> set[Key]:
        """The subset of ``keys`` already stored (times compared as instants)."""
        wanted = {_utc(k): k for k in keys}
        found: set[Key] = set()
        with session_scope() as db:
            identifiers = {k[1] for k in wanted}
            stmt = select(ExternalAlert).where(ExternalAlert.identifier.in_(identifiers))
            for row in db.execute(stmt).scalars():
                original = wanted.get((row.sender, row.identifier, row.sent.astimezone(UTC)))
                if original is not None:
                    found.add(original)
        return found

    def apply(self, plan: ImportPlan, alert: CapAlert, xml: bytes) -> None:
        """Store the message and supersede or cancel the stored ones it names; `CapRefused`,
        writing nothing, when its sender or identifier is longer than KEY_CHARS characters."""
        if plan.decision in (Decision.DUPLICATE, Decision.IGNORE):
            return
        for name in ("sender", "identifier"):
            if len(getattr(alert, name)) > KEY_CHARS:
                raise CapRefused(f"{name} longer than {KEY_CHARS} characters: not stored", "decode")
        cancel = plan.decision == Decision.CANCEL
        with session_scope() as db:
            state = ExternalState.CANCELLED if cancel else _late_state(db, alert)
            row = _row(alert, xml, state)
            db.add(row)
            new_state = ExternalState.CANCELLED if cancel else ExternalState.SUPERSEDED
            for sender, identifier, sent in plan.targets:
                stmt = select(ExternalAlert).where(
                    ExternalAlert.sender == sender, ExternalAlert.identifier == identifier
                )
                for target in db.execute(stmt).scalars():
                    if target.sent.astimezone(UTC) == sent.astimezone(UTC):
                        target.state = new_state
            db.flush()
            record(
                db,
                actor_id=None,
                action=f"external.{plan.decision.value}",
                entity="external_alert",
                entity_id=row.id,
                data={"targets": len(plan.targets)},
            )


def _late_state(db: Session, alert: CapAlert) -> ExternalState:
    """The state of a message arriving after an Update or Cancel that references it (a feed
    window or a poll can bring the original late): superseded or cancelled, else active."""
    key = (alert.sender, alert.identifier, alert.sent.astimezone(UTC))
    needle = f"{alert.sender},{alert.identifier},"
    stmt = select(ExternalAlert).where(
        ExternalAlert.msg_type.in_(["Update", "Cancel"]), ExternalAlert.xml.contains(needle)
    )
    state = ExternalState.ACTIVE
    for later in db.execute(stmt).scalars():
        try:
            references = decode(later.xml.encode("utf-8")).references
        except CapRefused:
            continue
        if any(_utc(r.key) == key for r in references):
            if later.msg_type == "Cancel":
                return ExternalState.CANCELLED
            state = ExternalState.SUPERSEDED
    return state


def _row(alert: CapAlert, xml: bytes, state: ExternalState) -> ExternalAlert:
    """The stored form of an imported message (texts from its first info that has them)."""

    def first(name: str) -> str:
        return next((str(getattr(i, name)) for i in alert.infos if getattr(i, name)), "")

    expires = next((i.expires for i in alert.infos if i.expires), None)
    return ExternalAlert(
        sender=alert.sender,
        identifier=alert.identifier,
        sent=alert.sent,
        msg_type=str(alert.msg_type),
        status=str(alert.status),
        scope=str(alert.scope),
        headline=first("headline")[:500],
        event=first("event")[:255],
        sender_name=first("sender_name")[:255],
        expires=expires,
        xml=xml_text(xml),
        state=state,
    )


def active_external_alerts() -> list[ExternalAlert]:
    """Imported alerts still in force (not superseded, cancelled or expired), newest first."""
    current = now()
    with session_scope() as db:
        stmt = (
            select(ExternalAlert)
            .where(ExternalAlert.state == ExternalState.ACTIVE)
            .order_by(ExternalAlert.sent.desc())
        )
        return [a for a in db.execute(stmt).scalars() if a.expires is None or a.expires > current]


def public_external_alerts() -> list[ExternalAlert]:
    """The imported alerts in force the public may see (status Actual, scope Public)."""
    return [a for a in active_external_alerts() if a.public]


def link_to_case(db: Session, *, external_id: str, case_id: str | None, actor_id: str) -> None:
    """Link an imported alert to one of our cases (None unlinks); audited."""
    row = db.get(ExternalAlert, external_id)
    if row is None:
        raise NotFound(f"no external alert {external_id}")
    if case_id is not None and db.get(Case, case_id) is None:
        raise NotFound(f"no case {case_id}")
    row.case_id = case_id
    record(
        db,
        actor_id=actor_id,
        action="external.linked" if case_id else "external.unlinked",
        entity="external_alert",
        entity_id=row.id,
        data={"case_id": case_id},
    )
