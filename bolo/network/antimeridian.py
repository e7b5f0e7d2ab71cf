"""Networks that straddle the antimeridian (Fiji, Chukotka, the Aleutians, Kiribati).

Drawing code works on a plane of (lon, lat) degrees. A network whose nodes lie on both sides of
lon = +-180 would span the whole globe on that plane, so it is drawn with its longitudes
unwrapped into 0..360 (``drawing_network``) and the drawn shapes are cut back at lon = 180 into
WGS84 parts (``to_wgs84``). Coordinates are WGS84 degrees.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import shapely
import shapely.affinity
from shapely.geometry import MultiPolygon, Polygon

from bolo.network.graph import FloatArray, Network

_KEY = "antimeridian:drawing"


def unwrap_lon(lon: FloatArray) -> FloatArray:
    """Longitudes (degrees) moved into 0..360 (west of Greenwich + 360)."""
    out: FloatArray = np.where(lon < 0.0, lon + 360.0, lon)
    return out


def straddles(network: Network) -> bool:
    """Whether the network's nodes lie closer together in 0..360 longitudes than in
    -180..180 ones: it crosses the antimeridian."""
    lon = network.node_lon
    if lon.size == 0:
        return False
    span = float(lon.max() - lon.min())
    unwrapped = unwrap_lon(lon)
    return float(unwrapped.max() - unwrapped.min()) < span


def drawing_network(network: Network) -> Network:
    """The network itself, or for one that straddles the antimeridian a copy sharing every
    array but the longitudes (nodes and drawing points), which run 0..360 (cached)."""
    cached = network.cache.get(_KEY)
    if isinstance(cached, Network):
        return cached
    drawn = network
    if straddles(network):
        geom_lon = network.geom_lon
        drawn = replace(
            network,
            node_lon=unwrap_lon(network.node_lon),
            geom_lon=None if geom_lon is None else unwrap_lon(geom_lon),
            cache={},
        )
    network.cache[_KEY] = drawn
    return drawn


def drawing_lon(network: Network, lon: float) -> float:
    """A longitude (degrees) on the plane ``drawing_network(network)`` is drawn on."""
    if drawing_network(network) is network or lon >= 0.0:
        return lon
    return lon + 360.0


def to_wgs84(shape: Polygon) -> Polygon | MultiPolygon:
    """A shape drawn on the 0..360 plane back in -180..180 longitudes: unchanged when it lies
    within them, else cut at lon = 180 into parts (the part east of it moved by -360)."""
    minx, miny, maxx, maxy = shape.bounds
    if minx >= -180.0 and maxx <= 180.0:
        return shape
    west = shapely.clip_by_rect(shape, -180.0, miny - 1.0, 180.0, maxy + 1.0)
    east = shapely.affinity.translate(
        shapely.clip_by_rect(shape, 180.0, miny - 1.0, 540.0, maxy + 1.0), xoff=-360.0
    )
    parts = [
        p
        for g in (west, east)
        for p in getattr(g, "geoms", [g])
        if isinstance(p, Polygon) and not p.is_empty and p.area > 0.0
    ]
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)
