"""Dispatch tables: deliveries (the outbox), attempts, escalations, acks, keys, endpoints."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bolo.clock import now
from bolo.store.db import Base
from bolo.store.types import UtcDateTime, new_id


class DeliveryStatus(StrEnum):
    """Where one delivery stands."""

    PENDING = "pending"
    SENT = "sent"  # handed to a broker or gateway that does not confirm receipt
    DELIVERED = "delivered"
    FAILED_TEMPORARY = "failed_temporary"
    FAILED_PERMANENT = "failed_permanent"


FINAL_STATUSES = frozenset(
    {DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.FAILED_PERMANENT}
)


class Phase(StrEnum):
    """Whether a delivery is to be sent: now, on escalation, or never (stopped)."""

    ACTIVE = "active"
    STANDBY = "standby"  # a later channel of the post, sent only on escalation or fallback
    STOPPED = "stopped"  # stopped by an acknowledgement or a Cancel


class EscalationState(StrEnum):
    """Lifecycle of one post's escalation for one version."""

    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    STOPPED = "stopped"
    EXHAUSTED = "exhausted"


class Delivery(Base):
    """One alert version to one post over one channel. Its id is the stable ``webhook-id``."""

    __tablename__ = "dispatch_deliveries"
    __table_args__ = (
        UniqueConstraint("version_id", "post_id", "channel_index"),
        Index("ix_dispatch_deliveries_due", "phase", "status", "next_attempt_at"),
        Index("ix_dispatch_deliveries_post", "post_id", "alert_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"))
    version_id: Mapped[str] = mapped_column(ForeignKey("alert_versions.id"))
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id"))
    channel_index: Mapped[int] = mapped_column(Integer)
    channel_kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(Text)
    phase: Mapped[str] = mapped_column(String(16), default=Phase.ACTIVE)
    status: Mapped[str] = mapped_column(String(24), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    queued_attempt: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    escalation_step: Mapped[int] = mapped_column(Integer, default=0)
    origin_post_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class DeliveryAttempt(Base):
    """One try of one delivery: when, how long (seconds), what came back."""

    __tablename__ = "dispatch_attempts"
    __table_args__ = (
        # One row per attempt however often a batch is recorded (attempts.record_attempts skips
        # a repeated one); it also serves lookups by delivery_id alone.
        Index("uq_dispatch_attempts_delivery_number", "delivery_id", "number", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("dispatch_deliveries.id"))
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker: Mapped[str] = mapped_column(String(64), default="")


class Escalation(Base):
    """The escalation clock of one post for one version; ``due_at`` survives restarts."""

    __tablename__ = "dispatch_escalations"
    __table_args__ = (
        UniqueConstraint("version_id", "post_id"),
        Index("ix_dispatch_escalations_due", "state", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"))
    version_id: Mapped[str] = mapped_column(ForeignKey("alert_versions.id"))
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id"))
    origin_post_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    step: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default=EscalationState.PENDING)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)


class Acknowledgement(Base):
    """A named person at a post confirmed they have the alert (``via``: ``AckVia``)."""

    __tablename__ = "dispatch_acks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"))
    version_id: Mapped[str] = mapped_column(ForeignKey("alert_versions.id"))
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id"))
    by_name: Mapped[str] = mapped_column(String(200))
    via: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class PostKey(Base):
    """A post's webhook secret; during rotation the previous one still signs until it expires."""

    __tablename__ = "dispatch_post_keys"

    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(200))
    previous_secret: Mapped[str | None] = mapped_column(String(200), nullable=True)
    previous_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    rotated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)


class DisabledEndpoint(Base):
    """An endpoint that answered 410 Gone: nothing more is sent to it until re-enabled."""

    __tablename__ = "dispatch_disabled_endpoints"

    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(1000), primary_key=True)
    disabled_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reason: Mapped[str] = mapped_column(Text)


class RateBucket(Base):
    """A destination's token bucket shared by every dispatcher worker of the deployment:
    ``tokens`` as of ``stamp_s`` (Unix seconds); see ``bolo.dispatch.channels.limits``."""

    __tablename__ = "dispatch_rate_buckets"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    stamp_s: Mapped[float] = mapped_column(Float)
