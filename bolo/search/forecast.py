"""What the particle picture predicts: who passes which post in the next hours, and when.

The forecast moves a copy of the particles ``horizon`` seconds ahead with every post watched
and records each particle's first arrival at each post. Ranking under a budget is a greedy
maximum coverage: each pick adds the post that catches the most probability mass not already
caught by the posts picked before it (two posts on the same road are not both worth a slot).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bolo.search.kernels import reseed_copies
from bolo.search.particles import empty_events
from bolo.search.pfilter import ParticleFilter

FloatArray = npt.NDArray[np.float64]
FORECAST_MAX = 10_000
IntArray = npt.NDArray[np.int64]


@dataclass
class Forecast:
    """First passes within the horizon: parallel arrays (particle, post slot, seconds)."""

    particle: IntArray
    slot: IntArray
    time: FloatArray
    weights: FloatArray
    probability: FloatArray  # per post: probability to pass within the horizon
    eta: FloatArray  # per post: weighted mean first-pass time (nan if none)
    rep: IntArray  # per post: representative slot of its (node, mode)
    index: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # ``particle`` numbers the forecast's particles; ``index`` maps them to the filter's.


def forecast(pf: ParticleFilter, horizon_s: float) -> Forecast:
    """Forecast first passes at every post from the filter's time to ``horizon_s`` later."""
    net, model = pf.model.network, pf.model
    st = pf.state
    index, weights = _subsample(pf)
    p = st.parts.take(index)
    if index.shape[0] < pf.n:
        p.rng = reseed_copies(st.parts.rng, index, st.epoch + 7919)
    n_posts = len(net.posts)
    ev_slot, ev_time, ev_n = empty_events(index.shape[0])
    pf.move_particles(p, st.t, st.t + horizon_s, model.watch, (ev_slot, ev_time, ev_n))
    mask = ev_slot >= 0
    at, slot = model.expand(ev_slot[mask].astype(np.int64))  # a pass of every post watching
    part = np.nonzero(mask)[0].astype(np.int64)[at]
    time = ev_time[mask][at]
    order = np.lexsort((time, part, slot))
    part, slot, time = part[order], slot[order], time[order]
    first = np.ones(part.shape[0], dtype=bool)
    first[1:] = (slot[1:] != slot[:-1]) | (part[1:] != part[:-1])
    fc = _summarise(part[first], slot[first], time[first], weights, model.post_rep, n_posts)
    fc.index = index
    return fc


def _subsample(pf: ParticleFilter) -> tuple[IntArray, FloatArray]:
    """The particles a forecast moves: all of them, or FORECAST_MAX drawn systematically.

    Ranking needs probabilities to about a percent; 10 000 equally weighted draws give that,
    and keep the forecast of a 100 000-particle picture as cheap as a 10 000 one.
    """
    st = pf.state
    if pf.n <= FORECAST_MAX:
        return np.arange(pf.n, dtype=np.int64), st.weights
    u0 = float(np.random.default_rng([pf.seed, 17, st.epoch]).random())
    cdf = np.cumsum(st.weights)
    cdf[-1] = 1.0
    marks = (u0 + np.arange(FORECAST_MAX)) / FORECAST_MAX
    index = np.searchsorted(cdf, marks).astype(np.int64)
    return index, np.full(FORECAST_MAX, 1.0 / FORECAST_MAX)


def _summarise(
    part: IntArray,
    slot: IntArray,
    time: FloatArray,
    weights: FloatArray,
    rep: IntArray,
    n_posts: int,
) -> Forecast:
    # Posts sharing a node and mode share one representative slot, and so their passes.
    w = weights[part]
    mass = np.bincount(slot, weights=w, minlength=n_posts)
    tsum = np.bincount(slot, weights=w * time, minlength=n_posts)
    with np.errstate(invalid="ignore", divide="ignore"):
        eta = np.where(mass[rep] > 0, tsum[rep] / mass[rep], np.nan)
    prob = np.asarray(mass[rep], dtype=np.float64)
    return Forecast(part, slot, time, weights, prob, np.asarray(eta, dtype=np.float64), rep)


def forecast_within(fc: Forecast, t_end: float) -> Forecast:
    """The same forecast cut to first passes before ``t_end`` seconds."""
    keep = fc.time < t_end
    n_posts = fc.probability.shape[0]
    cut = _summarise(fc.particle[keep], fc.slot[keep], fc.time[keep], fc.weights, fc.rep, n_posts)
    cut.index = fc.index
    return cut


def discounted_mass(
    fc: Forecast, n_posts: int, rep: IntArray, t_now: float, scale_s: float
) -> FloatArray:
    """Per post: probability mass passing it, each pass discounted by exp(-delay / scale_s)."""
    w = fc.weights[fc.particle] * np.exp(-(fc.time - t_now) / max(scale_s, 1.0))
    return np.asarray(np.bincount(fc.slot, weights=w, minlength=n_posts)[rep], dtype=np.float64)


@dataclass
class Pick:
    """Why the greedy coverage chose a post: the forecast mass it newly covers (not caught by
    the posts picked before it) and the second model's mass on it, both as probabilities."""

    slot: int
    new_mass: float
    extra: float

    def gain(self, share: float) -> float:
        """The post's marginal value to the ranking's objective."""
        return share * self.new_mass + self.extra


def greedy_order(
    fc: Forecast,
    n_posts: int,
    rep: IntArray,
    budget: int,
    *,
    share: float = 1.0,
    extra: FloatArray | None = None,
) -> list[Pick]:
    """Posts in greedy maximum-coverage order, at most ``budget`` with positive gain.

    The gain of a post is ``share`` x the forecast mass it newly covers plus ``extra[post]``
    (a second model's mass on that post, counted once: posts do not overlap in it)."""
    covered = np.zeros(fc.weights.shape[0], dtype=bool)
    chosen: list[Pick] = []
    taken = np.zeros(n_posts, dtype=bool)
    add = np.zeros(n_posts) if extra is None else extra
    for _ in range(budget):
        live = ~covered[fc.particle]
        new = np.bincount(fc.slot[live], weights=fc.weights[fc.particle[live]], minlength=n_posts)[
            rep
        ]
        gain = share * new + add
        gain[taken] = -1.0
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        chosen.append(Pick(best, float(new[best]), float(add[best])))
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
    passed = np.zeros(fc.weights.shape[0], dtype=bool)
    passed[fc.particle[fc.slot == slot]] = True
    now = float(fc.weights[passed].sum())
    out: list[tuple[str, float]] = []
    for label, f in st.factors:
        w = fc.weights / f[fc.index]
        total = float(w.sum())
        if total <= 0:
            continue
        out.append((label, now - float(w[passed].sum()) / total))
    out.sort(key=lambda x: -abs(x[1]))
    return out
