"""Late sightings without a replay: when re-weighing the current particles is exact.

A sighting reported after the picture moved on is normally applied by rewinding to a
checkpoint before it and replaying every particle to now (seconds per replayed hour on a
2 M-node graph). Motion does not depend on weights, so when the sighting would not have caused
a resampling (nor a re-seeding) and no particle changed index or motion since a checkpoint
before it, the replay would move the very same particles to the very same places: only the
weights differ. Then it is enough to move a copy of that checkpoint's particles to the
sighting's time, weigh the current particles by their positions then, and drop the checkpoints
after it (which lack the sighting). The weights equal the replayed ones up to rounding
(the evidence applied after the sighting is multiplied in another order).

The filter does this itself (``ParticleFilter._reweigh_late``); this module holds the weight
arithmetic that decides whether it may.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def divide_out(weights: FloatArray, factors: list[FloatArray]) -> FloatArray:
    """The weights before the evidence whose likelihood ``factors`` are given (normalised)."""
    w = weights.copy()
    for f in factors:
        w /= f
    return np.asarray(w / w.sum(), dtype=np.float64)


def never_resampled(
    w: FloatArray, like: FloatArray, later: list[FloatArray], min_ess: float
) -> bool:
    """Whether the effective sample size stays >= min_ess after the sighting (weights ``w``
    before it, likelihood ``like``) and after each later evidence in turn, as in the replay."""
    w = w * like
    for f in [np.ones_like(w), *later]:
        w = w * f
        w /= w.sum()
        if 1.0 / float(np.sum(w * w)) < min_ess:
            return False
    return True
