"""Scores: interception rate with a Wilson interval, medians, MapScore of a probability map."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a binomial proportion (0, 0 for n = 0)."""
    if n <= 0:
        return 0.0, 0.0
    p = successes / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def map_score(
    node_cells: npt.NDArray[np.int64], node_prob: npt.NDArray[np.float64], true_cell: int
) -> float:
    """MapScore (Koester et al.) on h3 cells: the share of cells the map rates below the cell the
    suspects are really in, ties counting half. 1 is a perfect map, 0.5 an uninformative one.

    The cells are those holding network nodes, plus the true cell if it holds none.
    """
    keys, inv = np.unique(node_cells, return_inverse=True)
    mass = np.bincount(inv, weights=node_prob, minlength=keys.shape[0])
    where = np.searchsorted(keys, true_cell)
    if where < keys.shape[0] and keys[where] == true_cell:
        p_true = mass[where]
        others = np.delete(mass, where)
    else:
        p_true = 0.0
        others = mass
    if others.size == 0:
        return 1.0
    lower = float(np.sum(others < p_true))
    ties = float(np.sum(others == p_true))
    return (lower + 0.5 * ties) / others.size
