"""Why the particle picture ranks a post where it does, in words and numbers.

The ranking is a greedy hedged objective (bolo.search.forecast.greedy_order): a post is worth
what it adds over the posts ranked above it, within the time it will be alerted. So a later
post can show a higher pass probability than an earlier one (most of its passes are caught
above it already). The reason text says which term placed the post: the passes it newly
covers, the reachability frontier's share, or, past the coverage, passes further ahead.

``Why`` is the same reason as a code and its numbers (a rank item's ``why``), so that a reader
can have it in another language; ``english`` is the text ``reason`` carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypedDict

from bolo.search.forecast import Pick


class WhyCode(StrEnum):
    """Which term placed a post: newly covered passes, passes further ahead (coverage adds
    nothing), or a baseline's rule."""

    COVERS = "covers"
    AHEAD = "ahead"
    RADIUS = "radius"
    REACHABILITY = "reachability"


class Why(TypedDict):
    """A rank item's reason as numbers (probabilities 0-1, seconds): ``rank`` (1 = first),
    ``window_s`` the alert window, ``new`` the passes within it no post above catches,
    ``alert_probability`` that the suspects pass it within the window and ``above`` how much
    of that the posts above catch, ``hedge`` the reachability hedge's
    share, ``gain``, ``later`` its delay-discounted passes further ahead, ``horizon_s`` and
    ``probability`` within it, ``eta`` (ISO time or None), ``moved_by`` the evidence that moved
    it most (label, change in probability), ``radius_km`` (radius baseline). Numbers that do
    not apply to the ``code`` are 0."""

    code: WhyCode
    rank: int
    window_s: float
    new: float
    alert_probability: float
    above: float
    hedge: float
    gain: float
    later: float
    horizon_s: float
    probability: float
    eta: str | None
    moved_by: list[tuple[str, float]]
    radius_km: float


def baseline_why(code: WhyCode, radius_km: float = 0.0) -> Why:
    """The reason of a baseline's post (the rule that placed it)."""
    return Why(
        code=code,
        rank=0,
        window_s=0.0,
        new=0.0,
        alert_probability=0.0,
        above=0.0,
        hedge=0.0,
        gain=0.0,
        later=0.0,
        horizon_s=0.0,
        probability=0.0,
        eta=None,
        moved_by=[],
        radius_km=radius_km,
    )


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

    def why(
        self,
        horizon_s: float,
        probability: float,
        eta: str | None,
        moved_by: list[tuple[str, float]],
    ) -> Why:
        """The placement as a ``Why``, with the post's probability within ``horizon_s``
        seconds, expected time and the evidence that moved it most."""
        pick = self.pick
        return Why(
            code=WhyCode.AHEAD if pick is None else WhyCode.COVERS,
            rank=self.rank,
            window_s=self.alert_s,
            new=0.0 if pick is None else pick.new_mass,
            alert_probability=self.alert_probability,
            above=0.0 if pick is None else max(0.0, self.alert_probability - pick.new_mass),
            hedge=0.0 if pick is None else pick.extra,
            gain=self.gain,
            later=self.later,
            horizon_s=horizon_s,
            probability=probability,
            eta=eta,
            moved_by=moved_by,
            radius_km=0.0,
        )


def english(why: Why) -> str:
    """The reason in English words (a rank item's ``reason``)."""
    if why["code"] == WhyCode.RADIUS:
        return f"near the edge of the {why['radius_km']:.0f} km radius circle"
    if why["code"] == WhyCode.REACHABILITY:
        return "earliest possible arrival is just ahead of now"
    head = f"rank {why['rank']} for the next {_span(why['window_s'])}: "
    if why["code"] == WhyCode.AHEAD:
        text = head + (
            "adds nothing there (the posts above "
            f"catch its passes, or it has none); ordered by passes further ahead, "
            f"discounted by delay ({why['later']:.2f})"
        )
    else:
        text = head + f"catches {why['new']:.2f} of the forecast passes no post above catches"
        if why["above"] >= 0.005:
            text += f" (its P = {why['alert_probability']:.2f}, {why['above']:.2f} caught above)"
        if why["hedge"] > 0:
            text += f", on the reachability frontier within it (hedge +{why['hedge']:.2f})"
        text += f"; gain {why['gain']:.3f}"
    text += f"; P(pass within {why['horizon_s'] / 3600:g} h) = {why['probability']:.2f}"
    if why["eta"]:
        text += f", expected {why['eta']}"
    if why["moved_by"]:
        text += "; moved by " + ", ".join(f"{lab} ({d:+.2f})" for lab, d in why["moved_by"])
    return text


def _span(seconds: float) -> str:
    minutes = seconds / 60.0
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:g} h"
