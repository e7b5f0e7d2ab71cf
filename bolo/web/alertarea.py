"""The area of a drafted alert (its CAP ``<area>``): where the suspects can be by now on the
network, plus a circle around each chosen post outside it.

The polygons are the exteriors of the network-following isochrone (bolo.network.isochrone:
the picture's modes, from the earliest last sighting to the picture's time, at least
MIN_SECONDS so the area is never a dot; CAP polygons have no holes). Each chosen post outside
those polygons gets a CAP circle of POST_RADIUS_KM (the area around the post its alert is meant
for, wider than the nodes the post watches); public posts (outlets, not places) add nothing.
Within the AreaSpec limits: at most MAX_POLYGONS polygons (the largest kept) and MAX_CIRCLES
circles (more posts are grouped by k-means into MAX_CIRCLES groups, each one circle around its
posts). When the case has no usable network (not imported, or the last-known place is off it)
the area is the fallback: the hull of the last-known place and the chosen posts, widened by
FALLBACK_DEG.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from scipy.cluster.vq import kmeans2
from shapely.geometry import MultiPoint, Point, Polygon

from bolo.cases.model import Case
from bolo.cases.picture import DEFAULT_MODES
from bolo.network import Mode, Network, NetworkError, PostKind, load_shared
from bolo.network.build import haversine_m
from bolo.network.isochrone import isochrone_rings
from bolo.posts.model import Post

log = logging.getLogger(__name__)
MIN_SECONDS = 900.0  # 15 min: an alert is approved minutes after the draft at the earliest
POST_RADIUS_KM = 3.0  # the area around a chosen post that its alert is meant for
MAX_POLYGONS = 20  # AreaSpec limits
MAX_CIRCLES = 20
MAX_RADIUS_KM = 3000.0
FALLBACK_DEG = 0.15  # about 15 km around the hull when there is no network to follow
Ring = list[tuple[float, float]]


def case_network(case: Case) -> Network | None:
    """The network the case names, or None when it cannot be loaded (logged)."""
    try:
        return load_shared(case.network)[0]
    except NetworkError as exc:
        log.warning("alert area of case %s without a network: %s", case.id, exc)
        return None


def alert_area(
    case: Case, posts: Sequence[Post], network: Network | None, *, at: datetime
) -> dict[str, Any]:
    """The CAP area of an alert on ``case`` addressed to ``posts``, drawn for time ``at``:
    ``{"polygons": closed (lat, lon) rings, "circles": [{"lat", "lon", "radius_km"}]}`` in
    WGS84 degrees and kilometres (see module doc; the fallback without ``network``)."""
    posts = [p for p in posts if p.kind != PostKind.PUBLIC]  # an outlet, not a place
    rings = reachable_rings(case, network, at=at)
    if rings is None:
        return {"polygons": [hull_ring(case, posts)], "circles": []}
    shapes = [Polygon([(lo, la) for la, lo in ring]) for ring in rings]
    outside = [
        (p.lat, p.lon) for p in posts if not any(s.covers(Point(p.lon, p.lat)) for s in shapes)
    ]
    return {"polygons": rings, "circles": post_circles(outside)}


def reachable_rings(case: Case, network: Network | None, *, at: datetime) -> list[Ring] | None:
    """The exteriors of where the suspects can be at ``at`` (at most MAX_POLYGONS, largest
    first), or None when there is no network or the last-known place is off it (logged)."""
    if network is None:
        return None
    seconds = max((at - case.last_seen_earliest).total_seconds(), MIN_SECONDS)
    try:
        rings = isochrone_rings(
            network,
            lat=case.last_known_lat,
            lon=case.last_known_lon,
            seconds=seconds,
            modes=[Mode(m) for m in DEFAULT_MODES],
        )
    except (NetworkError, ValueError) as exc:
        log.warning("alert area of case %s does not follow the network: %s", case.id, exc)
        return None
    return rings[:MAX_POLYGONS]


def hull_ring(case: Case, posts: Sequence[Post]) -> Ring:
    """The fallback area: the hull of the last-known place and ``posts`` widened by
    FALLBACK_DEG, as one closed (lat, lon) ring."""
    points = [(case.last_known_lon, case.last_known_lat)] + [(p.lon, p.lat) for p in posts]
    hull = MultiPoint(points).convex_hull.buffer(FALLBACK_DEG).simplify(0.02)
    if not isinstance(hull, Polygon):
        raise ValueError("could not build an alert area")
    return [(round(lat, 4), round(lon, 4)) for lon, lat in hull.exterior.coords]


def post_circles(places: Sequence[tuple[float, float]]) -> list[dict[str, float]]:
    """CAP circles covering ``places`` ((lat, lon), degrees), each with POST_RADIUS_KM around
    it: one per place, or MAX_CIRCLES k-means groups (each centred on its group's mean, radius
    the farthest member plus POST_RADIUS_KM) when there are more places."""
    if len(places) <= MAX_CIRCLES:
        return [{"lat": la, "lon": lo, "radius_km": POST_RADIUS_KM} for la, lo in places]
    lat = np.array([la for la, _ in places])
    ref = places[0][1]
    lon = ref + (np.array([lo for _, lo in places]) - ref + 180.0) % 360.0 - 180.0  # unwrapped
    scale = math.cos(math.radians(float(np.mean(lat))))
    xy = np.column_stack((lon * scale, lat))
    _, labels = kmeans2(xy, MAX_CIRCLES, minit="++", seed=0)
    circles = []
    for k in range(MAX_CIRCLES):
        members = labels == k
        if not members.any():
            continue
        c_lat, c_lon = float(lat[members].mean()), float(lon[members].mean())
        far = float(haversine_m(c_lat, c_lon, lat[members], lon[members]).max()) / 1000.0
        circles.append(
            {
                "lat": c_lat,
                "lon": (c_lon + 180.0) % 360.0 - 180.0,
                "radius_km": min(math.ceil((far + POST_RADIUS_KM) * 1000) / 1000, MAX_RADIUS_KM),
            }
        )
    return circles
