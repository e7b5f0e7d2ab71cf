"""Input and output shapes of alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bolo.alerts.model import CapStatus
from bolo.schemas import Strict


class InfoText(Strict):
    """The public text of one language: it becomes one CAP ``info`` block."""

    language: str = Field(default="en-US", pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
    headline: str = Field(min_length=1, max_length=140)
    description: str = Field(min_length=1, max_length=4000)
    instruction: str = Field(min_length=1, max_length=2000)


class CircleSpec(Strict):
    """A circle: centre in WGS84 degrees, radius in kilometres."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_km: float = Field(gt=0, le=3000)


class AreaSpec(Strict):
    """The alert area: polygons as (lat, lon) rings and/or circles."""

    description: str = Field(min_length=1, max_length=500)
    polygons: list[list[tuple[float, float]]] = Field(default_factory=list, max_length=20)
    circles: list[CircleSpec] = Field(default_factory=list, max_length=20)

    @field_validator("polygons")
    @classmethod
    def _rings(cls, value: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
        for ring in value:
            if len(ring) < 4 or ring[0] != ring[-1]:
                raise ValueError("a polygon needs at least 4 points and must be closed")
            if any(not (-90 <= la <= 90 and -180 <= lo <= 180) for la, lo in ring):
                raise ValueError("polygon coordinates out of range")
        return value


class AlertContent(Strict):
    """What a version says: texts, area, posts addressed, lifetime."""

    texts: list[InfoText] = Field(min_length=1, max_length=5)
    area: AreaSpec
    target_post_ids: list[str] = Field(default_factory=list, max_length=100000)
    expires_in_hours: float = Field(default=24.0, gt=0, le=24 * 14)
    web: str | None = Field(default=None, max_length=2000)
    contact: str | None = Field(default=None, max_length=500)


class AlertDraft(AlertContent):
    """A new alert: its content plus the CAP status it will carry."""

    cap_status: CapStatus = CapStatus.ACTUAL


class Approval(Strict):
    """An approval names the exact content (its SHA-256) the approver saw."""

    sha256: str = Field(min_length=64, max_length=64, pattern=r"^[0-9a-f]{64}$")


class CancelRequest(Strict):
    """Why the alert comes down."""

    reason: str = Field(min_length=1, max_length=1000)


class RejectRequest(Strict):
    """Why an approver sends a draft back (its author reads it)."""

    reason: str = Field(min_length=1, max_length=2000)


class VersionOut(BaseModel):
    """One version as staff see it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    alert_id: str
    seq: int
    msg_type: str
    identifier: str
    sent: datetime
    expires: datetime | None
    state: str
    sha256: str
    author_id: str
    approved_by_id: str | None
    approved_at: datetime | None
    issued_at: datetime | None
    activation: dict[str, Any] | None = None
    rejected_by_id: str | None = None
    rejected_at: datetime | None = None
    rejection_reason: str | None = None


class AlertOut(BaseModel):
    """An alert with its versions."""

    id: str
    case_id: str
    cap_status: str
    state: str
    expires_at: datetime | None
    versions: list[VersionOut]
