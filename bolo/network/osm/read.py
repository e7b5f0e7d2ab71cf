"""One pyosmium pass over an extract: road and rail ways as coordinate runs, and tagged places.

Way geometry comes out through osmium's WKB factory (one C++ call per way) instead of
per-node Python attribute access, which is ~4x slower on Porto. Nodes are identified by their
fixed-point coordinates (1e-7 degrees, exactly what the PBF stores), so only major roads need
their node ids (for stable patrol post ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium

from bolo.network.build import haversine_m
from bolo.network.errors import NetworkImportError
from bolo.network.graph import FloatArray, IntArray, PostKind
from bolo.network.osm import tags as T

_WKB_HEADER_HEX = 18  # byte order (1) + type (4) + count (4), hex-encoded


@dataclass
class WaySet:
    """Ways of one mode: point coordinates concatenated, with per-way attributes."""

    hex_parts: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    speed_mps: list[float] = field(default_factory=list)
    oneway: list[int] = field(default_factory=list)
    major: list[bool] = field(default_factory=list)
    cut_exit: list[bool] = field(default_factory=list)

    def add(self, hex_wkb: str, speed_kmh: float, oneway: int, major: bool, cut: bool) -> None:
        """Append one way given as hex WKB linestring."""
        body = hex_wkb[_WKB_HEADER_HEX:]
        self.hex_parts.append(body)
        self.counts.append(len(body) // 32)
        self.speed_mps.append(speed_kmh * T.KMH)
        self.oneway.append(oneway)
        self.major.append(major)
        self.cut_exit.append(cut)

    def coordinates(self) -> tuple[FloatArray, FloatArray]:
        """(lat, lon) of every point of every way, way after way."""
        xy = np.frombuffer(bytes.fromhex("".join(self.hex_parts)), dtype="<f8").reshape(-1, 2)
        return xy[:, 1].copy(), xy[:, 0].copy()


@dataclass(frozen=True)
class Tagged:
    """A tagged OSM object that becomes a post or an exit."""

    osm_id: str
    kind: str
    name: str
    lat: float
    lon: float


@dataclass
class RawOsm:
    """Everything the import needs from the file."""

    road: WaySet = field(default_factory=WaySet)
    rail: WaySet = field(default_factory=WaySet)
    major_refs: list[int] = field(default_factory=list)
    major_lat7: list[int] = field(default_factory=list)
    major_lon7: list[int] = field(default_factory=list)
    cut_points: list[tuple[float, float]] = field(default_factory=list)
    tagged: list[Tagged] = field(default_factory=list)

    def major_ref_table(self) -> tuple[IntArray, IntArray]:
        """(sorted coordinate keys, OSM node ids) of the nodes of major roads."""
        lat7 = np.array(self.major_lat7, dtype=np.int64)
        lon7 = np.array(self.major_lon7, dtype=np.int64)
        valid = (np.abs(lat7) <= 900_000_000) & (np.abs(lon7) <= 1_800_000_000)
        keys = coord_key(lat7[valid], lon7[valid])
        order = np.argsort(keys, kind="stable")
        return keys[order], np.array(self.major_refs, dtype=np.int64)[valid][order]


def coord_key(lat7: IntArray, lon7: IntArray) -> IntArray:
    """One int64 per fixed-point coordinate pair (fits: 1.8e9 * 3.6e9 < 2**63)."""
    return (lat7 + 900_000_000) * 3_600_000_001 + (lon7 + 1_800_000_000)


def to_fixed(deg: FloatArray) -> IntArray:
    """Degrees to OSM fixed-point (1e-7) integers."""
    return np.rint(np.asarray(deg) * 1e7).astype(np.int64)


def _node_kind(t: osmium.osm.TagList) -> str | None:
    barrier = t.get("barrier")
    if barrier == "border_control":
        return PostKind.BORDER_CROSSING.value
    if barrier == "checkpoint" or t.get("military") == "checkpoint":
        return PostKind.CHECKPOINT.value
    amenity = t.get("amenity")
    if amenity == "police":
        return PostKind.POLICE.value
    if amenity == "ferry_terminal":
        return PostKind.FERRY_TERMINAL.value
    if t.get("railway") in ("station", "halt") and t.get("station") not in ("funicular",):
        return PostKind.STATION.value
    if t.get("aeroway") == "aerodrome" and ("iata" in t or "icao" in t):
        return "airport"
    return None


class _Reader:
    def __init__(self) -> None:
        self.raw = RawOsm()
        self.ways_seen = 0  # road, rail and ferry ways, located or not
        self.last_way = 0
        self.wkb = osmium.geom.WKBFactory()
        self.all_nodes = osmium.geom.use_nodes.ALL

    def node(self, o: osmium.osm.Node) -> None:
        kind = _node_kind(o.tags)
        if kind is not None and o.location.valid():
            self.raw.tagged.append(
                Tagged(f"n{o.id}", kind, o.tags.get("name") or "", o.location.lat, o.location.lon)
            )

    def way(self, o: osmium.osm.Way) -> None:
        # Files made by concatenating overlapping extracts hold some ways twice, next to each
        # other (ways are sorted by id): a second copy would split the way at every point.
        if o.id == self.last_way:
            return
        self.last_way = o.id
        t = o.tags
        highway = t.get("highway")
        if highway in T.ROAD_KMH:
            self._road(o, highway)
            return
        if t.get("route") == "ferry":
            self._ferry(o)
            return
        railway = t.get("railway")
        if railway in T.RAIL_KMH and t.get("service") not in T.RAIL_SKIP_SERVICE:
            speed = T.parse_maxspeed(t.get("maxspeed")) or T.RAIL_KMH[railway]
            self._add(o, self.raw.rail, speed, 0, False, False)
            return
        kind = _node_kind(t)
        if kind is not None and kind != PostKind.STATION.value:
            self._tagged_way(o, kind)

    def _road(self, o: osmium.osm.Way, highway: str) -> None:
        t = o.tags
        relevant = {k: t.get(k) for k in ("access", "motor_vehicle", "motorcar", "area", "service")}
        if not T.car_allowed({k: v for k, v in relevant.items() if v is not None}):
            return
        speed = T.road_speed_kmh(highway, t.get("maxspeed"))
        oneway = T.road_oneway(highway, t.get("oneway"), t.get("junction"))
        major = highway in T.MAJOR
        self._add(o, self.raw.road, speed, int(oneway), major, highway in T.CUT_EXIT_CLASSES)
        if major:
            # Invalid locations are filtered in bulk later (see major_ref_table).
            nodes = [(n.ref, n.y, n.x) for n in o.nodes]
            self.raw.major_refs.extend(r for r, _, _ in nodes)
            self.raw.major_lat7.extend(y for _, y, _ in nodes)
            self.raw.major_lon7.extend(x for _, _, x in nodes)

    def _ferry(self, o: osmium.osm.Way) -> None:
        # A crossing is a road arc (the suspects' car or they themselves aboard); one cut by
        # the extract's edge leaves the region like a cut road.
        located = np.array([(n.lat, n.lon) for n in o.nodes if n.location.valid()]).reshape(-1, 2)
        metres = float(
            np.sum(haversine_m(located[:-1, 0], located[:-1, 1], located[1:, 0], located[1:, 1]))
        )
        speed = T.ferry_speed_kmh(metres, o.tags.get("duration"))
        oneway = T.road_oneway("ferry", o.tags.get("oneway"), None)
        self._add(o, self.raw.road, speed, int(oneway), False, True)

    def _add(
        self, o: osmium.osm.Way, ways: WaySet, speed: float, oneway: int, major: bool, cut: bool
    ) -> None:
        self.ways_seen += 1
        try:
            ways.add(
                self.wkb.create_linestring(o, use_nodes=self.all_nodes), speed, oneway, major, cut
            )
        except (osmium.InvalidLocationError, RuntimeError):
            self._add_partial(o, ways, speed, oneway, major, cut)

    def _add_partial(
        self, o: osmium.osm.Way, ways: WaySet, speed: float, oneway: int, major: bool, cut: bool
    ) -> None:
        # Nodes outside the extract: keep each run of located nodes; where a run stops,
        # the road leaves the region.
        runs: list[list[tuple[float, float]]] = [[]]
        for n in o.nodes:
            if n.location.valid():
                runs[-1].append((n.location.lon, n.location.lat))
            elif runs[-1]:
                if cut:
                    self.raw.cut_points.append((runs[-1][-1][1], runs[-1][-1][0]))
                runs.append([])
        for i, run in enumerate(runs):
            if len(run) < 2:
                continue
            if i > 0 and cut:
                self.raw.cut_points.append((run[0][1], run[0][0]))
            header = "0102000000" + len(run).to_bytes(4, "little").hex()
            ways.add(header + np.array(run, dtype="<f8").tobytes().hex(), 0.0, oneway, major, cut)
            ways.speed_mps[-1] = speed * T.KMH

    def _tagged_way(self, o: osmium.osm.Way, kind: str) -> None:
        located = [(n.location.lat, n.location.lon) for n in o.nodes if n.location.valid()]
        if located:
            lat, lon = np.mean(np.array(located), axis=0)
            self.raw.tagged.append(
                Tagged(f"w{o.id}", kind, o.tags.get("name") or "", float(lat), float(lon))
            )


def read_osm(path: Path) -> RawOsm:
    """Read road and rail ways and post/exit places from an .osm.pbf (or .osm/.osm.bz2) file."""
    if not path.is_file() or path.stat().st_size == 0:
        raise NetworkImportError(f"{path}: missing or empty file")
    reader = _Reader()
    try:
        fp = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
        fp.with_filter(osmium.filter.EmptyTagFilter())
        fp.with_filter(
            osmium.filter.KeyFilter(
                "highway", "railway", "route", "barrier", "amenity", "aeroway", "military"
            )
        )
        for obj in fp:
            if isinstance(obj, osmium.osm.Way):
                reader.way(obj)
            elif isinstance(obj, osmium.osm.Node):
                reader.node(obj)
    except (RuntimeError, osmium.InvalidLocationError) as exc:
        raise NetworkImportError(f"{path}: not a readable OSM file ({exc})") from exc
    if not reader.raw.road.counts and not reader.raw.rail.counts:
        if reader.ways_seen:
            raise NetworkImportError(
                f"{path}: {reader.ways_seen} road or rail ways, but not two located nodes on "
                "any of them (their nodes are missing, or have negative ids as an editor saves "
                "new objects: renumber them, e.g. 'osmium renumber')"
            )
        raise NetworkImportError(f"{path}: no roads or railways in this file")
    return reader.raw
