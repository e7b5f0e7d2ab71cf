"""Small random networks for tests, and their networkx twins."""

from __future__ import annotations

import networkx as nx
import numpy as np

from bolo.network.build import build_csr
from bolo.network.graph import Network


def random_network(seed: int, n: int = 60, m: int = 200, n_modes: int = 1) -> Network:
    """A random directed multigraph with positive float times on a small lat/lon patch."""
    rng = np.random.default_rng(seed)
    tails = rng.integers(0, n, m)
    heads = rng.integers(0, n, m)
    seconds = rng.uniform(1.0, 100.0, m)
    modes = rng.integers(0, n_modes, m).astype(np.uint8)
    indptr, indices, sec, metres, mode, _ = build_csr(n, tails, heads, seconds, seconds * 10, modes)
    return Network(
        name=f"random{seed}",
        node_lat=rng.uniform(41.0, 41.1, n),
        node_lon=rng.uniform(-8.7, -8.6, n),
        indptr=indptr,
        indices=indices,
        arc_seconds=sec,
        arc_metres=metres,
        arc_mode=mode,
    )


def to_networkx(network: Network, weights: np.ndarray) -> nx.DiGraph:
    """The same graph in networkx (parallel arcs reduced to the fastest; inf arcs dropped)."""
    g = nx.DiGraph()
    g.add_nodes_from(range(network.n_nodes))
    for u in range(network.n_nodes):
        for k in range(network.indptr[u], network.indptr[u + 1]):
            v, w = int(network.indices[k]), float(weights[k])
            if w == np.inf:
                continue
            if not g.has_edge(u, v) or g[u][v]["weight"] > w:
                g.add_edge(u, v, weight=w)
    return g
