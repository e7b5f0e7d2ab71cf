"""Assemble the CSR arrays of a Network from flat arc lists."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from bolo.network.graph import ByteArray, FloatArray, IntArray

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in metres between WGS84 points (degrees), element-wise."""
    p1, l1, p2, l2 = (np.radians(np.asarray(x, dtype=np.float64)) for x in (lat1, lon1, lat2, lon2))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0))), dtype=np.float64)


def csr_order(n_nodes: int, tails: IntArray) -> tuple[IntArray, IntArray]:
    """Return (indptr, order): ``order`` sorts arcs by tail (stable), ``indptr`` the row starts."""
    order = np.argsort(tails, kind="stable").astype(np.int64)
    counts = np.bincount(tails, minlength=n_nodes)
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, order


def build_csr(
    n_nodes: int,
    tails: IntArray,
    heads: IntArray,
    seconds: FloatArray,
    metres: FloatArray,
    modes: ByteArray,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, ByteArray, IntArray]:
    """Sort arcs into CSR form: (indptr, indices, seconds, metres, modes, order).

    ``order[k]`` is the input position of CSR arc ``k`` (to carry other per-arc data along).
    """
    tails = np.asarray(tails, dtype=np.int64)
    indptr, order = csr_order(n_nodes, tails)
    return (
        indptr,
        np.asarray(heads, dtype=np.int64)[order],
        np.asarray(seconds, dtype=np.float64)[order],
        np.asarray(metres, dtype=np.float64)[order],
        np.asarray(modes, dtype=np.uint8)[order],
        order,
    )
