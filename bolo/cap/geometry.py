"""Checks of CAP area geometry: polygons and circles in WGS84 degrees, radii in kilometres."""

from __future__ import annotations

import re

import numpy as np
import shapely

from bolo.cap.model import Area, Circle

_REASON_AT = re.compile(r"^(?P<what>[^\[]+)\[(?P<x>\S+) (?P<y>\S+)\]$")


def _in_range(lat: float, lon: float) -> bool:
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


def polygon_errors(points: list[tuple[float, float]], where: str) -> list[str]:
    """Errors of one CAP polygon: >= 4 (lat, lon) pairs, closed, in range, a simple ring."""
    if not points:
        return [f"{where}: polygon is empty (a polygon needs at least 4 lat,lon pairs)"]
    if len(points) < 4:
        return [f"{where}: polygon needs at least 4 lat,lon pairs, has {len(points)}"]
    errors = []
    coords = np.asarray(points, dtype=np.float64)
    bad = np.flatnonzero((np.abs(coords[:, 0]) > 90.0) | (np.abs(coords[:, 1]) > 180.0))
    if bad.size:
        lat, lon = points[int(bad[0])]
        errors.append(f"{where}: polygon point {lat},{lon} out of WGS84 range")
    if points[0] != points[-1]:
        errors.append(f"{where}: polygon not closed (first point differs from last)")
    if errors:
        return errors
    # Simplicity does not depend on the axis order, so the (lat, lon) array serves as it is.
    if shapely.is_simple(shapely.linearrings(coords)):
        return errors
    reason = str(shapely.is_valid_reason(shapely.polygons(coords[:, ::-1])))
    if reason:
        match = _REASON_AT.match(reason)
        if match:  # GEOS reports x y (lon lat); CAP people read lat,lon
            reason = f"{match['what'].strip().lower()} at {match['y']},{match['x']}"
        errors.append(f"{where}: polygon is not a simple ring ({reason})")
    return errors


def circle_errors(circle: Circle, where: str) -> list[str]:
    """Errors of one CAP circle: centre in WGS84 range, radius >= 0 km."""
    errors = []
    if not _in_range(circle.lat, circle.lon):
        errors.append(f"{where}: circle centre {circle.lat},{circle.lon} out of WGS84 range")
    if circle.radius_km < 0:
        errors.append(f"{where}: circle radius {circle.radius_km} km is negative")
    return errors


def area_errors(area: Area, where: str) -> list[str]:
    """Errors of one area: its polygons and circles, and altitude/ceiling (feet) consistency."""
    errors: list[str] = []
    for number, polygon in enumerate(area.polygons, 1):
        errors += polygon_errors(polygon, f"{where}/polygon[{number}]")
    for number, circle in enumerate(area.circles, 1):
        errors += circle_errors(circle, f"{where}/circle[{number}]")
    if area.ceiling is not None and area.altitude is None:
        errors.append(f"{where}: ceiling needs altitude")
    if area.ceiling is not None and area.altitude is not None and area.altitude > area.ceiling:
        errors.append(f"{where}: altitude {area.altitude} above ceiling {area.ceiling}")
    return errors
