"""Baseline post ranking: which posts can the suspects reach first, by earliest possible arrival.

This is the baseline the search picture must beat: no evidence, no heading, just the fastest
the suspects could possibly travel from their last-known place and time.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import partial

import numpy as np

from bolo.network.graph import IntArray, Mode, Network, NetworkPost, PostKind
from bolo.network.posts import post_catchments
from bolo.network.travel import arc_weights, nearest_node, run_kernel

# From the last-known place to the network: driving slowly off-network (m/s).
ACCESS_METRES_PER_SECOND = 30 / 3.6
DEFAULT_MAX_SNAP_METRES = 10_000.0


@dataclass(frozen=True)
class PostArrival:
    """A post with the suspects' earliest possible arrival there (seconds, caller's clock)."""

    post: NetworkPost
    earliest_seconds: float
    earliest_if_left_latest_seconds: float
    possibly_passed: bool  # the earliest arrival is not after ``now``


def source_node(
    network: Network, lat: float, lon: float, *, max_metres: float = DEFAULT_MAX_SNAP_METRES
) -> tuple[int, float]:
    """The node a traveller at (lat, lon) joins the network at (a road node when the network
    has roads; never a node no arc leaves, such as the end of a carriageway cut by the
    extract's edge) and the access time in seconds. PointTooFar beyond ``max_metres``."""
    has_road = bool(network.node_has_mode(Mode.ROAD).any())
    node, metres = nearest_node(
        network, lat, lon, mode=Mode.ROAD if has_road else None, max_metres=max_metres
    )
    if network.indptr[node + 1] == network.indptr[node]:
        node, metres = nearest_node(network, lat, lon, max_metres=max_metres)
    return node, metres / ACCESS_METRES_PER_SECOND


def _post_counts(network: Network, kinds: frozenset[PostKind] | None) -> tuple[IntArray, list[int]]:
    """Per node, how many of the posts of ``kinds`` are snapped there; and those posts' slots.
    A post's catchment is reached no later than its node, so stopping once ``budget`` post
    nodes are settled has settled every catchment node that can rank in the top ``budget``."""
    key = "post_counts:" + (",".join(sorted(kinds)) if kinds else "*")
    cached = network.cache.get(key)
    if cached is None:
        slots = [s for s, p in enumerate(network.posts) if kinds is None or p.kind in kinds]
        counts = np.bincount(
            np.array([network.posts[s].node for s in slots], dtype=np.int64),
            minlength=network.n_nodes,
        ).astype(np.int64)
        cached = (counts, slots)
        network.cache[key] = cached
    return cached  # type: ignore[return-value]


def rank_posts_by_arrival(
    network: Network,
    *,
    lat: float,
    lon: float,
    start_earliest: float,
    start_latest: float | None = None,
    now: float,
    budget: int,
    modes: Collection[Mode] | None = None,
    kinds: Collection[PostKind] | None = None,
    include_passed: bool = False,
    horizon_seconds: float | None = None,
    max_snap_metres: float = DEFAULT_MAX_SNAP_METRES,
) -> list[PostArrival]:
    """The ``budget`` posts the suspects can reach first, by earliest possible arrival.

    The suspects were at (lat, lon) (WGS84) at some time in [start_earliest, start_latest]
    (seconds on any clock; ``now`` on the same clock). Posts they could already have passed
    (earliest arrival <= now) are left out unless ``include_passed``. ``horizon_seconds``
    bounds the search to arrivals before now + horizon. A post is reached at the first node of
    its catchment (``bolo.network.posts.post_catchments``) the suspects can reach. The search
    stops as soon as ``budget`` qualifying posts are settled, so a small budget is fast on a
    national graph.
    """
    if budget <= 0:
        return []
    latest = start_earliest if start_latest is None else start_latest
    if latest < start_earliest:
        raise ValueError("start_latest is before start_earliest")
    node, access = source_node(network, lat, lon, max_metres=max_snap_metres)
    counts, slots = _post_counts(network, frozenset(kinds) if kinds is not None else None)
    limit = np.inf if horizon_seconds is None else now + horizon_seconds
    after = -np.inf if include_passed else now
    run = partial(
        run_kernel,
        network,
        np.array([node], dtype=np.int64),
        np.array([start_earliest + access]),
        weights=arc_weights(network, modes),
        limit=limit,
        count_after=after,
    )
    first = post_catchments(network).first_arrival(run(target_count=counts, stop_count=budget))
    found = [s for s in slots if np.isfinite(first[s]) and first[s] > after]
    if len(found) < min(budget, len(slots)):
        # Posts whose catchment was reached before ``now`` but whose node was not may have
        # stopped the search early: search on without stopping.
        first = post_catchments(network).first_arrival(
            run(target_count=np.zeros(0, dtype=np.int64), stop_count=0)
        )
        found = [s for s in slots if np.isfinite(first[s]) and first[s] > after]
    delay = latest - start_earliest
    ranked = [
        PostArrival(
            network.posts[s], float(first[s]), float(first[s]) + delay, bool(first[s] <= now)
        )
        for s in found
    ]
    ranked.sort(key=lambda a: (a.earliest_seconds, a.post.post_id))
    return ranked[:budget]
