"""The Case table. Personal data sits in the JSON columns that purge empties."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bolo.clock import now
from bolo.store.db import Base
from bolo.store.types import UtcDateTime, new_id


class CaseState(StrEnum):
    """Lifecycle of a case."""

    OPEN = "open"
    RESOLVED = "resolved"
    CLOSED = "closed"
    PURGED = "purged"


class Outcome(StrEnum):
    """How a case ended."""

    FOUND_SAFE = "found_safe"
    FOUND_HARMED = "found_harmed"
    FOUND_DECEASED = "found_deceased"
    FALSE_REPORT = "false_report"
    OTHER = "other"


class Case(Base):
    """One abduction. ``children``, ``suspects``, ``vehicles`` and ``narrative`` are personal."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=CaseState.OPEN)
    network: Mapped[str] = mapped_column(String(64), default="dprk")
    children: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    suspects: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    vehicles: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    narrative: Mapped[str] = mapped_column(Text, default="")
    hints: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    last_known_place: Mapped[str] = mapped_column(String(200), default="")
    last_known_lat: Mapped[float] = mapped_column(Float)
    last_known_lon: Mapped[float] = mapped_column(Float)
    last_seen_earliest: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_latest: Mapped[datetime] = mapped_column(UtcDateTime())
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class CasePhoto(Base):
    """A photo of a child of the case, re-encoded without metadata; deleted by the purge."""

    __tablename__ = "case_photos"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(String(36), ForeignKey("cases.id"), index=True)
    child_index: Mapped[int] = mapped_column(Integer)
    mime_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
