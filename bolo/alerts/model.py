"""Alert, its versions (one CAP message each) and the posts each version addresses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ColumnElement, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bolo.cap.model import MsgType
from bolo.clock import now
from bolo.store.db import Base
from bolo.store.types import UtcDateTime, new_id

__all__ = [
    "Alert",
    "AlertState",
    "AlertTarget",
    "AlertVersion",
    "CapStatus",
    "MsgType",
    "VersionState",
    "in_force_at",
]


class AlertState(StrEnum):
    """Lifecycle of an alert."""

    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class CapStatus(StrEnum):
    """The CAP status an alert is issued with. Only Actual may reach the public."""

    ACTUAL = "Actual"
    EXERCISE = "Exercise"
    TEST = "Test"


class VersionState(StrEnum):
    """Lifecycle of one version."""

    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    ISSUED = "issued"
    WITHDRAWN = "withdrawn"


class Alert(Base):
    """What a case broadcasts; its content lives in its versions."""

    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    cap_status: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(24), default=AlertState.DRAFT)
    created_by: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    def state_at(self, moment: datetime) -> str:
        """The alert's state at ``moment``: an active alert whose expiry has passed is expired,
        whether or not the expiry job (``takedown.expire_due``) has stored that yet."""
        if (
            self.state == AlertState.ACTIVE
            and self.expires_at is not None
            and self.expires_at <= moment
        ):
            return AlertState.EXPIRED.value
        return self.state

    @property
    def shown_state(self) -> str:
        """``state_at`` now: the state pages, feeds and answers show."""
        return self.state_at(now())


def is_cancelled(state: str, last_msg_type: str) -> bool:
    """True once an issued alert was cancelled: its stored ``state`` is cancelled, or its newest
    issued message (``last_msg_type``) is a CAP Cancel."""
    return state == AlertState.CANCELLED or last_msg_type == MsgType.CANCEL


def has_ended(state: str, last_msg_type: str) -> bool:
    """True when an issued alert no longer asks anything of the public: cancelled
    (``is_cancelled``) or expired. ``state`` is ``Alert.state_at`` the moment asked, so an alert
    past its expiry has ended whether or not the expiry job has stored that yet."""
    return is_cancelled(state, last_msg_type) or state == AlertState.EXPIRED


def in_force_at(moment: datetime) -> ColumnElement[bool]:
    """SQL condition: the alert is active at ``moment`` (``Alert.state_at`` says "active")."""
    return (Alert.state == AlertState.ACTIVE) & (
        Alert.expires_at.is_(None) | (Alert.expires_at > moment)
    )


class AlertVersion(Base):
    """One CAP message of an alert. ``approved_sha256`` must equal ``sha256`` to issue it."""

    __tablename__ = "alert_versions"
    __table_args__ = (UniqueConstraint("alert_id", "seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"))
    seq: Mapped[int] = mapped_column(Integer)
    msg_type: Mapped[str] = mapped_column(String(16))
    identifier: Mapped[str] = mapped_column(String(128), unique=True)
    sent: Mapped[datetime] = mapped_column(UtcDateTime())
    expires: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    cap_xml: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(24), default=VersionState.DRAFT)
    author_id: Mapped[str] = mapped_column(String(36))
    approved_by_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    approved_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The activation gate's record at submission (criteria met, statements, override reason).
    activation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The last rejection by an approver: the draft went back to its author with this reason.
    rejected_by_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    rejected_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    rejection_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class AlertTarget(Base):
    """A post a version is addressed to."""

    __tablename__ = "alert_targets"

    version_id: Mapped[str] = mapped_column(ForeignKey("alert_versions.id"), primary_key=True)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id"), primary_key=True)
