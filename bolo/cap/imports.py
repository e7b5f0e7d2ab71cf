"""Importing other agencies' CAP as read-only external alerts: the pure decision.

Messages are named by (sender, identifier, sent). Given a decoded alert and the keys already
stored, `decide` says whether it is new, a duplicate, an Update or Cancel of stored alerts, or
not for import. Storing is the application's job.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bolo.cap.model import Alert, MsgType, Status

Key = tuple[str, str, datetime]


class Decision(StrEnum):
    """What importing one message does."""

    NEW = "new"  # store it as a new external alert
    DUPLICATE = "duplicate"  # already stored: do nothing
    UPDATE = "update"  # store it; the targets are superseded by it
    CANCEL = "cancel"  # store it; the targets are cancelled
    IGNORE = "ignore"  # Ack, Error, Draft or System messages are not alerts to show


@dataclass(frozen=True, kw_only=True, slots=True)
class ImportPlan:
    """The decision for one message: its key, the stored keys it acts on, and those it
    references that are not stored (an Update or Cancel that arrived before its original)."""

    decision: Decision
    key: Key
    targets: list[Key] = field(default_factory=list)
    unknown_references: list[Key] = field(default_factory=list)


def decide(alert: Alert, *, known: Collection[Key]) -> ImportPlan:
    """Decide what importing `alert` does, given the (sender, identifier, sent) keys `known`.

    Times in keys compare as instants, so the same moment written with different offsets
    matches. An Update or Cancel acts on every referenced message that is stored; if none is,
    it is still stored (decision UPDATE/CANCEL with no targets) so a late original can be
    matched against it.
    """
    key = alert.key
    if key in known:
        return ImportPlan(decision=Decision.DUPLICATE, key=key)
    if alert.msg_type in (MsgType.ACK, MsgType.ERROR) or alert.status in (
        Status.DRAFT,
        Status.SYSTEM,
    ):
        return ImportPlan(decision=Decision.IGNORE, key=key)
    if alert.msg_type is MsgType.ALERT:
        return ImportPlan(decision=Decision.NEW, key=key)
    referenced = [r.key for r in alert.references]
    decision = Decision.UPDATE if alert.msg_type is MsgType.UPDATE else Decision.CANCEL
    return ImportPlan(
        decision=decision,
        key=key,
        targets=[k for k in referenced if k in known],
        unknown_references=[k for k in referenced if k not in known],
    )


class ImportStore(Protocol):
    """What the application provides to store imported messages (bolo.store implements it)."""

    def known(self, keys: Collection[Key]) -> set[Key]:
        """The subset of `keys` already stored."""
        ...

    def apply(self, plan: ImportPlan, alert: Alert, xml: bytes) -> None:
        """Carry out `plan`: store `alert` (with its original `xml`) as a read-only external
        alert unless the decision is DUPLICATE or IGNORE; supersede or cancel `plan.targets`.
        Raises `CapRefused`, writing nothing, for a message it cannot keep."""
        ...


def import_message(alert: Alert, xml: bytes, *, store: ImportStore) -> ImportPlan:
    """Decide against the store what importing an already validated `alert` does, and apply it.

    Only the keys this message names (its own and its references) are looked up.
    """
    wanted = [alert.key, *(r.key for r in alert.references)]
    plan = decide(alert, known=store.known(wanted))
    store.apply(plan, alert, xml)
    return plan
