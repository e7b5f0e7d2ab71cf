"""The motion kernel of the particle filter: particles travel arc by arc towards a destination.

Cost is per arc traversed (per junction on a chain-contracted network; the OSM import already
splits ways only at junctions, so Porto has 23 contractible nodes of 53 598), and was cut to a
few table look-ups and one random draw per arc (Porto, 100 000 particles, 1 min: ~114 000 arcs,
~145 -> ~90 ns per arc at one thread):

- what the kernel reads of an arc is one 16-byte record (ARC_DTYPE), so the arcs of a
  junction share a cache line;
- the route choice skips the exponential of arcs whose softmax weight is below e^-30 and
  draws no random number when a single arc remains (the usual case on road networks);
- the log-normal per-arc noise is read from a table of NOISE_TABLE quantiles;
- hiding is a Poisson process on travel time, drawn as the travel seconds left before the next
  hiding period (one draw per period instead of one exponential per arc).

Each particle keeps its own xorshift64* stream (bolo.search.kernels), so the result does not
depend on the number of threads. The threads are Python threads over contiguous particle ranges
of a nogil kernel, not ``prange``: numba 0.68 mis-compiled this loop with its inlined helpers in
a prange body (results differed from the same code run uncompiled); a test holds the compiled
kernel equal to its Python function. Times are seconds since the case epoch.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numba
import numpy as np
import numpy.typing as npt
from numba import njit
from scipy.special import ndtri

from bolo.search.kernels import MIN_PER_THREAD, next_uniform, thread_pool

LEFT = 3  # done code of a particle that left the region through an exit
STAYED = 1  # done code of a particle that settled at its destination
STUCK = 2  # done code of a particle with no arc closer to its destination
NOISE_TABLE = 4096
SOFTMAX_CUT = 30.0  # weights below e^-30 of the best arc are not drawn
WALK_MPS = 1.4  # walking pace of suspects who left their vehicle (road arcs)
RAIL_CODE = 1  # ModeCode.RAIL: trains keep their timetable pace when on foot
CHUNKS_PER_THREAD = 4

FloatArray = npt.NDArray[np.float64]
# One 16-byte record per arc, so the arcs of a junction share one cache line.
ARC_DTYPE = np.dtype(
    [("head", np.int32), ("sec", np.float32), ("inv", np.float32), ("mode", np.int32)], align=True
)
Arrays = tuple[Any, ...]  # numba takes heterogeneous tuples of arrays


class MotionParams(NamedTuple):
    """Scalars of the motion model (seconds, rates per second)."""

    hide_rate: float
    hide_mean: float
    detour_scale: float
    dwell_mean: float


def noise_table(sd: float) -> FloatArray:
    """NOISE_TABLE equiprobable quantiles of a log-normal factor exp(N(0, sd^2))."""
    q = (np.arange(NOISE_TABLE) + 0.5) / NOISE_TABLE
    return np.asarray(np.exp(sd * ndtri(q)), dtype=np.float64)


def arc_table(
    indices: npt.NDArray[np.int64],
    arc_seconds: FloatArray,
    arc_mode: npt.NDArray[np.uint8],
    allowed: npt.NDArray[np.uint8],
    detour_scale: float,
) -> npt.NDArray[np.void]:
    """Per arc one 16-byte record (ARC_DTYPE) of what the kernel reads at a junction: head
    node, nominal seconds, 1 / (detour_scale * (1 + seconds)) (the softmax temperature of a
    detour) and the mode code (-1 when the case's modes do not allow the arc)."""
    tab = np.empty(indices.shape[0], dtype=ARC_DTYPE)
    tab["head"] = indices
    tab["sec"] = arc_seconds
    tab["inv"] = 1.0 / (detour_scale * (1.0 + arc_seconds))
    tab["mode"] = np.where(allowed != 0, arc_mode, -1)
    return tab


@njit(cache=True, inline="always")
def _choose_arc(
    u: int, d: int, s: np.uint64, indptr: np.ndarray, tab: np.ndarray, dist: np.ndarray
) -> tuple[int, np.uint64]:
    """An arc out of ``u`` that strictly brings the particle closer to destination ``d``
    (so routes never loop), drawn by a softmax over the detour it implies."""
    du = dist[d, u]
    total = 0.0
    count = 0
    best, best_x, only = -1, math.inf, -1
    for k in range(indptr[u], indptr[u + 1]):
        dv = dist[d, tab[k]["head"]]
        if tab[k]["mode"] >= 0 and dv < du:
            x = (tab[k]["sec"] + dv - du) * tab[k]["inv"]
            if x < best_x:
                best, best_x = k, x
            if x < SOFTMAX_CUT:
                total += math.exp(-x)
                count += 1
                only = k
    if count == 0:
        return best, s
    if count == 1:
        return only, s
    s, r = next_uniform(s)
    r *= total
    for k in range(indptr[u], indptr[u + 1]):
        dv = dist[d, tab[k]["head"]]
        if tab[k]["mode"] >= 0 and dv < du:
            x = (tab[k]["sec"] + dv - du) * tab[k]["inv"]
            if x < SOFTMAX_CUT:
                r -= math.exp(-x)
                if r <= 0.0:
                    return k, s
    return only, s


@njit(cache=True, inline="always")
def _arc_seconds(k: int, speed: float, foot: int, tab: np.ndarray, metres: np.ndarray) -> float:
    """Nominal seconds of arc ``k`` at a particle's speed factor, or at walking pace."""
    if foot != 0 and tab[k]["mode"] != RAIL_CODE:
        return float(max(metres[k] / WALK_MPS, tab[k]["sec"]))
    return float(tab[k]["sec"] / speed)


@njit(cache=True, inline="always")
def _record(
    i: int, slot: int, t: float, ev_slot: np.ndarray, ev_time: np.ndarray, ev_n: np.ndarray
) -> None:
    """Append (slot, t) to particle i's event buffer when slot is a watched post (>= 0)."""
    if slot < 0:
        return
    n = ev_n[i]
    if n < ev_slot.shape[1]:
        ev_slot[i, n] = slot
        ev_time[i, n] = t
        ev_n[i] = n + 1


@njit(cache=True, inline="always")
def _new_goal(
    i: int,
    v: int,
    t: float,
    s: np.uint64,
    dest: np.ndarray,
    hide_until: np.ndarray,
    done: np.ndarray,
    dest_node: np.ndarray,
    dest_exit: np.ndarray,
    dest_cdf: np.ndarray,
    dwell_mean: float,
) -> tuple[float, np.uint64]:
    """Particle ``i`` reached its destination ``v`` at ``t``: leave the region at an exit; at a
    place, stay (mean dwell_mean s) then draw a new destination. Returns (t, stream)."""
    if dest_exit[dest[i]] != 0:
        done[i] = LEFT
        return t, s
    s, r1 = next_uniform(s)
    s, r2 = next_uniform(s)
    dest[i] = np.searchsorted(dest_cdf, r2)
    if dest_node[dest[i]] == v:
        done[i] = STAYED
        return t, s
    hide_until[i] = t - dwell_mean * math.log(1.0 - r1)
    return hide_until[i], s


@njit(cache=True, inline="always")
def _maybe_hide(
    i: int,
    t: float,
    s: np.uint64,
    dur: np.ndarray,
    hide_left: np.ndarray,
    hide_until: np.ndarray,
    prm: MotionParams,
) -> tuple[float, np.uint64]:
    """Spend the arc's seconds from the travel budget; when it runs out, hide (exponential,
    mean hide_mean) and draw the next budget. Returns (time travel resumes, stream)."""
    hide_left[i] -= dur[i]
    if hide_left[i] > 0.0:
        return t, s
    s, r1 = next_uniform(s)
    s, r2 = next_uniform(s)
    hide_left[i] = -math.log(1.0 - r1) / prm.hide_rate
    hide_until[i] = t - prm.hide_mean * math.log(1.0 - r2)
    return hide_until[i], s


@njit(cache=True, nogil=True)
def _advance_range(
    lo: int,
    hi: int,
    t_from: float,
    t_to: float,
    p: Arrays,
    g: Arrays,
    dests: Arrays,
    ev: Arrays,
    noise: np.ndarray,
    prm: MotionParams,
) -> None:
    """Move particles lo..hi-1 (see advance); helpers take plain arrays, unpacked once here,
    so the inner loop does no reference counting."""
    node, arc, rem, dur, dest, speed, hide_until, start, done, rng, hide_left, foot = p
    indptr, metres, tab = g
    dist, dest_node, dest_exit, dest_cdf = dests
    watch, ev_slot, ev_time, ev_n = ev
    watching = ev_n.shape[0] >= node.shape[0]  # else nothing is watched: skip the look-ups
    n_noise = noise.shape[0]
    for i in range(lo, hi):
        t = max(t_from, start[i], hide_until[i])
        if done[i] != 0 or t >= t_to:
            continue
        s = rng[i]
        while True:
            if arc[i] < 0:
                k, s = _choose_arc(node[i], dest[i], s, indptr, tab, dist)
                if k < 0:
                    done[i] = STUCK
                    break
                s, r = next_uniform(s)
                arc[i] = k
                dur[i] = _arc_seconds(k, speed[i], foot[i], tab, metres) * noise[int(r * n_noise)]
                rem[i] = dur[i]
            if t + rem[i] > t_to:
                rem[i] -= t_to - t
                break
            t += rem[i]
            v = int(tab[arc[i]]["head"])
            if watching:
                _record(i, watch[v, tab[arc[i]]["mode"]], t, ev_slot, ev_time, ev_n)
            node[i], arc[i], rem[i] = v, -1, 0.0
            if v == dest_node[dest[i]]:
                t, s = _new_goal(
                    i,
                    v,
                    t,
                    s,
                    dest,
                    hide_until,
                    done,
                    dest_node,
                    dest_exit,
                    dest_cdf,
                    prm.dwell_mean,
                )
            else:
                t, s = _maybe_hide(i, t, s, dur, hide_left, hide_until, prm)
            if done[i] != 0 or t >= t_to:
                break
        rng[i] = s


def advance(
    t_from: float,
    t_to: float,
    p: Arrays,
    g: Arrays,
    dests: Arrays,
    ev: Arrays,
    noise: FloatArray,
    prm: MotionParams,
) -> None:
    """Move every particle from ``t_from`` to ``t_to`` seconds along the network.

    ``p``: particle arrays (node, arc, rem, dur, dest, speed, hide_until, start, done, rng,
    hide_left, foot); ``g``: graph arrays (indptr, arc metres, arc_table);
    ``dests``: (dist D x N seconds, node, is_exit, cdf);
    ``ev``: (watch[node, mode] -> slot or -1, event slot, event time, event count).
    Arriving at node v over an arc of mode m with watch[v, m] >= 0 records (slot, time); an
    event buffer with fewer rows than particles means that no post is watched.
    The particles are split into contiguous ranges run by numba's thread count of threads (the
    kernel releases the GIL); each has its own stream, so the split does not change the result.
    """
    n = int(p[0].shape[0])
    threads = numba.get_num_threads()
    if threads == 1 or n < 2 * MIN_PER_THREAD:
        _advance_range(0, n, t_from, t_to, p, g, dests, ev, noise, prm)
        return
    # A few ranges per thread balance the load (particles bound for one destination, or done,
    # sit together).
    parts = min(CHUNKS_PER_THREAD * threads, n // MIN_PER_THREAD)
    bounds = [n * j // parts for j in range(parts + 1)]
    pool = thread_pool(threads)
    futures = [
        pool.submit(
            _advance_range, bounds[j], bounds[j + 1], t_from, t_to, p, g, dests, ev, noise, prm
        )
        for j in range(parts)
    ]
    for f in futures:
        f.result()
