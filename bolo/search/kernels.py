"""Numba kernels of the particle filter: random numbers, motion along the network, resampling.

Every particle carries its own xorshift64* generator state, so the result of a step does not
depend on how many threads run it, and the same seed always gives the same picture.
Times are seconds since the case epoch; distances to destinations are seconds of nominal travel.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_MUL = np.uint64(2685821657736338717)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_INV53 = 1.0 / 9007199254740992.0
MAX_EVENTS = 32
LEFT = 3          # done code of a particle that left the region through an exit


@njit(cache=True, inline="always")
def _next(s: np.uint64) -> tuple[np.uint64, float]:
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


@njit(cache=True, inline="always")
def _choose_arc(
    u: int,
    d: int,
    s: np.uint64,
    indptr: np.ndarray,
    indices: np.ndarray,
    arc_sec: np.ndarray,
    allowed: np.ndarray,
    dist: np.ndarray,
    detour_scale: float,
) -> tuple[int, np.uint64]:
    """Pick an arc out of ``u`` that brings the particle closer to destination ``d``.

    Among arcs that strictly reduce the remaining nominal time (so a route never loops), the
    choice is a softmax over the detour each arc implies; this spreads particles over the
    near-shortest routes instead of the single shortest one.
    """
    du = dist[d, u]
    total = 0.0
    for k in range(indptr[u], indptr[u + 1]):
        if allowed[k] == 0:
            continue
        dv = dist[d, indices[k]]
        if dv < du:
            detour = arc_sec[k] + dv - du
            total += math.exp(-detour / (detour_scale * (1.0 + arc_sec[k])))
    if total <= 0.0:
        return -1, s
    s, r = _next(s)
    r *= total
    last = -1
    for k in range(indptr[u], indptr[u + 1]):
        if allowed[k] == 0:
            continue
        dv = dist[d, indices[k]]
        if dv < du:
            detour = arc_sec[k] + dv - du
            r -= math.exp(-detour / (detour_scale * (1.0 + arc_sec[k])))
            last = k
            if r <= 0.0:
                return k, s
    return last, s


@njit(cache=True, inline="always")
def _draw(cdf: np.ndarray, r: float) -> int:
    lo = 0
    hi = cdf.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cdf[mid] < r:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def _record(i: int, slot: int, t: float, ev_slot: np.ndarray, ev_time: np.ndarray,
            ev_n: np.ndarray) -> None:
    n = ev_n[i]
    if n < ev_slot.shape[1]:
        ev_slot[i, n] = slot
        ev_time[i, n] = t
        ev_n[i] = n + 1


@njit(cache=True, parallel=True)
def advance(
    t_from: float, t_to: float,
    node: np.ndarray, arc: np.ndarray, rem: np.ndarray, dur: np.ndarray,
    dest: np.ndarray, speed: np.ndarray, hide_until: np.ndarray, start: np.ndarray,
    done: np.ndarray, rng: np.ndarray,
    indptr: np.ndarray, indices: np.ndarray, arc_sec: np.ndarray, allowed: np.ndarray,
    arc_mode: np.ndarray, dist: np.ndarray, dest_node: np.ndarray, dest_exit: np.ndarray,
    dest_cdf: np.ndarray, watch: np.ndarray,
    ev_slot: np.ndarray, ev_time: np.ndarray, ev_n: np.ndarray,
    hide_rate: float, hide_mean: float, detour_scale: float, arc_noise: float,
    dwell_mean: float,
) -> None:
    """Move every particle from ``t_from`` to ``t_to`` (seconds) along the network.

    A particle waits at its start node until its start time, travels arc by arc towards its
    destination at ``nominal / speed`` seconds per arc (with log-normal noise ``arc_noise``),
    and after each arc starts hiding with probability ``1 - exp(-hide_rate * arc seconds)`` for
    an exponential time of mean ``hide_mean`` seconds. Arriving at node v over an arc of mode m
    with ``watch[v, m] >= 0`` records (slot, time) in the particle's event buffer (a road
    checkpoint does not see a train passing through the same town). Reaching an exit ends the
    particle's journey; reaching a place inside the region starts a stay of mean ``dwell_mean``
    seconds, after which a new destination is drawn from ``dest_cdf``.
    """
    n = node.shape[0]
    for i in prange(n):
        if done[i] != 0:
            continue
        t = max(t_from, start[i], hide_until[i])
        if t >= t_to:
            continue
        s = rng[i]
        while True:
            if arc[i] >= 0:
                if t + rem[i] > t_to:
                    rem[i] -= t_to - t
                    break
                t += rem[i]
                a = arc[i]
                v = indices[a]
                node[i] = v
                arc[i] = -1
                rem[i] = 0.0
                slot = watch[v, arc_mode[a]]
                if slot >= 0:
                    _record(i, slot, t, ev_slot, ev_time, ev_n)
                if v == dest_node[dest[i]]:
                    if dest_exit[dest[i]] != 0:
                        done[i] = LEFT
                        break
                    # Reached a place inside the region: stay a while, then pick a new goal.
                    s, r1 = _next(s)
                    s, r2 = _next(s)
                    dest[i] = _draw(dest_cdf, r2)
                    if dest_node[dest[i]] == v:
                        done[i] = 1
                        break
                    hide_until[i] = t - dwell_mean * math.log(1.0 - r1)
                    t = hide_until[i]
                    if t >= t_to:
                        break
                    continue
                s, r = _next(s)
                if r < 1.0 - math.exp(-hide_rate * dur[i]):
                    s, r2 = _next(s)
                    hide_until[i] = t - hide_mean * math.log(1.0 - r2)
                    t = hide_until[i]
                    if t >= t_to:
                        break
            else:
                k, s = _choose_arc(node[i], dest[i], s, indptr, indices, arc_sec, allowed,
                                   dist, detour_scale)
                if k < 0:
                    done[i] = 2
                    break
                s, r1 = _next(s)
                s, r2 = _next(s)
                g = math.sqrt(-2.0 * math.log(1.0 - r1)) * math.cos(2.0 * math.pi * r2)
                d = arc_sec[k] / speed[i] * math.exp(arc_noise * g)
                arc[i] = k
                dur[i] = d
                rem[i] = d
        rng[i] = s


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
        out[i] = splitmix(rng[ancestors[i]] ^ (np.uint64(i + 1) * _GOLDEN)
                          ^ np.uint64(epoch))
    return out


@njit(cache=True)
def positions(
    node: np.ndarray, arc: np.ndarray, rem: np.ndarray, dur: np.ndarray,
    indices: np.ndarray, lat: np.ndarray, lon: np.ndarray,
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
