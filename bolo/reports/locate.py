"""Where a report happened: coordinates as given, a place name geocoded offline, or photo GPS."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bolo.reports.geocode import Gazetteer, default_gazetteer, parse_coordinates

COORDINATE_RADIUS_M = 100.0
PHOTO_RADIUS_M = 50.0
UNKNOWN_RADIUS_M = 5000.0


class HowLocated(StrEnum):
    """How a report's position was obtained, from the most to the least precise."""

    COORDINATES = "coordinates"
    PHOTO = "photo"
    PLACE = "place"
    FUZZY = "fuzzy"
    POST = "post"
    NONE = "none"


@dataclass(frozen=True)
class Location:
    """A resolved position (WGS84 degrees) with its uncertainty radius (metres)."""

    lat: float | None
    lon: float | None
    radius_m: float
    how: HowLocated
    resolved: str = ""


def locate(
    *,
    place: str | None,
    lat: float | None,
    lon: float | None,
    photo_lat: float | None = None,
    photo_lon: float | None = None,
    gazetteer: Gazetteer | None = None,
) -> Location:
    """Resolve a report's position: explicit coordinates win, then coordinates written in the
    place field, then the place name (offline gazetteer), then the photo's GPS."""
    if lat is not None and lon is not None:
        return Location(lat, lon, COORDINATE_RADIUS_M, HowLocated.COORDINATES)
    if place:
        written = parse_coordinates(place)
        if written is not None:
            return Location(written[0], written[1], COORDINATE_RADIUS_M, HowLocated.COORDINATES)
        match = (gazetteer or default_gazetteer()).geocode(place)
        if match is not None:
            how = HowLocated.PLACE if match.how == "exact" else HowLocated.FUZZY
            radius = match.place.radius_m * (1.0 if how is HowLocated.PLACE else 2.0)
            return Location(match.place.lat, match.place.lon, radius, how, match.place.name)
    if photo_lat is not None and photo_lon is not None:
        return Location(photo_lat, photo_lon, PHOTO_RADIUS_M, HowLocated.PHOTO)
    return Location(None, None, UNKNOWN_RADIUS_M, HowLocated.NONE)
