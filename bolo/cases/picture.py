"""The search picture of a stored case: the case row, its network with the stored posts, and
its evidence, fed to bolo.search; what the console and GET /api/v1/cases/{id}/picture show.

A picture costs a particle-filter run; the pages, the map and the API ask for the same one
within seconds, so results are kept per (case, network and posts version, evidence, minute) for
a short while. The network itself is read from disk once per stored copy and its posts placed
once per version of the stored posts (``picture_network``), so the search model built on it
serves every request until a network or post import changes it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import h3
from sqlalchemy.orm import Session

from bolo.cases.model import Case
from bolo.clock import now
from bolo.errors import InvalidInput
from bolo.network import Mode, NetworkNotFound, PointTooFar, load_shared
from bolo.network.graph import Network
from bolo.posts.placing import check_in_picture, network_with_posts, posts_version
from bolo.search import CaseError, SearchPicture

log = logging.getLogger(__name__)
T = TypeVar("T")
_CACHE_MAX = 32
_cache: OrderedDict[tuple[str, ...], Any] = OrderedDict()
_lock = threading.Lock()
# Per network name: the picture network of the newest version asked for (picture_network).
_networks: dict[str, tuple[str, Network]] = {}

DEFAULT_MODES = ("road", "rail")
# The highest-probability regions the console draws and the API answers, widest first.
REGION_LEVELS = (0.9, 0.5)


def case_document(
    case: Case, *, evidence: Sequence[dict[str, Any]] = (), modes: Sequence[str] = DEFAULT_MODES
) -> dict[str, Any]:
    """The search-API case dict (docs/search-api.md) of a stored case."""
    hints = []
    for hint in case.hints:
        item = {"kind": hint["kind"], "weight": hint.get("weight", 0.7)}
        if hint["kind"] == "heading":
            item["bearing_deg"] = hint["bearing_deg"]
        else:
            item["lat"], item["lon"] = hint["lat"], hint["lon"]
        hints.append(item)
    return {
        "last_known": {
            "lat": case.last_known_lat,
            "lon": case.last_known_lon,
            "time_earliest": case.last_seen_earliest.isoformat(),
            "time_latest": case.last_seen_latest.isoformat(),
        },
        "modes": list(modes),
        "hints": hints,
        "evidence": list(evidence),
    }


def _load(case: Case) -> tuple[Network, tuple[int, ...]]:
    try:
        return load_shared(case.network)
    except NetworkNotFound as exc:
        raise InvalidInput(f"case {case.reference}: {exc}") from None


def picture_network(session: Session, case: Case) -> tuple[Network, str]:
    """The network the case's search runs on, with the posts of its search picture (the
    network's own and the organisation's stored posts placed on it, bolo.posts.placing), and
    its version: a digest of the network's stored copy and the stored posts' version. The same
    object (search model and all) while the version stays, for every case and request of this
    process; the posts are read only when it changed. InvalidInput (422) when the case names a
    network that is not imported."""
    base, identity = _load(case)
    # The version before the posts: a post changed in between makes the next request rebuild.
    version = hashlib.sha256(repr(identity).encode()).hexdigest()[:12]
    version += "-" + posts_version(session)
    with _lock:
        found = _networks.get(base.name)
    if found is not None and found[0] == version:
        return found[1], version
    network = network_with_posts(session, base)
    with _lock:
        _networks[base.name] = (version, network)
    return network, version


def case_network(session: Session, case: Case) -> Network:
    """The network of the case's search picture (``picture_network``)."""
    return picture_network(session, case)[0]


def check_reporting_post(session: Session, case: Case, post_id: str) -> None:
    """InvalidInput (422) saying why, unless post ``post_id`` is in the case's search picture,
    so that its search reports can count as evidence."""
    check_in_picture(session, _load(case)[0], post_id)


def known_evidence(evidence: Sequence[dict[str, Any]], network: Network) -> list[dict[str, Any]]:
    """``evidence`` without the search reports of posts that are not in ``network``'s posts
    (a post removed or moved off the network since it reported): they are logged and left out,
    so that they cannot stop the picture."""
    known = {p.post_id for p in network.posts}
    kept = []
    for item in evidence:
        if item.get("kind") == "search" and item.get("post_id") not in known:
            log.warning(
                "search report of post %r left out: not in the picture of network %r",
                item.get("post_id"),
                network.name,
            )
            continue
        kept.append(item)
    return kept


def picture_for(
    case: Case,
    network: Network,
    *,
    at: datetime,
    evidence: Sequence[dict[str, Any]] = (),
    strategy: str = "particle",
    seed: int = 0,
) -> SearchPicture:
    """A search picture of ``case`` advanced to ``at`` (timezone-aware); search reports of
    posts ``network`` does not have are left out (``known_evidence``)."""
    try:
        picture = SearchPicture(
            network,
            case_document(case, evidence=known_evidence(evidence, network)),
            strategy=strategy,
            seed=seed,
        )
    except CaseError as exc:
        raise InvalidInput(f"case {case.reference}: {exc}") from None
    picture.advance(at)
    return picture


def recommended_posts(
    case: Case,
    network: Network,
    *,
    at: datetime,
    budget: int,
    evidence: Sequence[dict[str, Any]] = (),
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The ``budget`` posts to alert first, best first, each with probability, eta and reason."""
    return picture_for(case, network, at=at, evidence=evidence, seed=seed).rank(budget)


def picture_time(case: Case) -> datetime:
    """The time the picture is drawn for: now for an open case, the resolution for a resolved
    one (where the suspects could be when it ended); never before the last-seen window ends."""
    at = now() if case.resolved_at is None else min(now(), case.resolved_at)
    return max(at, case.last_seen_latest)


def picture_key(
    case: Case, what: str, evidence: Sequence[dict[str, Any]], version: str
) -> tuple[str, ...]:
    """Cache key of one product (``what``) of ``case``'s picture at its picture time, on the
    picture network of ``version`` (``picture_network``): a post import changes it at once."""
    return (
        what,
        case.id,
        version,
        str(len(evidence)),
        repr(list(evidence)[-1:]),
        picture_time(case).strftime("%Y%m%d%H%M"),
    )


def cached(key: tuple[str, ...], compute: Callable[[], T]) -> T:
    """``compute()`` once per key among the most recent keys (thread-safe enough: a race
    computes twice, never returns a wrong value)."""
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        _cache[key] = value
        while len(_cache) > _CACHE_MAX:
            _cache.popitem(last=False)
    return value


def ranked_posts(session: Session, case: Case, *, budget: int) -> list[dict[str, Any]]:
    """The ``budget`` posts to alert first at the picture time, best first: ``post_id``,
    ``probability``, ``eta`` (ISO time or None), ``reason``."""
    from bolo.reports.service import evidence_for_case

    evidence = evidence_for_case(session, case_id=case.id)
    network, version = picture_network(session, case)
    return list(
        cached(
            picture_key(case, f"rank{budget}", evidence, version),
            lambda: recommended_posts(
                case,
                network,
                at=picture_time(case),
                budget=budget,
                evidence=evidence,
            ),
        )
    )


def reachable_area(case: Case, network: Network, *, at: datetime) -> dict[str, Any]:
    """Where the suspects can be at ``at`` on the network (by the case's modes, from the
    earliest last sighting) as a GeoJSON Feature with a Polygon (lon, lat; WGS84 degrees)."""
    from bolo.network.isochrone import isochrone_geojson

    seconds = max((at - case.last_seen_earliest).total_seconds(), 0.0)
    try:
        return isochrone_geojson(
            network,
            lat=case.last_known_lat,
            lon=case.last_known_lon,
            seconds=seconds,
            modes=[Mode(m) for m in DEFAULT_MODES],
        )
    except PointTooFar as exc:
        raise InvalidInput(
            f"case {case.reference}: the last-known place is off the network: {exc}"
        ) from None


def picture_answer(session: Session, case: Case, *, budget: int) -> dict[str, Any]:
    """What the console shows of the case's picture: ``{"at": ISO time, "posts": [ranked
    posts], "area": GeoJSON Feature of where the suspects can be by then, "regions": the 90%
    and 50% highest-probability regions (``region_features``)}``."""
    at = picture_time(case)
    posts = ranked_posts(session, case, budget=budget)
    network, version = picture_network(session, case)
    area = cached(
        picture_key(case, "area", [], version), lambda: reachable_area(case, network, at=at)
    )
    regions = region_features(cells_of(session, case))
    return {"at": at.isoformat(), "posts": posts, "area": area, "regions": regions}


@dataclass(frozen=True)
class CellPicture:
    """The picture's map over h3 cells (resolution 7): ``probability`` per cell with mass (sums
    to 1) and, per level of REGION_LEVELS, the cells of its highest-probability region (most
    probable first)."""

    probability: Mapping[str, float]
    regions: Mapping[float, Sequence[str]]


def cell_picture(
    case: Case, network: Network, *, at: datetime, evidence: Sequence[dict[str, Any]]
) -> CellPicture:
    """The map of ``case``'s picture at ``at`` and its regions at REGION_LEVELS, from one run of
    the particle filter."""
    picture = picture_for(case, network, at=at, evidence=evidence)
    return CellPicture(
        probability=picture.cell_probability(),
        regions={level: picture.probability_region(level) for level in REGION_LEVELS},
    )


def cells_of(session: Session, case: Case) -> CellPicture:
    """``cell_picture`` of the case at its picture time with its evidence, cached."""
    from bolo.reports.service import evidence_for_case

    evidence = evidence_for_case(session, case_id=case.id)
    network, version = picture_network(session, case)
    return cached(
        picture_key(case, "cells", evidence, version),
        lambda: cell_picture(case, network, at=picture_time(case), evidence=evidence),
    )


def region_features(cells: CellPicture) -> dict[str, Any]:
    """The highest-probability regions as a GeoJSON FeatureCollection, widest first: one
    Feature per level with the merged outline of its cells (MultiPolygon, lon/lat, holes where
    a cell is left out; no polygon when the region has no cell) and ``level``, ``probability``
    (the mass its cells hold, at least ``level``), ``cells`` (how many) and ``area_km2``."""
    features = []
    for level, region in cells.regions.items():
        geometry = h3.cells_to_geo(list(region))
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "MultiPolygon",
                    # 6 decimals: 0.1 m, far below a cell's 1.2 km edge.
                    "coordinates": [
                        [[[round(x, 6), round(y, 6)] for x, y in ring] for ring in polygon]
                        for polygon in polygons
                    ],
                },
                "properties": {
                    "level": level,
                    "probability": sum(cells.probability.get(c, 0.0) for c in region),
                    "cells": len(region),
                    "area_km2": sum(h3.cell_area(c, unit="km^2") for c in region),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
