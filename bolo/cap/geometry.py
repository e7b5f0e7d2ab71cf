"""Checks of CAP area geometry: polygons and circles in WGS84 degrees, radii in kilometres."""

from __future__ import annotations

import re

import numpy as np
import shapely

from bolo.cap.findings import Findings
from bolo.cap.model import Area, Circle

_REASON_AT = re.compile(r"^(?P<what>[^\[]+)\[(?P<x>\S+) (?P<y>\S+)\]$")


def _in_range(lat: float, lon: float) -> bool:
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


def polygon_findings(points: list[tuple[float, float]], path: str, out: Findings) -> None:
    """One CAP polygon: >= 4 (lat, lon) pairs, closed, in WGS84 range, a simple ring.

    An empty polygon is reported by `area_findings`, which knows the area's other geometry.
    """
    if len(points) < 4:
        out.add(
            "polygon-points", path, f"a polygon needs at least 4 lat,lon pairs, has {len(points)}"
        )
        return
    coords = np.asarray(points, dtype=np.float64)
    bad = np.flatnonzero((np.abs(coords[:, 0]) > 90.0) | (np.abs(coords[:, 1]) > 180.0))
    if bad.size:
        lat, lon = points[int(bad[0])]
        out.add("polygon-range", path, f"point {lat},{lon} out of WGS84 range")
    if points[0] != points[-1]:
        out.add("polygon-closed", path, "not closed (first point differs from last)")
    if bad.size or points[0] != points[-1]:
        return
    # Simplicity does not depend on the axis order, so the (lat, lon) array serves as it is.
    if shapely.is_simple(shapely.linearrings(coords)):
        return
    reason = str(shapely.is_valid_reason(shapely.polygons(coords[:, ::-1])))
    if reason:
        match = _REASON_AT.match(reason)
        if match:  # GEOS reports x y (lon lat); CAP people read lat,lon
            reason = f"{match['what'].strip().lower()} at {match['y']},{match['x']}"
        out.add("polygon-simple", path, f"not a simple ring ({reason})")


def circle_findings(circle: Circle, path: str, out: Findings) -> None:
    """One CAP circle: centre in WGS84 range, radius >= 0 km (0 is a warning)."""
    if not _in_range(circle.lat, circle.lon):
        out.add("circle-range", path, f"centre {circle.lat},{circle.lon} out of WGS84 range")
    if circle.radius_km < 0:
        out.add("circle-radius", path, f"radius {circle.radius_km} km is negative")
    elif circle.radius_km == 0:
        out.add("circle-zero", path, "radius 0 km covers no one")


def area_findings(area: Area, path: str, out: Findings) -> None:
    """One area: its polygons and circles, empty polygons, altitude/ceiling (feet) consistency.

    An empty polygon beside another geometry (a geocode, circle or polygon) is a warning, as real
    national feeds send one; as the area's only geometry it is an error (a shape meant, none given).
    """
    others = bool(area.geocodes or area.circles or any(area.polygons))
    for number, polygon in enumerate(area.polygons, 1):
        where = f"{path}/polygon[{number}]"
        if not polygon and others:
            out.add("polygon-empty", where, "empty polygon ignored (the area has other geometry)")
        else:
            polygon_findings(polygon, where, out)
    for number, circle in enumerate(area.circles, 1):
        circle_findings(circle, f"{path}/circle[{number}]", out)
    if area.ceiling is not None and area.altitude is None:
        out.add("ceiling-altitude", f"{path}/ceiling", "ceiling needs altitude")
    if area.ceiling is not None and area.altitude is not None and area.altitude > area.ceiling:
        out.add(
            "altitude-order",
            f"{path}/altitude",
            f"altitude {area.altitude} above ceiling {area.ceiling}",
        )
