"""Late sightings without a replay: re-weigh the current particles by where they were.

A sighting reported after the picture moved on is normally applied by rewinding to a
checkpoint before it and replaying every particle to now (seconds per replayed hour on a
2 M-node graph). Motion does not depend on weights, so when the sighting would not have caused
a resampling (nor a re-seeding) and no particle changed index or motion since a checkpoint
before it, the replay would move the very same particles to the very same places: only the
weights differ. Then it is enough to move a copy of that checkpoint's particles to the
sighting's time, weigh the current particles by their positions then, and drop the checkpoints
after it (which lack the sighting). The weights equal the replayed ones up to rounding
(the evidence applied after the sighting is multiplied in another order).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bolo.search.case import Sighting
from bolo.search.kernels import sighting_likelihood

if TYPE_CHECKING:
    from bolo.search.pfilter import ParticleFilter

FloatArray = npt.NDArray[np.float64]
UNEXPLAINED = 1e-3  # as bolo.search.pfilter: below it a sighting re-seeds particles


def apply_late_sighting(pf: ParticleFilter, i: int, ev: Sighting, ts: float) -> bool:
    """Apply sighting ``i`` of time ``ts`` (seconds, before the filter's time) by re-weighing,
    if that gives the replayed picture; return False (nothing changed) otherwise."""
    st = pf.state
    base = [c for c in pf.checkpoints if st.generation_t <= c.t <= ts]
    later = sorted(v for v in st.applied_at.values() if v[0] > ts)
    if not base or any(k < 0 for _, k in later):
        return False  # no checkpoint to start from, or a search report applied since
    c = base[-1]
    p = c.parts.copy()
    pf.move_particles(p, c.t, ts, pf._watch, pf._no_events)
    net = pf.model.network
    factors = [st.factors[k][1] for _, k in later]
    w_ts = _divide_out(st.weights, factors)
    like, explained = sighting_likelihood(
        p.node,
        p.arc,
        p.rem,
        p.dur,
        net.indices,
        net.node_lat,
        net.node_lon,
        w_ts,
        ev.lat,
        ev.lon,
        ev.radius_m,
        ev.credibility,
    )
    if explained < UNEXPLAINED and ev.credibility > 0:
        return False  # the replay would re-seed particles at the sighting
    if not _never_resampled(w_ts, like, factors, pf.n / 2):
        return False
    pf.checkpoints = [k for k in pf.checkpoints if k.t <= ts]
    pf._weigh(i, like, ev.label or f"sighting {ev.time.isoformat()}", at=ts)
    return True


def _divide_out(weights: FloatArray, factors: list[FloatArray]) -> FloatArray:
    """The weights before the evidence whose attribution ``factors`` are given (normalised)."""
    w = weights.copy()
    for f in factors:
        w /= f
    return np.asarray(w / w.sum(), dtype=np.float64)


def _never_resampled(
    w: FloatArray, like: FloatArray, later: list[FloatArray], min_ess: float
) -> bool:
    """Whether the effective sample size stays >= min_ess after the sighting (weights ``w``
    before it) and after each later evidence in turn, as in the replay."""
    w = w * like
    for f in [np.ones_like(w), *later]:
        w = w * f
        w /= w.sum()
        if 1.0 / float(np.sum(w * w)) < min_ess:
            return False
    return True
