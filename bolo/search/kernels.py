"""Numba kernels of the particle filter: random numbers, resampling, positions, likelihoods.

Every particle carries its own xorshift64* generator state, so the result of a step does not
depend on how many threads run it, and the same seed always gives the same picture.
Times are seconds since the case epoch; distances to destinations are seconds of nominal travel.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

_MUL = np.uint64(2685821657736338717)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_INV53 = 1.0 / 9007199254740992.0
MAX_EVENTS = 32
MIN_PER_THREAD = 2000  # below this a second thread costs more than it saves


@njit(cache=True, inline="always")
def next_uniform(s: np.uint64) -> tuple[np.uint64, float]:
    """Advance a xorshift64* state; return (new state, a uniform float in [0, 1))."""
    s ^= s >> np.uint64(12)
    s ^= s << np.uint64(25)
    s ^= s >> np.uint64(27)
    out = s * _MUL
    return s, float(out >> np.uint64(11)) * _INV53


@njit(cache=True)
def splitmix(x: np.uint64) -> np.uint64:
    """Scramble a 64-bit integer into a good non-zero generator seed."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    if z == np.uint64(0):
        z = _GOLDEN
    return z


@njit(cache=True)
def seed_states(seed: int, n: int) -> np.ndarray:
    """Return ``n`` independent generator states derived from ``seed``."""
    out = np.empty(n, dtype=np.uint64)
    base = splitmix(np.uint64(seed))
    for i in range(n):
        out[i] = splitmix(base ^ (np.uint64(i + 1) * _GOLDEN))
    return out


@njit(cache=True)
def systematic_indices(weights: np.ndarray, u0: float) -> np.ndarray:
    """Systematic resampling: ``n`` ancestor indices for normalised ``weights`` and offset u0."""
    n = weights.shape[0]
    out = np.empty(n, dtype=np.int64)
    c = weights[0]
    j = 0
    for i in range(n):
        u = (u0 + i) / n
        while u > c and j < n - 1:
            j += 1
            c += weights[j]
        out[i] = j
    return out


@njit(cache=True)
def reseed_copies(rng: np.ndarray, ancestors: np.ndarray, epoch: int) -> np.ndarray:
    """Generator states after resampling: each copy of an ancestor gets its own stream."""
    n = ancestors.shape[0]
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        out[i] = splitmix(rng[ancestors[i]] ^ (np.uint64(i + 1) * _GOLDEN) ^ np.uint64(epoch))
    return out


@njit(cache=True)
def positions(
    node: np.ndarray,
    arc: np.ndarray,
    rem: np.ndarray,
    dur: np.ndarray,
    indices: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 position of every particle, interpolated along the arc it is on."""
    n = node.shape[0]
    plat = np.empty(n)
    plon = np.empty(n)
    for i in range(n):
        u = node[i]
        if arc[i] < 0 or dur[i] <= 0.0:
            plat[i] = lat[u]
            plon[i] = lon[u]
        else:
            v = indices[arc[i]]
            f = 1.0 - rem[i] / dur[i]
            plat[i] = lat[u] + f * (lat[v] - lat[u])
            plon[i] = lon[u] + f * (lon[v] - lon[u])
    return plat, plon


@njit(cache=True)
def nearest_node_index(lat: np.ndarray, lon: np.ndarray, qlat: float, qlon: float) -> int:
    """Index of the node nearest to (qlat, qlon) in equirectangular metres (small regions)."""
    c = math.cos(math.radians(qlat))
    best = -1
    bd = np.inf
    for i in range(lat.shape[0]):
        dy = lat[i] - qlat
        dx = (lon[i] - qlon) * c
        d = dx * dx + dy * dy
        if d < bd:
            bd = d
            best = i
    return best


@njit(cache=True, nogil=True)
def _sighting_range(
    lo: int,
    hi: int,
    like: np.ndarray,
    node: np.ndarray,
    arc: np.ndarray,
    rem: np.ndarray,
    dur: np.ndarray,
    indices: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    weights: np.ndarray,
    qlat: float,
    qlon: float,
    radius_m: float,
    credibility: float,
) -> float:
    deg = math.pi / 180.0 * 6_371_008.8
    inv = 1.0 / radius_m
    kx = deg * math.cos(math.radians(qlat))
    mass = 0.0
    for i in range(lo, hi):
        u = node[i]
        plat, plon = lat[u], lon[u]
        if arc[i] >= 0 and dur[i] > 0.0:
            v = indices[arc[i]]
            f = 1.0 - rem[i] / dur[i]
            plat += f * (lat[v] - plat)
            plon += f * (lon[v] - plon)
        dy = (plat - qlat) * deg
        dx = (plon - qlon) * kx
        z = 0.5 * (dx * dx + dy * dy) * inv * inv
        k = math.exp(-z) if z < 700.0 else 0.0
        like[i] = (1.0 - credibility) + credibility * k
        mass += weights[i] * k
    return mass


def sighting_likelihood(
    node: np.ndarray,
    arc: np.ndarray,
    rem: np.ndarray,
    dur: np.ndarray,
    indices: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    weights: np.ndarray,
    qlat: float,
    qlon: float,
    radius_m: float,
    credibility: float,
) -> tuple[np.ndarray, float]:
    """Likelihood of a sighting at (qlat, qlon) for every particle, and the explained mass.

    A particle at distance d (metres, equirectangular at the sighting's latitude: < 2% error
    within 100 km at 60 deg, and the kernel is ~0 beyond a few radii) has likelihood
    ``(1 - c) + c * exp(-d^2 / (2 radius^2))``; the explained mass is sum(weights * kernel).
    100 000 particles take ~3 ms on one thread; they are split over numba's thread count.
    """
    n = int(node.shape[0])
    like = np.empty(n)
    args = (
        like,
        node,
        arc,
        rem,
        dur,
        indices,
        lat,
        lon,
        weights,
        float(qlat),
        float(qlon),
        float(radius_m),
        float(credibility),
    )
    threads = numba.get_num_threads()
    if threads == 1 or n < 2 * MIN_PER_THREAD:
        return like, float(_sighting_range(0, n, *args))
    bounds = [n * j // threads for j in range(threads + 1)]
    futures = [
        thread_pool(threads).submit(_sighting_range, bounds[j], bounds[j + 1], *args)
        for j in range(threads)
    ]
    return like, float(sum(f.result() for f in futures))


_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}


def thread_pool(threads: int) -> ThreadPoolExecutor:
    """The process-wide pool of ``threads`` worker threads for the particle kernels (keyed by
    the process id too: a forked child has none of its parent's threads)."""
    key = (os.getpid(), threads)
    if key not in _POOLS:
        _POOLS[key] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bolo-search")
    return _POOLS[key]


@njit(cache=True)
def reweigh(weights: np.ndarray, like: np.ndarray) -> float:
    """Bayes update of normalised ``weights`` by ``like``, both in place (no allocation): the
    weights become the posterior and ``like`` the attribution factor like / E_post[like]
    (floored at 1e-12). Returns the effective sample size. Evidence that contradicts every
    particle (total 0 or not finite) leaves the weights as they were rather than divide by 0."""
    n = weights.shape[0]
    total = 0.0
    for i in range(n):
        total += weights[i] * like[i]
    ok = total > 0.0 and math.isfinite(total)
    scale = 1.0 / total if ok else 1.0
    expect = 0.0
    sq = 0.0
    for i in range(n):
        if ok:
            weights[i] *= like[i] * scale
        expect += weights[i] * like[i]
        sq += weights[i] * weights[i]
    inv = 1.0 / max(expect, 1e-12)
    for i in range(n):
        like[i] = max(like[i], 1e-12) * inv
    return 1.0 / sq
