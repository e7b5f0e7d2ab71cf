"""Validated input for tips, sightings and search reports: every bad input becomes a 4xx message.

All models forbid unknown fields, refuse control characters (and CR/LF in one-line fields), want
timezone-aware times that are not in the future, and keep numbers in range. HTML is not refused:
it is stored as typed (inert) and escaped wherever it is shown. Coordinates are WGS84 degrees.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from bolo.clock import now
from bolo.i18n import N_
from bolo.schemas import Strict

MAX_TEXT = 4000
MAX_LINE = 200
CLOCK_SKEW = timedelta(seconds=120)
MAX_AGE = timedelta(days=30)
MAX_SEARCH_INTERVAL = timedelta(hours=48)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u2028\u2029]")
_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029]")
_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


class ReportKind(StrEnum):
    """What a report is: a public tip, a sighting by a post, or a post's search report."""

    TIP = "tip"
    SIGHTING = "sighting"
    SEARCH = "search"


class ReportState(StrEnum):
    """Triage state: new -> credible | dismissed; credible -> confirmed."""

    NEW = "new"
    CREDIBLE = "credible"
    DISMISSED = "dismissed"
    CONFIRMED = "confirmed"


class SearchResult(StrEnum):
    """Outcome of a post's search: nothing matched, or the suspects were found."""

    NOTHING_FOUND = "nothing_found"
    FOUND = "found"


def _multi_line(value: str) -> str:
    # Browsers send textarea line breaks as CRLF; keep them as LF, refuse every other control.
    value = value.replace("\r\n", "\n")
    if "\r" in value or _CONTROL.search(value):
        raise ValueError(N_("must not contain control characters"))
    return value


def _one_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(N_("must be one line (no CR or LF)"))
    if _CONTROL_LINE.search(value):
        raise ValueError(N_("must not contain control characters"))
    return value


def _past(value: datetime) -> datetime:
    current = now()
    if value > current + CLOCK_SKEW:
        raise ValueError(N_("is in the future"))
    if value < current - MAX_AGE:
        raise ValueError(f"is more than {MAX_AGE.days} days ago")
    return value


Text = Annotated[str, Field(min_length=3, max_length=MAX_TEXT), AfterValidator(_multi_line)]
Line = Annotated[str, Field(min_length=1, max_length=MAX_LINE), AfterValidator(_one_line)]
Identifier = Annotated[str, Field(pattern=_ID)]
PastTime = Annotated[AwareDatetime, AfterValidator(_past)]
Latitude = Annotated[float, Field(ge=-90.0, le=90.0, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0, allow_inf_nan=False)]


class _Frozen(Strict):
    """A strict body that cannot change once read."""

    model_config = ConfigDict(frozen=True)


class _Located(_Frozen):
    place: Line | None = Field(None, description="Place name (any romanisation, or Hangul).")
    lat: Latitude | None = Field(None, description="WGS84 latitude, degrees.")
    lon: Longitude | None = Field(None, description="WGS84 longitude, degrees.")

    @model_validator(mode="after")
    def _coordinates_in_pairs(self) -> _Located:
        if (self.lat is None) != (self.lon is None):
            raise ValueError(N_("give both lat and lon, or neither"))
        return self


class TipIn(_Located):
    """A tip from the public: what was seen, where (place or coordinates), when, contact."""

    case_id: Identifier | None = Field(None, description="The case (or alert) the tip is about.")
    what: Text = Field(description="What was seen, in the tipster's words.")
    seen_at: PastTime = Field(description="When it was seen, with a time zone.")
    contact: Line | None = Field(None, description="Optional phone or e-mail (personal data).")

    @model_validator(mode="after")
    def _somewhere(self, info: ValidationInfo) -> TipIn:
        # A photo may carry the position (EXIF GPS); the caller checks that once it is read.
        with_photo = bool((info.context or {}).get("photo")) or self._has_photo()
        if self.place is None and self.lat is None and not with_photo:
            raise ValueError(N_("say where: a place name, a pick on the map, or lat and lon"))
        return self

    def _has_photo(self) -> bool:
        return False


class SightingIn(_Located):
    """A sighting (or interception) reported by a post; position defaults to the post's."""

    case_id: Identifier
    post_id: Identifier
    seen_at: PastTime
    text: Text
    intercepted: bool = Field(False, description="True when the post stopped the suspects.")


class SearchReportIn(_Frozen):
    """A post's search report: what it searched between two times, and what it found."""

    case_id: Identifier
    post_id: Identifier
    searched_from: PastTime = Field(alias="from")
    searched_to: PastTime = Field(alias="to")
    searched: Text = Field(description="What was searched, e.g. 'all passengers with children'.")
    result: SearchResult
    detection_probability: float = Field(0.8, gt=0.0, le=1.0, allow_inf_nan=False)

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="after")
    def _interval(self) -> SearchReportIn:
        if self.searched_to <= self.searched_from:
            raise ValueError(N_("'to' must be after 'from'"))
        if self.searched_to - self.searched_from > MAX_SEARCH_INTERVAL:
            raise ValueError(N_("a search interval may not exceed 48 hours"))
        return self


def explain(error: ValidationError) -> list[dict[str, str]]:
    """Turn a pydantic error into ``[{"field", "problem"}]`` a tipster or client can act on."""
    problems: list[dict[str, str]] = []
    for item in error.errors(include_url=False):
        field = ".".join(str(p) for p in item["loc"]) or "body"
        kind = item["type"]
        if kind == "extra_forbidden":
            message = N_("is not a known field")
        elif kind == "missing":
            message = N_("is required")
        elif kind == "timezone_aware":
            message = N_("needs a time zone (e.g. 2026-04-01T14:00:00+09:00)")
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
        problems.append({"field": field, "problem": message})
    return problems


def summary(problems: list[dict[str, str]]) -> str:
    """One sentence naming every problem, for HTML pages and CLI errors."""
    return "; ".join(f"{p['field']}: {p['problem']}" for p in problems)


def form_to_dict(fields: dict[str, Any]) -> dict[str, Any]:
    """Drop the empty strings an HTML form sends for fields left blank."""
    return {k: v for k, v in fields.items() if not (isinstance(v, str) and not v.strip())}


MAX_PHOTO_BASE64 = 7_200_000


class TipApiIn(TipIn):
    """A tip through the JSON API; the optional photo comes base64-encoded."""

    photo_base64: str | None = Field(
        None, max_length=MAX_PHOTO_BASE64, description="JPEG, PNG or WebP, base64, at most 5 MiB."
    )

    def _has_photo(self) -> bool:
        return self.photo_base64 is not None
