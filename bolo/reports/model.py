"""The Report table (tips, sightings, search reports) and, kept apart, the tipster's contact.

A contact is personal data about a member of the public: it lives in its own table so that purging
a case (or a retention sweep) can delete it without touching the evidence.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bolo.clock import now
from bolo.store.db import Base
from bolo.store.types import UtcDateTime, new_id


class Report(Base):
    """One report. ``seen_at`` is the sighting time or the start of a search interval, and
    ``seen_until`` its end; positions are WGS84 degrees, ``radius_m`` metres."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_case_state", "case_id", "state"),
        Index("ix_reports_state_seen", "state", "seen_at"),
        # Clustering looks for a report's neighbours by case, h3 cell and time.
        Index("ix_reports_case_cell_seen", "case_id", "cell", "seen_at"),
        Index("ix_reports_case_seen", "case_id", "seen_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    receipt: Mapped[str] = mapped_column(String(16), unique=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    post_id: Mapped[str | None] = mapped_column(ForeignKey("posts.id"), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="new")
    via: Mapped[str] = mapped_column(String(16), default="api")
    text: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    place_resolved: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    radius_m: Mapped[float] = mapped_column(Float, default=5000.0)
    how_located: Mapped[str] = mapped_column(String(16), default="")
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    seen_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    result: Mapped[str | None] = mapped_column(String(16), nullable=True)
    detection_probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    intercepted: Mapped[bool] = mapped_column(Boolean, default=False)
    credibility: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Set once by the clustering worker (``bolo.reports.clustering``); None: not yet clustered.
    cluster_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    # The text's trigrams (``triage_rules.text_key``), how many, and the h3 cell of the place,
    # stored when the report is clustered so that no comparison recomputes them.
    text_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    key_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cell: Mapped[str | None] = mapped_column(String(16), nullable=True)
    photo_path: Mapped[str | None] = mapped_column(String(300), nullable=True)
    photo_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    photo_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)


class ReportContact(Base):
    """How to reach the person who sent a report (personal data; purged with the case)."""

    __tablename__ = "report_contacts"

    report_id: Mapped[str] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    contact: Mapped[str] = mapped_column(String(200))


class ReportCluster(Base):
    """The queue's line of a cluster that has ``new`` reports: its most credible new report
    (``head_id``, with that report's credibility and time seen) and how many new reports it
    holds. Kept by ``bolo.reports.cluster_upkeep.refresh_lines`` whenever a cluster's members,
    states or scores change, so the triage queue reads a page of lines without looking at
    every report of the case. A cluster without new reports has no row."""

    __tablename__ = "report_clusters"
    __table_args__ = (
        # The queue's order within a case (most credible first, then earliest seen, then id):
        # read backwards by credibility, each run of equal scores sorted on its own.
        Index("ix_report_clusters_queue", "case_id", "credibility", "seen_at", "head_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the cluster's label
    case_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    head_id: Mapped[str] = mapped_column(String(36))
    credibility: Mapped[float] = mapped_column(Float)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    new_count: Mapped[int] = mapped_column(Integer)
