"""Place names of an OSM extract, for geocoding tips in an imported country.

``extract_places`` reads what people name in a report: settlements and localities
(``place=*``), stations and stops (rail, metro, bus), landmarks (tourism, historic, amenities such
as hospitals, schools, markets, peaks, bridges) and named streets (the ways of one name near each
other merged into one place around their middle), each with every spelling OSM gives it
(``name:*``, ``alt_name``, ``old_name``, ...). ``bolo network import`` stores them beside the
network (``places.jsonl.gz``); ``load_places`` reads them back. Pure: no database, no web.
Positions are WGS84 degrees, radii metres.
"""

from __future__ import annotations

import gzip
import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import osmium

PLACES_FILE = "places.jsonl.gz"
# How far from the point a place so named may be (metres), by kind.
_PLACE_RADIUS = {
    "city": 5000.0,
    "town": 2500.0,
    "village": 1500.0,
    "borough": 2500.0,
    "suburb": 1500.0,
    "quarter": 1000.0,
    "neighbourhood": 800.0,
    "hamlet": 800.0,
    "island": 3000.0,
    "municipality": 4000.0,
}
_STATION_RADIUS = 500.0
_LANDMARK_RADIUS = 300.0
_AMENITIES = frozenset(
    {
        "hospital",
        "school",
        "university",
        "college",
        "marketplace",
        "townhall",
        "police",
        "bus_station",
        "ferry_terminal",
        "place_of_worship",
        "fuel",
        "post_office",
        "library",
        "cinema",
        "theatre",
        "stadium",
        "prison",
    }
)
_OTHER_LANDMARKS = {
    "tourism": None,
    "historic": None,
    "aeroway": {"aerodrome"},
    "natural": {"peak", "volcano", "bay", "cape"},
    "man_made": {"bridge", "tower", "lighthouse", "dam"},
    "leisure": {"park", "stadium"},
    "waterway": {"dam"},
    "barrier": {"border_control"},
}
_STREETS = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "living_street",
        "pedestrian",
        "service",
        "road",
        "motorway_link",
        "trunk_link",
        "primary_link",
        "secondary_link",
    }
)
_STREET_JOIN_M = 3000.0
_NAME_KEYS = (
    "alt_name",
    "old_name",
    "official_name",
    "short_name",
    "int_name",
    "loc_name",
    "reg_name",
    "nat_name",
)


@dataclass(frozen=True)
class NamedPlace:
    """A place named in the extract: main name, position, kind, radius (metres), population
    (0 when unknown), Korean name (``name:ko``, for Hangul queries) and every other name."""

    name: str
    lat: float
    lon: float
    kind: str
    radius_m: float
    population: int = 0
    name_ko: str = ""
    names: tuple[str, ...] = ()


def _kind(tags: osmium.osm.TagList) -> tuple[str, float] | None:
    place = tags.get("place")
    if place:
        return place, _PLACE_RADIUS.get(place, 1000.0)
    if (
        tags.get("railway") in ("station", "halt", "tram_stop")
        or tags.get("public_transport") == "station"
        or tags.get("amenity") == "bus_station"
    ):
        return "station", _STATION_RADIUS
    if tags.get("highway") == "bus_stop" or tags.get("public_transport") == "platform":
        return "stop", _LANDMARK_RADIUS
    if tags.get("amenity") in _AMENITIES:
        return str(tags.get("amenity")), _LANDMARK_RADIUS
    for key, values in _OTHER_LANDMARKS.items():
        value = tags.get(key)
        if value and (values is None or value in values):
            return f"{key}={value}", _LANDMARK_RADIUS
    return None


def _names(tags: osmium.osm.TagList, main: str) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for tag in tags:
        if tag.k.startswith("name:") or tag.k in _NAME_KEYS:
            for value in tag.v.split(";"):
                value = value.strip()
                if value and value != main:
                    found.setdefault(value[:200])
    return tuple(found)


def _population(text: str | None) -> int:
    digits = "".join(c for c in (text or "") if c.isdigit())
    return int(digits) if digits and len(digits) < 10 else 0


class _Reader(osmium.SimpleHandler):
    def __init__(self) -> None:
        super().__init__()
        self.places: list[NamedPlace] = []
        self.streets: dict[str, list[tuple[float, float, tuple[str, ...]]]] = {}

    def _add(
        self, tags: osmium.osm.TagList, name: str, lat: float, lon: float, kind: tuple[str, float]
    ) -> None:
        self.places.append(
            NamedPlace(
                name=name[:200],
                lat=lat,
                lon=lon,
                kind=kind[0],
                radius_m=kind[1],
                population=_population(tags.get("population")),
                name_ko=(tags.get("name:ko") or "")[:200],
                names=_names(tags, name),
            )
        )

    def node(self, o: osmium.osm.Node) -> None:
        name = o.tags.get("name")
        if not name or not o.location.valid():
            return
        kind = _kind(o.tags)
        if kind is not None:
            self._add(o.tags, name, o.location.lat, o.location.lon, kind)

    def way(self, o: osmium.osm.Way) -> None:
        name = o.tags.get("name")
        if not name or len(o.nodes) == 0:
            return
        middle = o.nodes[len(o.nodes) // 2]
        if not middle.location.valid():
            return
        lat, lon = middle.location.lat, middle.location.lon
        if o.tags.get("highway") in _STREETS:
            self.streets.setdefault(name, []).append((lat, lon, _names(o.tags, name)))
            return
        kind = _kind(o.tags)
        if kind is not None:
            self._add(o.tags, name, lat, lon, kind)


def _merged_streets(
    streets: dict[str, list[tuple[float, float, tuple[str, ...]]]],
) -> list[NamedPlace]:
    """One place per street: the pieces of a name within ``_STREET_JOIN_M`` of the first piece
    of a group join it; the place is their mean, its radius their spread."""
    places: list[NamedPlace] = []
    for name, pieces in streets.items():
        groups: list[list[tuple[float, float, tuple[str, ...]]]] = []
        for piece in pieces:
            home = next(
                (
                    g
                    for g in groups
                    if _metres(g[0][0], g[0][1], piece[0], piece[1]) < _STREET_JOIN_M
                ),
                None,
            )
            if home is None:
                groups.append([piece])
            else:
                home.append(piece)
        for group in groups:
            lat = sum(p[0] for p in group) / len(group)
            lon = sum(p[1] for p in group) / len(group)
            spread = max(_metres(lat, lon, p[0], p[1]) for p in group)
            names = tuple(dict.fromkeys(n for p in group for n in p[2]))
            places.append(
                NamedPlace(name[:200], lat, lon, "street", max(300.0, spread + 200.0), names=names)
            )
    return places


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    # Equirectangular: exact enough at street scale, and cheap for every piece of every street.
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2.0))
    return 6_371_008.8 * math.hypot(x, math.radians(lat2 - lat1))


def extract_places(source: Path, folder: Path) -> int:
    """Read the named places of the OSM extract ``source`` and write them to
    ``folder/places.jsonl.gz`` (atomically); returns how many."""
    reader = _Reader()
    reader.apply_file(str(source), locations=True)
    reader.places.extend(_merged_streets(reader.streets))
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / (PLACES_FILE + ".part")
    with gzip.open(partial, "wt", encoding="utf-8") as out:
        for place in reader.places:
            out.write(json.dumps(asdict(place), ensure_ascii=False) + "\n")
    os.replace(partial, folder / PLACES_FILE)
    return len(reader.places)


def has_places(folder: Path) -> bool:
    """True when ``folder`` holds extracted places."""
    return (folder / PLACES_FILE).is_file()


def load_places(folder: Path) -> list[NamedPlace]:
    """The places ``extract_places`` wrote to ``folder`` (empty when there are none)."""
    path = folder / PLACES_FILE
    if not path.is_file():
        return []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [
            NamedPlace(**{**row, "names": tuple(row["names"])}) for row in map(json.loads, handle)
        ]
