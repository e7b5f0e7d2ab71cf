"""Per-network precomputation: destinations, times to each destination, post nodes, h3 cells.

Computed once per (network, modes) and reused by every picture on that network, so that a new
case costs only its particles, not a Dijkstra per destination.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import h3
import numpy as np
import numpy.typing as npt

from bolo.network.graph import Mode, ModeCode, Network
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
    watch: npt.NDArray[np.int32]  # (node, mode code) -> representative post slot, or -1
    post_rep: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    _cells: npt.NDArray[np.int64] | None = field(default=None, repr=False)
    _catchment: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = field(
        default=None, repr=False)

    def time_to(self, node: int) -> npt.NDArray[np.float32]:
        """Seconds from every node to ``node`` over the allowed arcs (inf if unreachable)."""
        cost = self.network.arc_seconds[self.rarc]
        allowed = self.allowed[self.rarc]
        return dijkstra(self.rindptr, self.rindices, cost, allowed, [node]).astype(np.float32)

    def node_cells(self) -> npt.NDArray[np.int64]:
        """The h3 cell (resolution 7, as int64) of every node, computed on first use."""
        if self._cells is None:
            net = self.network
            self._cells = np.fromiter(
                (h3.str_to_int(h3.latlng_to_cell(float(a), float(b), H3_RESOLUTION))
                 for a, b in zip(net.node_lat, net.node_lon, strict=True)),
                dtype=np.uint64, count=net.n_nodes).view(np.int64)
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
    for n in spread_nodes(network.node_lat, network.node_lon, cand, SPREAD_DESTINATIONS,
                          origin_hint):
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
        network=network, modes=key, allowed=allowed, rindptr=rindptr, rindices=rindices,
        rarc=rarc, dest_nodes=np.asarray(nodes, dtype=np.int64), dest_kind=kinds, dist=dist,
        post_nodes=np.asarray([p.node for p in network.posts], dtype=np.int64),
        watch=np.full((network.n_nodes, len(ModeCode)), -1, dtype=np.int32))
    rep = np.empty(len(network.posts), dtype=np.int64)
    for s in range(len(network.posts) - 1, -1, -1):
        post = network.posts[s]
        for code in post_watch_modes(post.mode):
            model.watch[post.node, code] = s
    for s, post in enumerate(network.posts):
        rep[s] = model.watch[post.node, int(ModeCode.of(post.mode))]
    model.post_rep = rep
    network.cache[cache_key] = model
    return model


def post_watch_modes(mode: Mode) -> list[int]:
    """Arrival modes a post of ``mode`` sees: rail posts trains, the others road and foot."""
    if mode == Mode.RAIL:
        return [int(ModeCode.RAIL)]
    return [int(ModeCode.ROAD), int(ModeCode.FOOT), int(ModeCode.TRANSFER)]


def heading_factor(bearing_to_dest: npt.NDArray[np.float64], bearing: float,
                   weight: float) -> npt.NDArray[np.float64]:
    """Prior multiplier per destination for a heading tip, averaging 1 over all bearings."""
    delta = np.radians(bearing_to_dest - bearing)
    mean = float(np.i0(HEADING_KAPPA)) * math.exp(-HEADING_KAPPA)
    vm = np.exp(HEADING_KAPPA * (np.cos(delta) - 1.0)) / mean
    return np.asarray((1.0 - weight) + weight * vm, dtype=np.float64)
