"""GeoJSON layers of the console map, computed on the server so the browser needs no internet.

Every coordinate is WGS84 degrees in GeoJSON order (lon, lat). Layers: the country outline,
the network (schematic arcs), the posts, the search picture as h3 cells with their probability
(the heat layer; its 90% and 50% regions are bolo.cases.picture.region_features), isochrones
(where the suspects can be by now, by elapsed time, following the network), and reports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import h3
import numpy as np

from bolo import i18n
from bolo.cases.model import Case
from bolo.cases.picture import DEFAULT_MODES
from bolo.network import Mode, Network, PointTooFar, PostKind
from bolo.network.isochrone import isochrone_geojson
from bolo.posts.model import Post
from bolo.reports.model import Report
from bolo.web.words import word

DATA = Path(__file__).resolve().parent.parent / "data"
OUTLINES = {"dprk": DATA / "dprk" / "ne50m_prk_country.geojson"}
ISOCHRONE_HOURS = (1.0, 3.0, 6.0, 12.0)
# The picture's h3 resolution-7 cells (about 5 km2) are specks at country zoom; the map sums
# them into resolution-5 cells (about 250 km2, 9 km edge).
HEAT_RESOLUTION = 5
Feature = dict[str, Any]


def collection(features: Sequence[Feature]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``features``."""
    return {"type": "FeatureCollection", "features": list(features)}


@lru_cache(maxsize=8)
def outline(network_name: str) -> dict[str, Any]:
    """The country outline bundled for a network (empty collection when there is none)."""
    path = OUTLINES.get(network_name)
    if path is None:
        return collection([])
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def network_lines(network: Network) -> dict[str, Any]:
    """One LineString per undirected arc, with its mode (road or rail)."""
    from bolo.network.graph import ModeCode

    names = {int(ModeCode.of(m)): m.value for m in Mode}
    seen: set[tuple[int, int, int]] = set()
    features = []
    tails = np.repeat(np.arange(network.n_nodes), np.diff(network.indptr))
    for k in range(network.n_arcs):
        a, b, mode = int(tails[k]), int(network.indices[k]), int(network.arc_mode[k])
        key = (min(a, b), max(a, b), mode)
        if key in seen:
            continue
        seen.add(key)
        coords = [[float(network.node_lon[a]), float(network.node_lat[a])]]
        if (
            network.geom_ptr is not None
            and network.geom_lat is not None
            and network.geom_lon is not None
        ):
            lo, hi = int(network.geom_ptr[k]), int(network.geom_ptr[k + 1])
            coords += [
                [float(x), float(y)]
                for x, y in zip(network.geom_lon[lo:hi], network.geom_lat[lo:hi], strict=True)
            ]
        coords.append([float(network.node_lon[b]), float(network.node_lat[b])])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {"mode": names.get(mode, "other")},
            }
        )
    return collection(features)


def post_points(
    posts: Sequence[Post],
    *,
    targeted: set[str] | None = None,
    acknowledged: set[str] | None = None,
    lang: str = i18n.DEFAULT,
) -> dict[str, Any]:
    """The posts as points: id, name, kind (and ``kind_word``, in language ``lang``), whether
    the alert addresses it and it acknowledged."""
    targeted = targeted or set()
    acknowledged = acknowledged or set()
    shown = _words({p.kind for p in posts}, lang)
    return collection(
        [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                "properties": {
                    "id": p.id,
                    "name": p.name,
                    "kind": p.kind,
                    "kind_word": shown[p.kind],
                    "targeted": p.id in targeted,
                    "acknowledged": p.id in acknowledged,
                },
            }
            for p in posts
            if p.kind != PostKind.PUBLIC
        ]
    )


def heat_cells(
    probability: Mapping[str, float], *, resolution: int = HEAT_RESOLUTION
) -> dict[str, Any]:
    """A picture's map (``probability`` per h3 cell, ``CellPicture.probability``) as h3 cell
    polygons at ``resolution`` with their ``probability`` (sums to 1) and ``relative``
    (probability over the largest one)."""
    cells: dict[str, float] = {}
    for cell, p in probability.items():
        parent = (
            h3.cell_to_parent(cell, resolution) if h3.get_resolution(cell) > resolution else cell
        )
        cells[parent] = cells.get(parent, 0.0) + p
    top = max(cells.values(), default=1.0)
    features = []
    for cell, p in sorted(cells.items(), key=lambda kv: kv[1]):
        ring = [[lon, lat] for lat, lon in h3.cell_to_boundary(cell)]
        ring.append(ring[0])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"cell": cell, "probability": p, "relative": p / top},
            }
        )
    return collection(features)


def isochrones(
    case: Case,
    network: Network,
    *,
    at: datetime,
    hours: Sequence[float] = ISOCHRONE_HOURS,
    lang: str = i18n.DEFAULT,
) -> dict[str, Any]:
    """Where the suspects can be within each of ``hours`` (hours) from the last-known place, and
    within the time elapsed since the earliest last sighting: the network-following outline of
    bolo.network.isochrone (the picture's modes, holes where nothing is reached; a
    MultiPolygon where it is cut at the antimeridian), largest first, each a Feature with its
    ``hours`` and a ``label`` (the map's tooltip) in language ``lang``. Empty when the
    last-known place is off the network (the picture says why)."""
    elapsed_h = max((at - case.last_seen_earliest).total_seconds() / 3600.0, 0.0)
    limits = sorted({*(h for h in hours if h < elapsed_h), round(elapsed_h, 1)}, reverse=True)
    modes = [Mode(m) for m in DEFAULT_MODES]
    features = []
    for limit in limits:
        try:
            area = isochrone_geojson(
                network,
                lat=case.last_known_lat,
                lon=case.last_known_lon,
                seconds=limit * 3600.0,
                modes=modes,
            )
        except PointTooFar:
            return collection([])
        area["properties"] = {"hours": limit, "label": reachable_label(limit, lang)}
        features.append(area)
    return collection(features)


def reachable_label(hours: float, lang: str) -> str:
    """The tooltip of the area reachable within ``hours`` (hours), in language ``lang``."""
    with i18n.use(lang):
        return i18n.gettext("reachable within %(hours)s h") % {"hours": f"{hours:g}"}


def _words(values: set[str], lang: str) -> dict[str, str]:
    """Each model value as a word in language ``lang`` (bolo.web.words)."""
    with i18n.use(lang):
        return {v: word(v) for v in values}


def report_points(reports: Sequence[Report], *, lang: str = i18n.DEFAULT) -> dict[str, Any]:
    """Located reports as points: kind, state (and ``kind_word``, ``state_word`` in language
    ``lang``), time, receipt (no free text, no contact)."""
    shown = _words({r.kind for r in reports} | {r.state for r in reports}, lang)
    return collection(
        [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                "properties": {
                    "id": r.id,
                    "kind": r.kind,
                    "state": r.state,
                    "kind_word": shown[r.kind],
                    "state_word": shown[r.state],
                    "receipt": r.receipt,
                    "seen_at": r.seen_at.isoformat(),
                    "radius_m": r.radius_m,
                },
            }
            for r in reports
            if r.lat is not None and r.lon is not None
        ]
    )
