"""Input and output shapes of cases (API bodies, CLI JSON files)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Query
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from bolo.cases.model import Outcome
from bolo.clock import now
from bolo.schemas import Strict
from bolo.search import HintKind

# A query filter naming one case: an empty value is an error, not "every case" nor "none".
CaseFilter = Annotated[
    str | None, Query(min_length=1, max_length=64, description="Only this case (id or reference).")
]


# A report may be a few minutes ahead of bolo's clock (another device's clock), no more.
CLOCK_SKEW = timedelta(minutes=5)
EARLIEST_YEAR = 1900


def _sane_time(value: datetime) -> datetime:
    try:
        in_utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None
    if in_utc.year < EARLIEST_YEAR:
        raise ValueError(f"is before {EARLIEST_YEAR}")
    if in_utc > now() + CLOCK_SKEW:
        raise ValueError("is in the future")
    return value


# A time of the case (last seen, reported): with a zone, in UTC range, not in the future.
CaseTime = Annotated[AwareDatetime, AfterValidator(_sane_time)]


class Person(Strict):
    """A child or a suspect: personal data, shown only to staff and purged with the case."""

    name: str = Field(min_length=1, max_length=200)
    age: int | None = Field(default=None, ge=0, le=120)
    sex: str | None = Field(default=None, max_length=32)
    description: str = Field(default="", max_length=2000)
    photo_url: str | None = Field(default=None, max_length=2000)


class Vehicle(Strict):
    """A vehicle the suspects may use."""

    description: str = Field(min_length=1, max_length=500)
    plate: str | None = Field(default=None, max_length=32)


class Hint(Strict):
    """A heading ("north") or a destination tip, with how much it is believed (0..1)."""

    kind: HintKind
    bearing_deg: float | None = Field(default=None, ge=0, le=360)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    weight: float = Field(default=0.7, gt=0, le=1)
    text: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _complete(self) -> Hint:
        if self.kind == HintKind.HEADING and self.bearing_deg is None:
            raise ValueError("a heading hint needs bearing_deg (0 = north, 90 = east)")
        if self.kind == HintKind.DESTINATION and (self.lat is None or self.lon is None):
            raise ValueError("a destination hint needs lat and lon")
        return self


class LastKnown(Strict):
    """Where and when the child was last seen; the time is a window."""

    place: str = Field(default="", max_length=200)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    time_earliest: CaseTime
    time_latest: CaseTime

    @model_validator(mode="after")
    def _ordered(self) -> LastKnown:
        if self.time_latest < self.time_earliest:
            raise ValueError("time_latest is before time_earliest")
        return self


class CaseCreate(Strict):
    """What a coordinator enters to open a case."""

    children: list[Person] = Field(min_length=1, max_length=10)
    suspects: list[Person] = Field(default_factory=list, max_length=20)
    vehicles: list[Vehicle] = Field(default_factory=list, max_length=20)
    narrative: str = Field(default="", max_length=10000)
    last_known: LastKnown
    reported_at: CaseTime | None = None
    # None: the installation's default network (bolo.network.default_network).
    network: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$"
    )
    hints: list[Hint] = Field(default_factory=list, max_length=20)


class CaseResolve(Strict):
    """How a case ended."""

    outcome: Outcome
    note: str = Field(default="", max_length=2000)


class CaseOut(BaseModel):
    """A case as staff see it."""

    id: str
    reference: str
    state: str
    network: str
    children: list[dict[str, Any]]
    suspects: list[dict[str, Any]]
    vehicles: list[dict[str, Any]]
    narrative: str
    hints: list[dict[str, Any]]
    last_known_place: str
    last_known_lat: float
    last_known_lon: float
    last_seen_earliest: datetime
    last_seen_latest: datetime
    reported_at: datetime
    outcome: str | None
    resolved_at: datetime | None
    closed_at: datetime | None

    model_config = ConfigDict(from_attributes=True)
