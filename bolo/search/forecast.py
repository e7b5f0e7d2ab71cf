"""What the particle picture predicts: who passes which post in the next hours, and when.

The forecast moves a copy of the particles ``horizon`` seconds ahead with every post watched
and records each particle's first arrival at each post. Ranking under a budget is a greedy
maximum coverage: each pick adds the post that catches the most probability mass not already
caught by the posts picked before it (two posts on the same road are not both worth a slot).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bolo.search.kernels import advance
from bolo.search.particles import empty_events
from bolo.search.pfilter import ARC_NOISE, DETOUR_SCALE, HIDE_MEAN_S, HIDE_RATE_PER_S
from bolo.search.pfilter import ParticleFilter

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass
class Forecast:
    """First passes within the horizon: parallel arrays (particle, post slot, seconds)."""

    particle: IntArray
    slot: IntArray
    time: FloatArray
    weights: FloatArray
    probability: FloatArray      # per post: probability to pass within the horizon
    eta: FloatArray              # per post: weighted mean first-pass time (nan if none)


def forecast(pf: ParticleFilter, horizon_s: float) -> Forecast:
    """Forecast first passes at every post from the filter's time to ``horizon_s`` later."""
    net, model = pf.model.network, pf.model
    st = pf.state
    p = st.parts.copy()
    n_posts = len(net.posts)
    ev_slot, ev_time, ev_n = empty_events(pf.n)
    advance(st.t, st.t + horizon_s, p.node, p.arc, p.rem, p.dur, p.dest, p.speed, p.hide_until,
            p.start, p.done, p.rng, net.indptr, net.indices, net.arc_seconds, model.allowed,
            net.arc_mode, pf.prior.dist, pf.prior.dest_nodes, model.watch, ev_slot, ev_time,
            ev_n, HIDE_RATE_PER_S, HIDE_MEAN_S, DETOUR_SCALE, ARC_NOISE)
    mask = ev_slot >= 0
    part = np.nonzero(mask)[0].astype(np.int64)
    slot = ev_slot[mask].astype(np.int64)
    time = ev_time[mask]
    # Posts sharing a node and mode share one representative slot, and so their passes.
    rep = model.post_rep
    order = np.lexsort((time, part, slot))
    part, slot, time = part[order], slot[order], time[order]
    first = np.ones(part.shape[0], dtype=bool)
    first[1:] = (slot[1:] != slot[:-1]) | (part[1:] != part[:-1])
    part, slot, time = part[first], slot[first], time[first]
    w = st.weights[part]
    mass = np.bincount(slot, weights=w, minlength=n_posts)
    tsum = np.bincount(slot, weights=w * time, minlength=n_posts)
    prob = mass[rep]
    with np.errstate(invalid="ignore", divide="ignore"):
        eta = np.where(mass[rep] > 0, tsum[rep] / mass[rep], np.nan)
    return Forecast(part, slot, time, st.weights, prob, eta)


def greedy_order(fc: Forecast, n_posts: int, rep: IntArray, budget: int) -> list[int]:
    """Post slots in greedy maximum-coverage order, at most ``budget`` with positive gain."""
    covered = np.zeros(fc.weights.shape[0], dtype=bool)
    chosen: list[int] = []
    taken = np.zeros(n_posts, dtype=bool)
    for _ in range(budget):
        live = ~covered[fc.particle]
        gain = np.bincount(fc.slot[live], weights=fc.weights[fc.particle[live]],
                           minlength=n_posts)[rep]
        gain[taken] = -1.0
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        chosen.append(best)
        taken[rep == rep[best]] = True
        covered[fc.particle[fc.slot == rep[best]]] = True
    return chosen


def evidence_effects(pf: ParticleFilter, fc: Forecast, slot: int) -> list[tuple[str, float]]:
    """How much each piece of evidence (and hint) moved the probability of post ``slot``.

    Each effect is P(pass) now minus P(pass) with that evidence's likelihood divided back out
    of the particle weights (an importance-ratio estimate; resampled-away particles are not
    recovered, so effects of strongly negative evidence are understated).
    """
    st = pf.state
    passed = np.zeros(pf.n, dtype=bool)
    passed[fc.particle[fc.slot == slot]] = True
    now = float(st.weights[passed].sum())
    out: list[tuple[str, float]] = []
    for label, f in st.factors:
        w = st.weights / f
        total = float(w.sum())
        if total <= 0:
            continue
        out.append((label, now - float(w[passed].sum()) / total))
    out.sort(key=lambda x: -abs(x[1]))
    return out
