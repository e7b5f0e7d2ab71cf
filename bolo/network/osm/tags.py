"""OSM tag semantics: which ways a car or a train can use, at what speed, in which direction."""

from __future__ import annotations

import re
from enum import IntEnum

KMH = 1 / 3.6

# Free-flow speeds (km/h) by highway class when a way has no usable maxspeed. The search
# wants the suspects' earliest *possible* arrival, so these are limits, not averages.
ROAD_KMH: dict[str, float] = {
    "motorway": 120,
    "motorway_link": 60,
    "trunk": 100,
    "trunk_link": 50,
    "primary": 80,
    "primary_link": 45,
    "secondary": 70,
    "secondary_link": 40,
    "tertiary": 60,
    "tertiary_link": 35,
    "unclassified": 50,
    "residential": 40,
    "living_street": 15,
    "service": 20,
    "road": 40,
    "busway": 50,
}
# Major roads: where patrols can set up and where a cut road counts as an exit.
MAJOR = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "motorway_link",
        "trunk_link",
        "primary_link",
        "secondary_link",
    }
)
CUT_EXIT_CLASSES = MAJOR | {"tertiary", "tertiary_link", "unclassified"}
RAIL_KMH: dict[str, float] = {"rail": 100, "light_rail": 50, "subway": 40, "narrow_gauge": 50}
SKIP_SERVICE = frozenset({"parking_aisle", "driveway", "drive-through", "emergency_access"})
RAIL_SKIP_SERVICE = frozenset({"yard", "siding", "spur", "crossover"})
NO_ACCESS = frozenset({"no", "private", "agricultural", "forestry", "delivery", "customers"})
YES_ACCESS = frozenset({"yes", "permissive", "destination", "designated"})
# Zone maxspeeds such as "PT:urban" or "DE:motorway".
ZONE_KMH = {
    "urban": 50,
    "rural": 90,
    "trunk": 100,
    "motorway": 120,
    "living_street": 20,
    "bicycle_road": 30,
    "nsl_single": 60 * 1.609344,  # GB national speed limits (mph)
    "nsl_dual": 70 * 1.609344,
    "nsl_restricted": 30 * 1.609344,
    "walk": 7,
    "none": 130,
}
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|knots|km/h|kmh|kph)?\s*$")
_ZONE_NUMBER = re.compile(r"^zone:?(\d+)$")  # "DE:zone30", "AT:zone:30"


# Ferries (route=ferry): crossing speed when the way has no usable duration; bounds on the
# speed a duration gives (a duration covering the waiting at the quay would give less).
FERRY_KMH = 30.0
FERRY_KMH_RANGE = (5.0, 80.0)
_DURATION = re.compile(r"^\s*(?:(\d+):)?(\d+)(?::(\d+))?\s*$")


def duration_seconds(value: str | None) -> float | None:
    """Seconds of an OSM duration ("mm", "hh:mm", "hh:mm:ss"); None if unusable or zero."""
    match = _DURATION.match(value or "")
    if not match:
        return None
    first, second, third = match.groups()
    if first is None:  # "mm" alone
        seconds = 60.0 * int(second)
    elif third is None:  # "hh:mm"
        seconds = 3600.0 * int(first) + 60.0 * int(second)
    else:  # "hh:mm:ss"
        seconds = 3600.0 * int(first) + 60.0 * int(second) + int(third)
    return seconds or None


def ferry_speed_kmh(metres: float, duration: str | None) -> float:
    """Crossing speed (km/h) of a ferry route ``metres`` long: from its duration tag when that
    gives a plausible speed, else FERRY_KMH."""
    seconds = duration_seconds(duration)
    if seconds is None or metres <= 0:
        return FERRY_KMH
    kmh = metres / seconds * 3.6
    low, high = FERRY_KMH_RANGE
    return kmh if low <= kmh <= high else FERRY_KMH


class Oneway(IntEnum):
    """Which arcs a way yields: both directions, along the way's node order, or against it."""

    BOTH = 0
    FORWARD = 1
    BACKWARD = -1


def _one_maxspeed(value: str) -> float | None:
    match = _NUMBER.match(value)
    if match:
        speed = float(match.group(1))
        unit = match.group(2)
        if unit == "mph":
            speed *= 1.609344
        elif unit == "knots":
            speed *= 1.852
        return speed if 1 <= speed <= 300 else None
    zone = value.split(":", 1)[1] if ":" in value else value
    numbered = _ZONE_NUMBER.match(zone)
    if numbered:
        return _one_maxspeed(numbered.group(1))
    return ZONE_KMH.get(zone)


def parse_maxspeed(value: str | None) -> float | None:
    """km/h from an OSM maxspeed value ("50", "30 mph", "PT:urban", "none"); None if unusable.

    A list ("30;50": per lane or per time of day) gives its highest usable speed: the search
    wants the earliest possible arrival."""
    if not value:
        return None
    speeds = [_one_maxspeed(part.strip().lower()) for part in value.split(";")]
    usable = [s for s in speeds if s is not None]
    return max(usable) if usable else None


def road_speed_kmh(highway: str, maxspeed: str | None) -> float:
    """Speed (km/h) of a road: its maxspeed when usable, else its class default."""
    return parse_maxspeed(maxspeed) or ROAD_KMH[highway]


def road_oneway(highway: str, oneway: str | None, junction: str | None) -> Oneway:
    """Direction rule of a road way from oneway=*, junction=roundabout and motorway defaults."""
    if oneway in ("yes", "true", "1"):
        return Oneway.FORWARD
    if oneway in ("-1", "reverse"):
        return Oneway.BACKWARD
    if oneway in ("no", "false", "0", "reversible", "alternating"):
        return Oneway.BOTH
    if junction in ("roundabout", "circular") or highway in ("motorway", "motorway_link"):
        return Oneway.FORWARD
    return Oneway.BOTH


def car_allowed(tags: dict[str, str]) -> bool:
    """Whether a motor vehicle may use a highway way, from access, motor_vehicle and motorcar."""
    for key in ("motorcar", "motor_vehicle"):
        value = tags.get(key)
        if value in YES_ACCESS:
            return True
        if value in NO_ACCESS:
            return False
    if tags.get("access") in NO_ACCESS:
        return False
    return tags.get("area") != "yes" and tags.get("service") not in SKIP_SERVICE
