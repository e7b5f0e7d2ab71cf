"""API shapes of reports: what the authenticated routes return and accept."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from bolo.reports.intake import ReportState


class ReportOut(BaseModel):
    """A stored report as staff see it (the tipster's contact is never included)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    receipt: str
    case_id: str | None
    kind: str
    post_id: str | None
    state: str
    via: str
    text: str
    place: str
    place_resolved: str
    lat: float | None
    lon: float | None
    radius_m: float
    how_located: str
    seen_at: datetime
    seen_until: datetime | None
    result: str | None
    detection_probability: float | None
    intercepted: bool
    credibility: float
    reasons: list[str]
    cluster_id: str | None
    photo_path: str | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str
    created_at: datetime


class QueueOut(BaseModel):
    """A line of the triage queue: a cluster's most credible report and the cluster's size."""

    report: ReportOut
    cluster_size: int


class TriageIn(BaseModel):
    """A triage decision: the new state and why."""

    model_config = ConfigDict(extra="forbid")

    state: ReportState
    reason: str = Field(min_length=1, max_length=2000)


class PlaceOut(BaseModel):
    """A geocoding answer (WGS84 degrees, radius in metres)."""

    name: str
    lat: float
    lon: float
    radius_m: float
    how: str
    alternatives: list[str] = Field(default_factory=list)
    description: str = ""
