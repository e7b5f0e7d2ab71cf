"""The case and evidence a search picture reads, parsed from plain dicts (JSON).

Times are ISO 8601 strings with an offset, parsed to timezone-aware datetimes; places are WGS84
degrees; radii metres. Parsing errors raise CaseError with a message naming the bad field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# Where the suspects can be when their vehicle is found: they may have left it a while before
# (2 km is ~25 minutes on foot).
VEHICLE_RADIUS_M = 2000.0


class CaseError(ValueError):
    """A case or evidence dict is malformed."""


class EvidenceKind(StrEnum):
    """The kinds of evidence the picture understands."""

    SIGHTING = "sighting"
    SEARCH = "search"
    VEHICLE_FOUND = "vehicle_found"


class HintKind(StrEnum):
    """The kinds of case hints shaping the destination prior."""

    HEADING = "heading"
    DESTINATION = "destination"


@dataclass(frozen=True)
class Sighting:
    """Someone saw the suspects at (lat, lon) within ``radius_m`` metres at ``time``."""

    time: datetime
    lat: float
    lon: float
    radius_m: float
    credibility: float
    label: str = ""

    @property
    def key_time(self) -> datetime:
        """The earliest time the filter needs to be at to apply this evidence."""
        return self.time


@dataclass(frozen=True)
class SearchReport:
    """Post ``post_id`` searched from ``start`` to ``end`` with detection probability pd."""

    post_id: str
    start: datetime
    end: datetime
    detection_probability: float
    found: bool = False
    label: str = ""

    @property
    def key_time(self) -> datetime:
        """The earliest time the filter needs to be at to apply this evidence."""
        return self.start


@dataclass(frozen=True)
class VehicleFound(Sighting):
    """The suspects' vehicle was found at (lat, lon) at ``time``: they left it there and go on
    without it (on foot; by train where the case allows rail). ``credibility`` is the chance it
    is really theirs. To the baselines it is a sighting (confirmed when credibility >= 0.9)."""


Evidence = Sighting | SearchReport


@dataclass(frozen=True)
class Hint:
    """A heading (bearing_deg) or destination (lat, lon) tip with a weight in [0, 1]."""

    kind: HintKind
    weight: float
    bearing_deg: float = 0.0
    lat: float = 0.0
    lon: float = 0.0


@dataclass(frozen=True)
class SearchCase:
    """What the picture knows of one case: last-known place and time window, modes, hints."""

    lat: float
    lon: float
    time_earliest: datetime
    time_latest: datetime
    modes: tuple[str, ...] = ("road",)
    hints: tuple[Hint, ...] = ()
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)


def parse_time(value: Any, name: str) -> datetime:
    """Parse an ISO 8601 time with an offset (or an aware datetime); raise CaseError otherwise."""
    if isinstance(value, datetime):
        t = value
    elif isinstance(value, str):
        try:
            t = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise CaseError(f"{name}: not an ISO 8601 time: {value!r}") from exc
    else:
        raise CaseError(f"{name}: expected an ISO 8601 time, got {value!r}")
    if t.tzinfo is None or t.utcoffset() is None:
        raise CaseError(f"{name}: time {value!r} has no UTC offset")
    return t


def _num(d: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float:
    if key not in d:
        if default is None:
            raise CaseError(f"{where}: missing {key!r}")
        return default
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise CaseError(f"{where}.{key}: expected a finite number, got {v!r}")
    return float(v)


def _coordinate(d: Mapping[str, Any], key: str, where: str) -> float:
    """A latitude ('lat', within +-90) or longitude ('lon', within +-180), WGS84 degrees."""
    value = _num(d, key, where)
    limit = 90.0 if key == "lat" else 180.0
    if not -limit <= value <= limit:
        raise CaseError(f"{where}.{key}: must be within [-{limit:g}, {limit:g}], got {value}")
    return value


def _objects(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The list of JSON objects ``data[key]`` (empty when absent); CaseError otherwise."""
    items = data.get(key, [])
    if not _sequence(items) or not all(isinstance(i, Mapping) for i in items):
        raise CaseError(f"case.{key}: expected a list of objects")
    return list(items)


def _sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _unit(x: float, name: str) -> float:
    if not 0.0 <= x <= 1.0:
        raise CaseError(f"{name}: must be within [0, 1], got {x}")
    return x


def parse_evidence(item: Mapping[str, Any], where: str = "evidence") -> Evidence:
    """Parse one evidence dict (a sighting or a search report)."""
    kind = item.get("kind")
    label = str(item.get("label", item.get("id", "")))
    if kind == EvidenceKind.SIGHTING:
        return Sighting(
            time=parse_time(item.get("time"), f"{where}.time"),
            lat=_coordinate(item, "lat", where),
            lon=_coordinate(item, "lon", where),
            radius_m=max(1.0, _num(item, "radius_m", where, 500.0)),
            credibility=_unit(_num(item, "credibility", where, 0.5), f"{where}.credibility"),
            label=label,
        )
    if kind == EvidenceKind.VEHICLE_FOUND:
        return VehicleFound(
            time=parse_time(item.get("time"), f"{where}.time"),
            lat=_coordinate(item, "lat", where),
            lon=_coordinate(item, "lon", where),
            radius_m=max(1.0, _num(item, "radius_m", where, VEHICLE_RADIUS_M)),
            credibility=_unit(_num(item, "credibility", where, 1.0), f"{where}.credibility"),
            label=label,
        )
    if kind == EvidenceKind.SEARCH:
        start = parse_time(item.get("from"), f"{where}.from")
        end = parse_time(item.get("to"), f"{where}.to")
        if end < start:
            raise CaseError(f"{where}: 'to' is before 'from'")
        post_id = item.get("post_id")
        if not isinstance(post_id, str) or not post_id:
            raise CaseError(f"{where}: missing 'post_id'")
        pd = _unit(_num(item, "detection_probability", where, 0.5), f"{where}.pd")
        return SearchReport(
            post_id=post_id,
            start=start,
            end=end,
            detection_probability=pd,
            found=bool(item.get("found", False)),
            label=label,
        )
    raise CaseError(f"{where}: unknown evidence kind {kind!r} (sighting, search or vehicle_found)")


def _parse_hint(item: Mapping[str, Any], where: str) -> Hint:
    kind = item.get("kind")
    weight = _unit(_num(item, "weight", where, 0.5), f"{where}.weight")
    if kind == HintKind.HEADING:
        return Hint(HintKind.HEADING, weight, bearing_deg=_num(item, "bearing_deg", where) % 360.0)
    if kind == HintKind.DESTINATION:
        return Hint(
            HintKind.DESTINATION,
            weight,
            lat=_coordinate(item, "lat", where),
            lon=_coordinate(item, "lon", where),
        )
    raise CaseError(f"{where}: unknown hint kind {kind!r} (heading or destination)")


def parse_case(data: Mapping[str, Any] | SearchCase) -> SearchCase:
    """Parse a case dict as documented in docs/search-api.md."""
    if isinstance(data, SearchCase):
        return data
    if not isinstance(data, Mapping):
        raise CaseError("case: expected a JSON object")
    lk = data.get("last_known")
    if not isinstance(lk, Mapping):
        raise CaseError("case: missing 'last_known' object")
    t0 = parse_time(lk.get("time_earliest"), "last_known.time_earliest")
    t1 = parse_time(lk.get("time_latest", lk.get("time_earliest")), "last_known.time_latest")
    if t1 < t0:
        raise CaseError("last_known: time_latest is before time_earliest")
    modes = data.get("modes", ["road"])
    if not _sequence(modes) or not modes or not all(isinstance(m, str) for m in modes):
        raise CaseError("case.modes: expected a non-empty list such as ['road', 'rail']")
    hints = tuple(_parse_hint(h, f"hints[{i}]") for i, h in enumerate(_objects(data, "hints")))
    evidence = tuple(
        parse_evidence(e, f"evidence[{i}]") for i, e in enumerate(_objects(data, "evidence"))
    )
    return SearchCase(
        lat=_coordinate(lk, "lat", "last_known"),
        lon=_coordinate(lk, "lon", "last_known"),
        time_earliest=t0,
        time_latest=t1,
        modes=tuple(str(m) for m in modes),
        hints=hints,
        evidence=evidence,
    )
