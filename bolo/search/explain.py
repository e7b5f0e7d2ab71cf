"""Why the particle picture ranks a post where it does, in words and numbers.

The ranking is a greedy hedged objective (bolo.search.forecast.greedy_order): a post is worth
what it adds over the posts ranked above it, within the time it will be alerted. So a later
post can show a higher pass probability than an earlier one (most of its passes are caught
above it already). The reason text says which term placed the post: the passes it newly
covers, the reachability frontier's share, or, past the coverage, passes further ahead.
"""

from __future__ import annotations

from dataclasses import dataclass

from bolo.search.forecast import Pick


@dataclass(frozen=True)
class Placement:
    """How one post came to its rank: ``pick`` from the coverage (None: ordered after it by
    ``later``, its time-discounted passes over the look-ahead); ``alert_probability``: that
    the suspects pass it while it is alerted (the next ``alert_s`` seconds)."""

    rank: int
    pick: Pick | None
    share: float
    alert_probability: float
    alert_s: float
    later: float

    @property
    def gain(self) -> float:
        """What the post adds to the chance of a catch while alerted, over the posts above."""
        return 0.0 if self.pick is None else self.pick.gain(self.share)

    def text(self) -> str:
        """The placement in words (the first part of a rank item's ``reason``)."""
        window = _span(self.alert_s)
        if self.pick is None:
            return (
                f"rank {self.rank} for the next {window}: adds nothing there (the posts above "
                f"catch its passes, or it has none); ordered by passes further ahead, "
                f"discounted by delay ({self.later:.2f})"
            )
        above = max(0.0, self.alert_probability - self.pick.new_mass)
        text = (
            f"rank {self.rank} for the next {window}: catches {self.pick.new_mass:.2f} of the "
            "forecast passes no post above catches"
        )
        if above >= 0.005:
            text += f" (its P = {self.alert_probability:.2f}, {above:.2f} caught above)"
        if self.pick.extra > 0:
            text += f", on the reachability frontier within it (hedge +{self.pick.extra:.2f})"
        return text + f"; gain {self.gain:.3f}"


def _span(seconds: float) -> str:
    minutes = seconds / 60.0
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:g} h"
