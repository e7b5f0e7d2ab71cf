"""Highest-probability regions of a probability map over h3 cells (resolution 7).

The region at level q is the smallest set of cells, most probable first, whose mass reaches q:
a calibrated picture holds the truth inside its q region a share q of the time.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
CellMass = tuple[IntArray, FloatArray]


def cell_mass(node_cells: IntArray, node_prob: FloatArray) -> CellMass:
    """(sorted distinct cell ids, probability per cell) of a per-node probability."""
    keys, inv = np.unique(node_cells, return_inverse=True)
    mass = np.bincount(inv, weights=node_prob, minlength=keys.shape[0]).astype(np.float64)
    return keys, mass


def region_mask(mass: FloatArray, level: float) -> npt.NDArray[np.bool_]:
    """Cells of the highest-probability region holding at least ``level`` (0-1) of ``mass``:
    most probable first (ties in cell order), up to and including the cell that reaches it.
    Cells without mass are never in it."""
    if not 0.0 < level <= 1.0:
        raise ValueError("level must be in (0, 1]")
    order = np.argsort(-mass, kind="stable")
    total = float(mass.sum())
    cum = np.cumsum(mass[order])
    count = int(np.searchsorted(cum, level * total * (1 - 1e-12))) + 1
    out = np.zeros(mass.shape[0], dtype=np.bool_)
    out[order[: min(count, mass.shape[0])]] = True
    return out & (mass > 0)
