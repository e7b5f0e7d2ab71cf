"""Why the particle picture ranks a post where it does, in words and numbers.

The ranking is a greedy hedged objective (bolo.search.forecast.greedy_order): a post is worth
what it adds over the posts ranked above it, within the time it will be alerted. So a later
post can show a higher pass probability than an earlier one (most of its passes are caught
above it already). The reason text says which term placed the post: the passes it newly
covers, the reachability frontier's share, or, past the coverage, passes further ahead.

``Why`` is the same reason as a code and its numbers (a rank item's ``why``), so that a reader
can have it in another language; ``english`` is the text ``reason`` carries. The evidence that
moved a post is named in ``moved_by`` by its English label (``evidence_label``, ``hint_label``)
and described as data in ``evidence`` (``EvidenceRef``: kind, time, post, bearing, place).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypedDict

from bolo.search.case import Evidence, Hint, HintKind, SearchReport, VehicleFound

if TYPE_CHECKING:  # forecast imports the filter, which names evidence with this module
    from bolo.search.forecast import Pick


class WhyCode(StrEnum):
    """Which term placed a post: newly covered passes, passes further ahead (coverage adds
    nothing), or a baseline's rule."""

    COVERS = "covers"
    AHEAD = "ahead"
    RADIUS = "radius"
    REACHABILITY = "reachability"


class EvidenceRef(TypedDict):
    """One piece of evidence or case hint that moved a post's probability, as data: ``kind``
    (``sighting``, ``vehicle_found``, ``search``, ``heading``, ``destination``, or ``named``:
    known by its label alone), ``label``
    the caller's own name for it ('' when it has none), ``time`` (ISO; sightings and found
    vehicles, else None), ``post_id`` (search reports, else None), ``bearing_deg`` (heading,
    degrees clockwise from north), ``lat``/``lon`` (destination, WGS84 degrees), ``weight``
    (hints, 0-1), ``change`` (how much it moved the probability, as in ``moved_by``). Numbers
    that do not apply to the ``kind`` are 0."""

    kind: str
    label: str
    time: str | None
    post_id: str | None
    bearing_deg: float
    lat: float
    lon: float
    weight: float
    change: float


class Why(TypedDict):
    """A rank item's reason as numbers (probabilities 0-1, seconds): ``rank`` (1 = first),
    ``window_s`` the alert window, ``new`` the passes within it no post above catches,
    ``alert_probability`` that the suspects pass it within the window and ``above`` how much
    of that the posts above catch, ``hedge`` the reachability hedge's
    share, ``gain``, ``later`` its delay-discounted passes further ahead, ``horizon_s`` and
    ``probability`` within it, ``eta`` (ISO time or None), ``moved_by`` the evidence that moved
    it most (label, change in probability) and ``evidence`` the same as data (``EvidenceRef``,
    same order), ``radius_km`` (radius baseline). Numbers that do not apply to the ``code``
    are 0."""

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
    evidence: list[EvidenceRef]


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
        evidence=[],
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
        refs: Mapping[str, EvidenceRef] | None = None,
    ) -> Why:
        """The placement as a ``Why``, with the post's probability within ``horizon_s``
        seconds, expected time and the evidence that moved it most (``moved_by``, described
        by ``refs``: label -> EvidenceRef, ``evidence_refs``; a label without one is given
        as a ``named`` kind)."""
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
            evidence=[_moved(label, change, refs or {}) for label, change in moved_by],
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


def evidence_label(ev: Evidence) -> str:
    """The English name of a piece of evidence in ``moved_by``: its own label, else its kind
    and time (sightings, found vehicles) or post (search reports)."""
    if ev.label:
        return ev.label
    if isinstance(ev, SearchReport):
        return f"searches at {ev.post_id} found nothing"
    if isinstance(ev, VehicleFound):
        return f"vehicle found {ev.time.isoformat()}"
    return f"sighting {ev.time.isoformat()}"


def hint_label(h: Hint) -> str:
    """The English name of a case hint in ``moved_by``."""
    if h.kind == HintKind.HEADING:
        return f"heading tip {h.bearing_deg:.0f} deg (weight {h.weight:.2f})"
    return f"destination tip {h.lat:.4f},{h.lon:.4f} (weight {h.weight:.2f})"


def evidence_ref(kind: str, label: str = "", **values: object) -> EvidenceRef:
    """An ``EvidenceRef`` of ``kind`` with the given fields; the others None or 0."""
    ref = EvidenceRef(
        kind=kind,
        label=label,
        time=None,
        post_id=None,
        bearing_deg=0.0,
        lat=0.0,
        lon=0.0,
        weight=0.0,
        change=0.0,
    )
    ref.update(values)  # type: ignore[typeddict-item]
    return ref


def evidence_refs(evidence: Iterable[Evidence], hints: Sequence[Hint]) -> dict[str, EvidenceRef]:
    """Each piece of evidence and hint by its ``moved_by`` label, as an ``EvidenceRef``
    (``change`` 0). Search reports of one post share a label, and so one ref."""
    refs: dict[str, EvidenceRef] = {}
    for h in hints:
        if h.kind == HintKind.HEADING:
            ref = evidence_ref("heading", bearing_deg=h.bearing_deg, weight=h.weight)
        else:
            ref = evidence_ref("destination", lat=h.lat, lon=h.lon, weight=h.weight)
        refs[hint_label(h)] = ref
    for ev in evidence:
        if isinstance(ev, SearchReport):
            ref = evidence_ref("search", ev.label, post_id=ev.post_id)
        else:
            kind = "vehicle_found" if isinstance(ev, VehicleFound) else "sighting"
            ref = evidence_ref(kind, ev.label, time=ev.time.isoformat())
        refs.setdefault(evidence_label(ev), ref)
    return refs


def _moved(label: str, change: float, refs: Mapping[str, EvidenceRef]) -> EvidenceRef:
    known = refs.get(label)
    ref = evidence_ref("named", label) if known is None else EvidenceRef(**known)
    ref["change"] = change
    return ref
