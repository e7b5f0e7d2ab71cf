"""Posts from a CSV file, snapped to the network: a pure reader for ``bolo post import``."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bolo.network.build import EARTH_RADIUS_M, haversine_m
from bolo.network.errors import NetworkImportError, PointTooFar
from bolo.network.graph import FloatArray, IntArray, Mode, Network, NetworkPost, PostKind
from bolo.network.travel import _snap_index, _unit_xyz, nearest_node

REQUIRED_COLUMNS = ("id", "kind", "lat", "lon")
OPTIONAL_COLUMNS = ("name", "mode")
DEFAULT_MAX_SNAP_METRES = 2000.0
# A post watches every node of its mode this close to it: a checkpoint placed beside a main road
# sees the road's traffic even when the node nearest to it is a side street's.
DEFAULT_CATCHMENT_METRES = 250.0
_CATCHMENT_KEY = "posts:catchment_metres"


def default_mode(network: Network, kind: PostKind) -> Mode:
    """The mode a post of ``kind`` watches: rail for stations when the network has rail."""
    if kind is PostKind.STATION and network.node_has_mode(Mode.RAIL).any():
        return Mode.RAIL
    return Mode.ROAD if network.node_has_mode(Mode.ROAD).any() else Mode.RAIL


def place_post(
    network: Network,
    *,
    post_id: str,
    kind: PostKind,
    lat: float,
    lon: float,
    mode: Mode | None = None,
    name: str = "",
    max_metres: float = DEFAULT_MAX_SNAP_METRES,
) -> NetworkPost:
    """The post snapped to the nearest node of its mode (``default_mode`` when None) within
    ``max_metres``. ValueError saying what is wrong when lat/lon are out of range or no node of
    that mode lies close enough."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"lat/lon out of range: {lat}, {lon}")
    mode = mode or default_mode(network, kind)
    try:
        node, _ = nearest_node(network, lat, lon, mode=mode, max_metres=max_metres)
    except PointTooFar as exc:
        raise ValueError(str(exc)) from None
    return NetworkPost(post_id, kind, name or post_id, lat, lon, mode, node)


def with_posts(
    network: Network, posts: Sequence[NetworkPost], *, catchment_metres: float | None = None
) -> Network:
    """The same network (arrays shared, not copied) with ``posts`` as its posts, each watching
    the nodes within ``catchment_metres`` (default: the network's, else
    DEFAULT_CATCHMENT_METRES; see post_catchments). Its cache starts empty: cached data such
    as the search model depends on the posts."""
    radius = catchment_radius(network) if catchment_metres is None else catchment_metres
    if not radius >= 0:
        raise ValueError(f"catchment radius must be >= 0 metres, not {radius}")
    return replace(network, posts=list(posts), cache={_CATCHMENT_KEY: float(radius)})


def catchment_radius(network: Network) -> float:
    """The radius (metres) of the posts' catchments on ``network`` (see with_posts)."""
    radius = network.cache.get(_CATCHMENT_KEY, DEFAULT_CATCHMENT_METRES)
    return float(radius) if isinstance(radius, (int, float)) else DEFAULT_CATCHMENT_METRES


@dataclass(frozen=True)
class Catchments:
    """What each post watches: post slot ``s`` (index into ``network.posts``) watches
    ``nodes[ptr[s]:ptr[s+1]]``, nearest first, ``metres`` from the post's position. Every
    catchment holds the post's own (snapped) node."""

    ptr: IntArray
    nodes: IntArray
    metres: FloatArray

    def of(self, slot: int) -> IntArray:
        """The nodes post ``slot`` watches."""
        return self.nodes[self.ptr[slot] : self.ptr[slot + 1]]

    def first_arrival(self, seconds: FloatArray) -> FloatArray:
        """Per post, the least of ``seconds`` (per node) over its catchment."""
        if self.ptr.shape[0] <= 1:
            return np.zeros(0)
        return np.asarray(np.minimum.reduceat(seconds[self.nodes], self.ptr[:-1]), dtype=np.float64)


def post_catchments(network: Network, radius_metres: float | None = None) -> Catchments:
    """Every post's catchment: the nodes of its mode (as ``nearest_node`` counts them) within
    ``radius_metres`` (default ``catchment_radius(network)``) of its position, plus its own
    node. Suspects passing any of them pass within about that distance of the post. Cached
    on the network per radius."""
    radius = catchment_radius(network) if radius_metres is None else float(radius_metres)
    key = f"posts:catchments:{radius}"
    cached = network.cache.get(key)
    if isinstance(cached, Catchments):
        return cached
    parts: list[tuple[IntArray, FloatArray]] = []
    for post in network.posts:
        tree, candidates = _snap_index(network, post.mode)
        xyz = _unit_xyz(np.array([post.lat]), np.array([post.lon]))[0]
        near = candidates[
            np.asarray(tree.query_ball_point(xyz, radius / EARTH_RADIUS_M * 1.001), dtype=np.int64)
        ]
        near = np.union1d(near, [post.node]).astype(np.int64)
        metres = np.asarray(
            haversine_m(post.lat, post.lon, network.node_lat[near], network.node_lon[near]),
            dtype=np.float64,
        )
        keep = (metres <= radius) | (near == post.node)
        order = np.argsort(metres[keep], kind="stable")
        parts.append((near[keep][order], metres[keep][order]))
    sizes = np.asarray([n.shape[0] for n, _ in parts], dtype=np.int64)
    ptr = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    nodes = np.concatenate([n for n, _ in parts]) if parts else np.zeros(0, np.int64)
    metres = np.concatenate([m for _, m in parts]) if parts else np.zeros(0)
    found = Catchments(ptr, nodes.astype(np.int64), metres.astype(np.float64))
    network.cache[key] = found
    return found


def _parse_row(row: dict[str, str], network: Network, max_metres: float) -> NetworkPost:
    post_id = (row.get("id") or "").strip()
    if not post_id:
        raise ValueError("empty id")
    try:
        kind = PostKind((row.get("kind") or "").strip())
    except ValueError:
        raise ValueError(
            f"unknown kind {row.get('kind')!r} (one of {', '.join(k.value for k in PostKind)})"
        ) from None
    try:
        lat, lon = float(row["lat"]), float(row["lon"])
    except (TypeError, ValueError):
        raise ValueError(f"lat/lon not numbers: {row.get('lat')!r}, {row.get('lon')!r}") from None
    mode_text = (row.get("mode") or "").strip()
    try:
        mode = Mode(mode_text) if mode_text else None
    except ValueError:
        raise ValueError(f"unknown mode {mode_text!r}") from None
    return place_post(
        network,
        post_id=post_id,
        kind=kind,
        lat=lat,
        lon=lon,
        mode=mode,
        name=(row.get("name") or "").strip(),
        max_metres=max_metres,
    )


def read_posts_csv(
    path: Path, network: Network, *, max_snap_metres: float = DEFAULT_MAX_SNAP_METRES
) -> list[NetworkPost]:
    """Read posts (columns id, kind, lat, lon; optional name, mode) and snap each to the nearest
    node of its mode within ``max_snap_metres``. All or nothing: any bad row raises
    NetworkImportError naming every bad line, and no post is returned."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise NetworkImportError(
                    f"{path}: missing column(s) {', '.join(missing)}; "
                    f"required: {', '.join(REQUIRED_COLUMNS)}"
                )
            rows = [{(k or "").strip(): v for k, v in r.items()} for r in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise NetworkImportError(f"{path}: cannot read CSV ({exc})") from exc
    posts: list[NetworkPost] = []
    errors: list[str] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        try:
            post = _parse_row(row, network, max_snap_metres)
        except ValueError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        if post.post_id in seen:
            errors.append(f"line {line}: duplicate id {post.post_id!r}")
        seen.add(post.post_id)
        posts.append(post)
    if errors:
        shown = "; ".join(errors[:10]) + (
            f"; and {len(errors) - 10} more" if len(errors) > 10 else ""
        )
        raise NetworkImportError(f"{path}: {len(errors)} bad row(s): {shown}")
    if not posts:
        raise NetworkImportError(f"{path}: no posts")
    return posts
