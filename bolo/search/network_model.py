"""Per-network precomputation: destinations, times to each destination, post nodes, h3 cells.

Computed once per (network, modes) and reused by every picture on that network, so that a new
case costs only its particles, not a Dijkstra per destination.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise

import h3
import numpy as np
import numpy.typing as npt

from bolo.network.graph import Mode, ModeCode, Network
from bolo.network.posts import Catchments, post_catchments
from bolo.search.geo import allowed_arcs, dijkstra, reverse_csr, spread_nodes

SPREAD_DESTINATIONS = 24
MAX_TOWNS = 64
H3_RESOLUTION = 7
# Heading hints: a von Mises concentration of 2 puts ~70% of the hinted mass within +/- 60 deg.
HEADING_KAPPA = 2.0


@dataclass
class NetworkModel:
    """Arrays every picture on one network shares (read-only once built)."""

    network: Network
    modes: tuple[str, ...]
    allowed: npt.NDArray[np.uint8]
    rindptr: npt.NDArray[np.int64]
    rindices: npt.NDArray[np.int64]
    rarc: npt.NDArray[np.int64]
    dest_nodes: npt.NDArray[np.int64]
    dest_kind: list[str]
    dist: npt.NDArray[np.float32]  # seconds from each node to each destination, D x N
    post_nodes: npt.NDArray[np.int64]
    # (node, mode code) -> the group of posts whose catchments hold the node, or -1
    watch: npt.NDArray[np.int32]
    posts_catchment: Catchments
    group_ptr: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(1, np.int64))
    group_slots: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    post_rep: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    _cells: npt.NDArray[np.int64] | None = field(default=None, repr=False)
    _catchment: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = field(
        default=None, repr=False
    )

    def time_to(self, node: int) -> npt.NDArray[np.float32]:
        """Seconds from every node to ``node`` over the allowed arcs (inf if unreachable)."""
        cost = self.network.arc_seconds[self.rarc]
        allowed = self.allowed[self.rarc]
        return dijkstra(self.rindptr, self.rindices, cost, allowed, [node]).astype(np.float32)

    def expand(
        self, groups: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Watched arrivals (``watch`` groups, >= 0) as passes of posts: (index into
        ``groups``, post slot) for every post of each arrival's group."""
        sizes = self.group_ptr[groups + 1] - self.group_ptr[groups]
        index = np.repeat(np.arange(groups.shape[0], dtype=np.int64), sizes)
        within = np.arange(index.shape[0], dtype=np.int64) - np.repeat(
            np.cumsum(sizes) - sizes, sizes
        )
        return index, self.group_slots[self.group_ptr[groups][index] + within]

    def groups_of(self, slot: int) -> npt.NDArray[np.bool_]:
        """Per watch group plus one (index -1: nothing watched), whether post ``slot`` is in it."""
        member = np.zeros(self.group_ptr.shape[0], dtype=np.bool_)
        owner = np.repeat(np.arange(self.group_ptr.shape[0] - 1), np.diff(self.group_ptr))
        member[owner[self.group_slots == slot]] = True
        return member

    def node_cells(self) -> npt.NDArray[np.int64]:
        """The h3 cell (resolution 7, as int64) of every node, computed on first use."""
        if self._cells is None:
            net = self.network
            self._cells = np.fromiter(
                (
                    h3.str_to_int(h3.latlng_to_cell(float(a), float(b), H3_RESOLUTION))
                    for a, b in zip(net.node_lat, net.node_lon, strict=True)
                ),
                dtype=np.uint64,
                count=net.n_nodes,
            ).view(np.int64)
        return self._cells

    def catchment(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(label, size): per node, the index of the destination inside the region (town or
        spread place, not an exit) it is nearest to in travel time (-1: none reachable), and
        per destination the number of nodes labelled with it. A destination stands for its
        catchment: the spread places are a coarse cover of "anywhere"."""
        if self._catchment is None:
            inside = np.asarray([k != "exit" for k in self.dest_kind], dtype=np.bool_)
            dist = np.where(inside[:, None], self.dist, np.inf)
            label = np.argmin(dist, axis=0).astype(np.int64)
            label[~np.isfinite(dist[label, np.arange(dist.shape[1])])] = -1
            size = np.bincount(label[label >= 0], minlength=len(self.dest_kind))
            self._catchment = (label, size.astype(np.int64))
        return self._catchment


def _destination_nodes(network: Network, origin_hint: int) -> tuple[list[int], list[str]]:
    nodes: list[int] = []
    kinds: list[str] = []
    for ex in network.exits:
        if ex.node not in nodes:
            nodes.append(ex.node)
            kinds.append("exit")
    towns = [n for n in network.node_names if n not in nodes]
    if len(towns) > MAX_TOWNS:
        cand = np.asarray(towns, dtype=np.int64)
        towns = spread_nodes(network.node_lat, network.node_lon, cand, MAX_TOWNS, towns[0])
    for n in towns:
        nodes.append(int(n))
        kinds.append("town")
    degree = np.diff(network.indptr)
    cand = np.flatnonzero(degree > 0).astype(np.int64)
    for n in spread_nodes(
        network.node_lat, network.node_lon, cand, SPREAD_DESTINATIONS, origin_hint
    ):
        if n not in nodes:
            nodes.append(n)
            kinds.append("place")
    return nodes, kinds


def network_model(network: Network, modes: tuple[str, ...]) -> NetworkModel:
    """Return the (cached) NetworkModel of ``network`` for travellers using ``modes``."""
    key = tuple(sorted(modes))
    cache_key = "search:model:" + ",".join(key)
    cached = network.cache.get(cache_key)
    if isinstance(cached, NetworkModel):
        return cached
    allowed = allowed_arcs(network, key)
    rindptr, rindices, rarc = reverse_csr(network)
    nodes, kinds = _destination_nodes(network, 0)
    cost = network.arc_seconds[rarc]
    rallowed = allowed[rarc]
    dist = np.empty((len(nodes), network.n_nodes), dtype=np.float32)

    def one(i: int) -> None:
        dist[i] = dijkstra(rindptr, rindices, cost, rallowed, [nodes[i]])

    # One Dijkstra per destination; the kernel releases the GIL, so threads use every core.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(one, range(len(nodes))))
    model = NetworkModel(
        network=network,
        modes=key,
        allowed=allowed,
        rindptr=rindptr,
        rindices=rindices,
        rarc=rarc,
        dest_nodes=np.asarray(nodes, dtype=np.int64),
        dest_kind=kinds,
        dist=dist,
        post_nodes=np.asarray([p.node for p in network.posts], dtype=np.int64),
        watch=np.full((network.n_nodes, len(ModeCode)), -1, dtype=np.int32),
        posts_catchment=post_catchments(network),
    )
    _fill_watch(model)
    network.cache[cache_key] = model
    return model


def _fill_watch(model: NetworkModel) -> None:
    """Fill ``model.watch``: every (node, mode code) in a catchment gets the group of the posts
    watching it (one group per distinct set of posts, so one arrival is one event); and
    ``post_rep``: posts watching the same nodes share the first one's slot."""
    network, catch = model.network, model.posts_catchment
    n_posts = catch.ptr.shape[0] - 1
    slot = np.repeat(np.arange(n_posts, dtype=np.int64), np.diff(catch.ptr))
    groups: dict[tuple[int, ...], int] = {}
    done: dict[bytes, int] = {}  # codes watched by the same posts share one column's work
    for code in range(model.watch.shape[1]):
        uses = np.asarray([code in post_watch_modes(p.mode) for p in network.posts], dtype=bool)
        if uses.tobytes() in done:
            model.watch[:, code] = model.watch[:, done[uses.tobytes()]]
            continue
        done[uses.tobytes()] = code
        pick = uses[slot] if n_posts else np.zeros(0, dtype=bool)
        order = np.lexsort((slot[pick], catch.nodes[pick]))
        nodes, slots = catch.nodes[pick][order], slot[pick][order]
        if nodes.size == 0:
            continue
        bounds = [*np.flatnonzero(np.r_[True, nodes[1:] != nodes[:-1]]).tolist(), nodes.size]
        members = slots.tolist()
        for a, b in pairwise(bounds):
            model.watch[nodes[a], code] = groups.setdefault(tuple(members[a:b]), len(groups))
    ordered = sorted(groups, key=groups.__getitem__)
    model.group_ptr = np.concatenate(([0], np.cumsum([len(g) for g in ordered]))).astype(np.int64)
    model.group_slots = np.asarray([s for g in ordered for s in g], dtype=np.int64)
    first: dict[tuple[str, tuple[int, ...]], int] = {}
    rep = np.empty(n_posts, dtype=np.int64)
    for s, post in enumerate(network.posts):
        codes = ",".join(map(str, post_watch_modes(post.mode)))
        rep[s] = first.setdefault((codes, tuple(catch.of(s).tolist())), s)
    model.post_rep = rep


def post_watch_modes(mode: Mode) -> list[int]:
    """Arrival modes a post of ``mode`` sees: rail posts trains, the others road and foot."""
    if mode == Mode.RAIL:
        return [int(ModeCode.RAIL)]
    return [int(ModeCode.ROAD), int(ModeCode.FOOT), int(ModeCode.TRANSFER)]


def heading_factor(
    bearing_to_dest: npt.NDArray[np.float64], bearing: float, weight: float
) -> npt.NDArray[np.float64]:
    """Prior multiplier per destination for a heading tip, averaging 1 over all bearings."""
    delta = np.radians(bearing_to_dest - bearing)
    mean = float(np.i0(HEADING_KAPPA)) * math.exp(-HEADING_KAPPA)
    vm = np.exp(HEADING_KAPPA * (np.cos(delta) - 1.0)) / mean
    return np.asarray((1.0 - weight) + weight * vm, dtype=np.float64)
