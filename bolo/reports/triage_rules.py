"""Triage as pure functions: credibility with reasons, de-duplication, and search evidence.

Nothing here touches the database: the service builds ``ReportFacts`` from stored rows and stores
what these functions return. Distances are metres, times aware datetimes, coordinates WGS84.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bolo.reports.geocode import haversine_m
from bolo.reports.intake import ReportKind, SearchResult
from bolo.reports.romanise import strip_marks

_BASE = {ReportKind.TIP: 0.3, ReportKind.SIGHTING: 0.7, ReportKind.SEARCH: 0.9}
_DETAIL = re.compile(
    r"\b(child|boy|girl|kid|son|daughter|couple|man|woman|car|truck|lorry|bus|van|train|"
    r"vehicle|plate|military|soldier|wearing|jacket|coat|heading|north|south|east|west)\b"
    r"|아이|아동|소년|소녀|남자|여자|부부|차|트럭|기차|열차|군인|북쪽"
)
_WORD = re.compile(r"\w+")
_Add = Callable[[float, str], None]


@dataclass(frozen=True)
class ReportFacts:
    """What triage needs to know about one report."""

    id: str
    kind: ReportKind
    text: str
    time: datetime
    lat: float | None = None
    lon: float | None = None
    radius_m: float = 5000.0
    how_located: str = ""
    photo_lat: float | None = None
    photo_lon: float | None = None
    has_photo: bool = False
    has_contact: bool = False
    post_id: str | None = None
    searched_to: datetime | None = None
    result: SearchResult | None = None
    detection_probability: float = 0.8


@dataclass(frozen=True)
class CaseFacts:
    """What triage needs about the case: the last-known place (degrees) and earliest time."""

    lat: float
    lon: float
    since: datetime
    max_speed_kmh: float = 90.0


def credibility(
    report: ReportFacts, case: CaseFacts | None = None, corroborations: int = 0
) -> tuple[float, list[str]]:
    """Score a report in [0, 1] and list the reasons, each with its signed contribution."""
    score = _BASE[report.kind]
    reasons = [
        f"{report.kind.value} from {'a post' if report.post_id else 'the public'}: "
        f"base {score:+.2f}"
    ]

    def add(delta: float, why: str) -> None:
        nonlocal score
        score += delta
        reasons.append(f"{why}: {delta:+.2f}")

    if report.kind is not ReportKind.SEARCH:
        _place_terms(report, add)
        _text_terms(report, add)
        if case is not None:
            _plausibility(report, case, add)
    if report.has_contact:
        add(0.05, "tipster left a contact")
    if corroborations > 0:
        add(min(0.2, 0.1 * corroborations), f"{corroborations} other report(s) nearby agree")
    return max(0.0, min(1.0, round(score, 3))), reasons


def _place_terms(report: ReportFacts, add: _Add) -> None:
    if report.lat is None or report.lon is None:
        add(-0.2, "no usable place")
        return
    if report.how_located in ("coordinates", "map", "photo"):
        add(0.1, f"precise place ({report.how_located})")
    elif report.how_located == "fuzzy":
        add(-0.05, "place name matched only approximately")
    if report.photo_lat is not None and report.photo_lon is not None:
        gap = haversine_m(report.lat, report.lon, report.photo_lat, report.photo_lon)
        if gap <= 5000:
            add(0.15, "photo GPS agrees with the place")
        elif gap > 20000:
            add(-0.2, f"photo GPS is {gap / 1000:.0f} km from the place given")
    elif report.has_photo:
        add(0.05, "photo attached")


def _text_terms(report: ReportFacts, add: _Add) -> None:
    details = {m.group(0) for m in _DETAIL.finditer(report.text.lower())}
    if details:
        add(min(0.15, 0.05 * len(details)), f"describes {', '.join(sorted(details)[:4])}")
    if len(report.text.strip()) < 15:
        add(-0.1, "very short description")


def _plausibility(report: ReportFacts, case: CaseFacts, add: _Add) -> None:
    if report.time < case.since - timedelta(minutes=10):
        add(-0.3, "seen before the child went missing")
        return
    if report.lat is None or report.lon is None:
        return
    hours = (report.time - case.since).total_seconds() / 3600.0
    reach_m = case.max_speed_kmh * 1000.0 * max(hours, 0.0) + 5000.0 + report.radius_m
    distance = haversine_m(case.lat, case.lon, report.lat, report.lon)
    if distance > reach_m:
        add(-0.4, f"{distance / 1000:.0f} km from the last-known place: not reachable in time")
    else:
        add(0.05, "reachable from the last-known place in the time elapsed")


def shingles(text: str) -> frozenset[str]:
    """The character trigrams of a text's words, lower-cased without diacritics or apostrophes
    (works for Latin in any romanisation and for Hangul). Computed once per report and stored:
    ``text_key`` joins them, ``parse_text_key`` reads them back."""
    words = " ".join(_WORD.findall(strip_marks(text)))
    return frozenset(words[i : i + 3] for i in range(max(1, len(words) - 2)))


def text_key(text: str) -> str:
    """The stored form of ``shingles(text)``: the trigrams sorted and joined by ``|`` (a
    trigram holds word characters and spaces only)."""
    return "|".join(sorted(shingles(text)))


def parse_text_key(key: str) -> frozenset[str]:
    """The trigram set that ``text_key`` stored."""
    return frozenset(key.split("|")) if key else frozenset()


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a & b| / |a | b| in [0, 1]; 0 when either set is empty."""
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of character trigrams (works for Latin and Hangul), in [0, 1]."""
    return jaccard(shingles(a), shingles(b))


@dataclass(frozen=True)
class Limits:
    """When two reports are the same event: within ``window``, and within ``distance_m``
    (metres, plus the smaller place radius) with trigram similarity >= ``text_threshold``
    (or within 500 m and a quarter of the window); without a place, similarity >= 0.8."""

    distance_m: float = 3000.0
    window: timedelta = timedelta(hours=2)
    text_threshold: float = 0.3
    unplaced_threshold: float = 0.8


LIMITS = Limits()


def linked(
    a: ReportFacts, b: ReportFacts, sa: frozenset[str], sb: frozenset[str], limits: Limits = LIMITS
) -> bool:
    """``same_event`` on precomputed trigram sets ``sa``/``sb`` of ``a``/``b``: the cheap time
    and distance checks run first, the text comparison only when they pass."""
    gap_s = abs((a.time - b.time).total_seconds())
    if gap_s > limits.window.total_seconds():
        return False
    if a.lat is None or b.lat is None or a.lon is None or b.lon is None:
        return jaccard(sa, sb) >= limits.unplaced_threshold
    gap = haversine_m(a.lat, a.lon, b.lat, b.lon)
    if gap > limits.distance_m + min(a.radius_m, b.radius_m):
        return False
    if gap < 500 and gap_s < limits.window.total_seconds() / 4:
        return True
    return jaccard(sa, sb) >= limits.text_threshold


def same_event(a: ReportFacts, b: ReportFacts, limits: Limits = LIMITS) -> bool:
    """True when two reports likely describe the same thing: close in time, and close in place
    with similar words (or nearly identical words when a place is missing)."""
    return linked(a, b, shingles(a.text), shingles(b.text), limits)


def cluster(reports: Sequence[ReportFacts], limits: Limits = LIMITS) -> list[str]:
    """Group reports of the same event (single linkage over ``same_event``); returns, per
    report, its cluster id: the id of the cluster's earliest report (by time, then id). The
    reference for the stored, incremental clustering (``bolo.reports.clustering``): it
    compares every pair inside the time window."""
    order = sorted(range(len(reports)), key=lambda i: reports[i].time)
    keys = [shingles(r.text) for r in reports]
    parent = list(range(len(reports)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    start = 0
    for pos, i in enumerate(order):
        while reports[i].time - reports[order[start]].time > limits.window:
            start += 1
        for j in order[start:pos]:
            if root(i) != root(j) and linked(reports[i], reports[j], keys[i], keys[j], limits):
                a, b = sorted((root(i), root(j)), key=lambda k: (reports[k].time, reports[k].id))
                parent[b] = a
    return [reports[root(i)].id for i in range(len(reports))]


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def evidence(report: ReportFacts, score: float) -> list[dict[str, Any]]:
    """The search-picture evidence a credible or confirmed report gives: a sighting (time,
    place, radius in metres, credibility) and/or a search over an interval at a post."""
    items: list[dict[str, Any]] = []
    if report.kind is ReportKind.SEARCH:
        items.append(
            {
                "kind": "search",
                "post_id": report.post_id,
                "from": _iso(report.time),
                "to": _iso(report.searched_to or report.time),
                "detection_probability": report.detection_probability,
                "found": report.result is SearchResult.FOUND,
            }
        )
        if report.result is not SearchResult.FOUND:
            return items
    if report.lat is not None and report.lon is not None:
        moment = report.searched_to if report.kind is ReportKind.SEARCH else report.time
        items.append(
            {
                "kind": "sighting",
                "time": _iso(moment or report.time),
                "lat": report.lat,
                "lon": report.lon,
                "radius_m": report.radius_m,
                "credibility": score,
            }
        )
    return items
