"""The particle picture's map: where the hypotheses still inside the region are, per node.

Each particle counts at the nearer end of its arc. Hypotheses that left through an exit are not
on the map (unless every one left). Hypotheses staying at a destination inside the region
(dwelling or settled) stand for "somewhere around it": their mass is spread evenly over the
destination's catchment. Nodes no particle reached still differ: a tiny background decaying
with the distance to the nearest occupied node orders them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from bolo.search.geo import EARTH_RADIUS_M, unit_xyz
from bolo.search.motion import LEFT, STAYED
from bolo.search.network_model import NetworkModel
from bolo.search.particles import Particles

FloatArray = npt.NDArray[np.float64]
BACKGROUND = 1e-6  # total probability of the map's distance background


def particle_map(model: NetworkModel, p: Particles, weights: FloatArray, t: float) -> FloatArray:
    """Probability per node (sums to 1) of particles ``p`` with ``weights`` at ``t`` seconds."""
    net = model.network
    node = p.node.copy()
    half = (p.arc >= 0) & (p.rem < 0.5 * p.dur)
    node[half] = net.indices[p.arc[half]]
    inside = p.done != LEFT
    w = weights * inside if inside.any() else weights
    mass = _spread_settled(
        model, p, t, np.bincount(node, weights=w, minlength=net.n_nodes).astype(np.float64), w
    )
    occupied = np.flatnonzero(mass > 0)
    xyz = unit_xyz(net.node_lat, net.node_lon)
    dist, _ = cKDTree(xyz[occupied]).query(xyz, k=1)
    background = 1.0 / (1.0 + dist * EARTH_RADIUS_M / 1000.0)
    mass = mass + BACKGROUND * background / background.sum()
    return np.asarray(mass / mass.sum(), dtype=np.float64)


def _spread_settled(
    model: NetworkModel, p: Particles, t: float, mass: FloatArray, w: FloatArray
) -> FloatArray:
    """``mass`` with the hypotheses staying at a destination inside the region spread evenly
    over that destination's catchment."""
    label, size = model.catchment()
    at_dest = np.zeros(model.network.n_nodes, dtype=np.bool_)
    at_dest[model.dest_nodes] = True
    still = (p.arc < 0) & ((p.hide_until > t) | (p.done == STAYED)) & at_dest[p.node]
    still &= label[p.node] >= 0
    if not still.any():
        return mass
    moved = np.bincount(p.node[still], weights=w[still], minlength=mass.shape[0])
    per_dest = np.bincount(label[p.node[still]], weights=w[still], minlength=size.shape[0])
    share = np.where(size > 0, per_dest / np.maximum(size, 1), 0.0)
    spread = np.where(label >= 0, share[np.maximum(label, 0)], 0.0)
    return np.asarray(mass - moved + spread, dtype=np.float64)
