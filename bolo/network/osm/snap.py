"""Nearest-point queries on the sphere (unit vectors in a k-d tree), vectorised."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from bolo.network.build import EARTH_RADIUS_M
from bolo.network.graph import FloatArray, IntArray


def unit_xyz(lat: FloatArray, lon: FloatArray) -> FloatArray:
    """Unit vectors of WGS84 points (degrees) on a sphere."""
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)))


def nearest_within(
    lat: FloatArray, lon: FloatArray, q_lat: FloatArray, q_lon: FloatArray, radius_m: float
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """For each query point, the index of the nearest of (lat, lon) and whether it lies within
    ``radius_m`` metres (great-circle)."""
    q_lat = np.asarray(q_lat, dtype=np.float64)
    if lat.size == 0 or q_lat.size == 0:
        return np.zeros(q_lat.size, dtype=np.int64), np.zeros(q_lat.size, dtype=np.bool_)
    tree = cKDTree(unit_xyz(lat, lon))
    chord, idx = tree.query(unit_xyz(q_lat, np.asarray(q_lon, dtype=np.float64)))
    metres = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(np.asarray(chord) / 2, 1.0))
    return np.asarray(idx, dtype=np.int64), metres <= radius_m
