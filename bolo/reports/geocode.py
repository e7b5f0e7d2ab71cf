"""Offline geocoding of place names in tips, and reverse geocoding for display.

Sources, indexed once per process: the DPRK corridor nodes (``nodes.csv``, with Korean names), the
GeoNames extract (``gazetteer_geonames.csv``, with alternate names), the NGII points (Korean names,
romanised for Latin queries) and, when the caller adds them, the named nodes of an imported OSM
network and the place names of its extract (``bolo.network.osm.gazetteer``). Matching is tolerant
of romanisation (see ``bolo.reports.romanise``) and, failing an exact key, of small spelling
mistakes (rapidfuzz over the keys of a similar length). Coordinates are WGS84 degrees, distances
metres.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import fuzz, process

from bolo.reports.romanise import fold_variants, hangul_key, hangul_to_rr, has_hangul

if TYPE_CHECKING:
    from bolo.network.osm.gazetteer import NamedPlace

log = logging.getLogger(__name__)
DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "dprk"
EARTH_RADIUS_M = 6_371_008.8
_FUZZY_CUTOFF = 0.8


class Source(IntEnum):
    """Where a place comes from; a lower value wins when names tie."""

    CORRIDOR = 0
    GEONAMES = 1
    PLACE = 2  # place names of an imported OSM extract
    NETWORK = 3
    NGII = 4


@dataclass(frozen=True)
class Place:
    """A named place: display name, WGS84 position and how precise a match on it is (metres)."""

    name: str
    lat: float
    lon: float
    source: Source
    radius_m: float
    name_ko: str = ""
    population: int = 0


@dataclass(frozen=True)
class Match:
    """A geocoding result: the best place, how the query matched (exact/fuzzy) and alternatives."""

    place: Place
    how: str
    score: float
    alternatives: tuple[Place, ...] = ()


@dataclass(frozen=True)
class Nearby:
    """A reverse-geocoding result: the nearest place, its distance (m) and compass bearing."""

    place: Place
    distance_m: float
    bearing: str

    def describe(self) -> str:
        """Human text such as ``"3.2 km NE of Kilju"`` (or ``"Kilju"`` when within 500 m)."""
        if self.distance_m < 500:
            return self.place.name
        return f"{self.distance_m / 1000:.1f} km {self.bearing} of {self.place.name}"


@dataclass
class Gazetteer:
    """An in-memory index of named places, by folded Latin key and by Hangul key."""

    places: list[Place] = field(default_factory=list)
    _latin: dict[str, list[int]] = field(default_factory=dict)
    _hangul: dict[str, list[int]] = field(default_factory=dict)
    _xyz: np.ndarray | None = None

    def __post_init__(self) -> None:
        self._memo: dict[str, Match | None] = {}
        self._near: dict[int, list[str]] = {}  # fuzzy candidates by query key length

    def add(self, place: Place, names: Iterable[str] = ()) -> None:
        """Index ``place`` under its name, its Korean name and every extra name in ``names``."""
        index = len(self.places)
        self.places.append(place)
        self._xyz = None
        for name in [place.name, *names]:
            for key in fold_variants(name):
                self._latin.setdefault(key, []).append(index)
        if place.name_ko:
            key = hangul_key(place.name_ko)
            if key:
                self._hangul.setdefault(key, []).append(index)
                for latin in fold_variants(hangul_to_rr(key)):
                    self._latin.setdefault(latin, []).append(index)
        self._memo.clear()
        self._near.clear()

    def add_network_places(
        self, names: dict[int, str], lat: Iterable[float], lon: Iterable[float]
    ) -> int:
        """Index the named nodes of an imported network (``Network.node_names`` with its
        ``node_lat``/``node_lon`` arrays); returns how many places were added."""
        lats, lons = list(lat), list(lon)
        for node, name in names.items():
            self.add(Place(name, float(lats[node]), float(lons[node]), Source.NETWORK, 1000.0))
        return len(names)

    def add_places(self, places: Iterable[NamedPlace]) -> int:
        """Index the place names of an imported OSM extract (``load_places``) with every
        spelling they carry; returns how many places were added."""
        count = 0
        for p in places:
            self.add(
                Place(p.name, p.lat, p.lon, Source.PLACE, p.radius_m, p.name_ko, p.population),
                p.names,
            )
            count += 1
        return count

    def quick(self, query: str) -> bool:
        """True when ``geocode(query)`` answers at once (remembered, or an exact key: a few
        microseconds); False when it would search for near spellings, which takes
        milliseconds at country scale: call it off the event loop then."""
        query = query.strip()[:200]
        if query in self._memo or not query or parse_coordinates(query) is not None:
            return True
        if has_hangul(query) and hangul_key(query) in self._hangul:
            return True
        latin = hangul_to_rr(query) if has_hangul(query) else query
        return any(key in self._latin for key in fold_variants(latin))

    def geocode(self, query: str) -> Match | None:
        """Return the best place for a free-text place name (Latin in any romanisation, or
        Hangul), or None when nothing is close enough."""
        query = query.strip()[:200]
        if query not in self._memo:
            if len(self._memo) > 4096:
                self._memo.clear()
            self._memo[query] = self._lookup(query)
        return self._memo[query]

    def _lookup(self, query: str) -> Match | None:
        if not query:
            return None
        if has_hangul(query):
            hits = self._hangul.get(hangul_key(query), [])
            if hits:
                return self._best(hits, "exact", 1.0)
            query = hangul_to_rr(query)
        for key in sorted(fold_variants(query), key=len, reverse=True):
            if key in self._latin:
                return self._best(self._latin[key], "exact", 1.0)
        return self._fuzzy(query)

    def _fuzzy(self, query: str) -> Match | None:
        best: tuple[float, str] | None = None
        for key in fold_variants(query):
            if len(key) < 4:
                continue
            found = process.extractOne(
                key,
                self._keys_near(len(key)),
                scorer=fuzz.ratio,
                score_cutoff=100.0 * _FUZZY_CUTOFF,
            )
            if found is not None and (best is None or found[1] / 100.0 > best[0]):
                best = (found[1] / 100.0, found[0])
        if best is None:
            return None
        return self._best(self._latin[best[1]], "fuzzy", best[0])

    def _keys_near(self, length: int) -> list[str]:
        # The similarity 2 * matches / (len a + len b) cannot reach the cutoff unless the
        # shorter key has at least cutoff / (2 - cutoff) of the longer's length.
        if length not in self._near:
            floor = _FUZZY_CUTOFF / (2.0 - _FUZZY_CUTOFF)
            self._near[length] = [
                k for k in self._latin if min(len(k), length) >= floor * max(len(k), length)
            ]
        return self._near[length]

    def _best(self, hits: list[int], how: str, score: float) -> Match:
        ranked = sorted(
            {self.places[i] for i in hits}, key=lambda p: (p.source, -p.population, p.name)
        )
        return Match(ranked[0], how, score, tuple(ranked[1:6]))

    def reverse(self, lat: float, lon: float) -> Nearby | None:
        """Return the nearest indexed place to a WGS84 point, or None if the index is empty."""
        if not self.places:
            return None
        if self._xyz is None:
            self._xyz = _unit_vectors(
                np.array([p.lat for p in self.places]), np.array([p.lon for p in self.places])
            )
        point = _unit_vectors(np.array([lat]), np.array([lon]))[0]
        dots = np.clip(self._xyz @ point, -1.0, 1.0)
        # Prefer curated places: an NGII point must be clearly nearer to win.
        penalty = np.array([1.0 if p.source != Source.NGII else 0.999999 for p in self.places])
        best = int(np.argmax(dots * penalty))
        place = self.places[best]
        return Nearby(
            place,
            haversine_m(place.lat, place.lon, lat, lon),
            compass(place.lat, place.lon, lat, lon),
        )


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    phi, lam = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], axis=1)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def compass(lat1: float, lon1: float, lat2: float, lon2: float) -> str:
    """The 8-point compass direction (N, NE, ...) from the first point to the second."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    degrees = (math.degrees(math.atan2(y, x)) + 360.0) % 360.0
    return ["N", "NE", "E", "SE", "S", "SW", "W", "NW"][int((degrees + 22.5) // 45) % 8]


_RADIUS_BY_KIND = {"city": 5000.0, "town": 2500.0, "junction": 1500.0, "border_crossing": 500.0}
_NUM = r"([+-]?\d{1,3}(?:\.\d+)?)\s*°?\s*"
_COORDS = re.compile(rf"^\s*{_NUM}([NS])?\s*[,;\s]\s*{_NUM}([EW])?\s*$", re.IGNORECASE)


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """Parse ``"40.9642, 129.3278"`` or ``"40.9642 N 129.3278 E"`` into (lat, lon) degrees;
    None when the text is not a coordinate pair or is out of range."""
    found = _COORDS.match(text)
    if found is None:
        return None
    lat, lon = float(found.group(1)), float(found.group(3))
    if (found.group(2) or "N").upper() == "S":
        lat = -lat
    if (found.group(4) or "E").upper() == "W":
        lon = -lon
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    return lat, lon


def _load_corridor(gazetteer: Gazetteer, path: Path) -> None:
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            radius = _RADIUS_BY_KIND.get(row["kind"], 2000.0)
            place = Place(
                row["name"],
                float(row["lat"]),
                float(row["lon"]),
                Source.CORRIDOR,
                radius,
                row["name_ko"],
            )
            gazetteer.add(place, [row["id"]])


def _load_geonames(gazetteer: Gazetteer, path: Path) -> None:
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            population = int(row["population"] or 0)
            radius = 5000.0 if population >= 100_000 else 2500.0
            place = Place(
                row["name"],
                float(row["lat"]),
                float(row["lon"]),
                Source.GEONAMES,
                radius,
                population=population,
            )
            alternates = [a for a in row["alt_names_ascii"].split("|") if a]
            gazetteer.add(place, [row["ascii_name"], *alternates])


def _load_ngii(gazetteer: Gazetteer, path: Path) -> None:
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    for feature in features:
        name_ko = str(feature["properties"].get("name_ko") or "")
        lon, lat = feature["geometry"]["coordinates"][:2]
        if name_ko:
            gazetteer.add(
                Place(hangul_to_rr(name_ko), float(lat), float(lon), Source.NGII, 1000.0, name_ko)
            )


def load_gazetteer(data_dir: Path = DATA_DIR) -> Gazetteer:
    """Build a gazetteer from the DPRK data files in ``data_dir`` (missing files are skipped)."""
    gazetteer = Gazetteer()
    loaders = [
        ("nodes.csv", _load_corridor),
        ("gazetteer_geonames.csv", _load_geonames),
        ("ngii_dprk_points.geojson", _load_ngii),
    ]
    for name, loader in loaders:
        if (data_dir / name).is_file():
            loader(gazetteer, data_dir / name)
    return gazetteer


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The process-wide gazetteer of the bundled DPRK data, built on first use."""
    return load_gazetteer()


_BY_NETWORK: dict[str, Gazetteer] = {}


def gazetteer_for_network(name: str | None) -> Gazetteer:
    """The bundled gazetteer plus the named nodes of the imported network ``name`` (stations,
    junctions, places of an OSM import), built once per name. The bundled one alone for None,
    for ``"dprk"`` (its nodes are already in it) and when no such network has been imported."""
    if not name or name == "dprk":
        return default_gazetteer()
    if name not in _BY_NETWORK:
        from bolo.network import load, networks_root
        from bolo.network.errors import NetworkNotFound
        from bolo.network.osm.gazetteer import load_places
        from bolo.network.store import network_dir

        try:
            network = load(name)
        except NetworkNotFound:
            log.warning("no network %r: place names are matched against the bundled data", name)
            return default_gazetteer()
        gazetteer = load_gazetteer()
        gazetteer.add_network_places(network.node_names, network.node_lat, network.node_lon)
        gazetteer.add_places(load_places(network_dir(networks_root(), name)))
        _BY_NETWORK[name] = gazetteer
    return _BY_NETWORK[name]


def built_gazetteer(name: str | None) -> Gazetteer | None:
    """The gazetteer ``gazetteer_for_network(name)`` returns, if already built (None: building
    it reads the network and its place names from disk: call that off the event loop)."""
    if not name or name == "dprk":
        return default_gazetteer() if default_gazetteer.cache_info().currsize else None
    return _BY_NETWORK.get(name)
