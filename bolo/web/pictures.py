"""The search picture of a case for the pages: recommended posts and map layers, cached briefly.

A picture costs a particle-filter run; pages and the map ask for the same one within seconds, so
results are kept per (case, evidence, minute) for a short while.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bolo.cases.model import Case
from bolo.cases.picture import case_network, recommended_posts
from bolo.clock import now
from bolo.network import Network, load
from bolo.reports.service import evidence_for_case

BUDGET = 20
_CACHE_MAX = 32
_cache: OrderedDict[tuple[str, ...], Any] = OrderedDict()
_lock = threading.Lock()


def picture_time(case: Case) -> datetime:
    """The time the picture is drawn for: now for an open case, the resolution for a resolved
    one (where the suspects could be when it ended); never before the last-seen window ends."""
    at = now() if case.resolved_at is None else min(now(), case.resolved_at)
    return max(at, case.last_seen_latest)


def _key(case: Case, what: str, evidence: list[dict[str, Any]]) -> tuple[str, ...]:
    return (what, case.id, str(len(evidence)), repr(evidence[-1:]),
            picture_time(case).strftime("%Y%m%d%H%M"))


def cached(key: tuple[str, ...], compute: Any) -> Any:
    """``compute()`` once per key among the most recent keys (thread-safe enough: a race
    computes twice, never returns a wrong value)."""
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = compute()
    with _lock:
        _cache[key] = value
        while len(_cache) > _CACHE_MAX:
            _cache.popitem(last=False)
    return value


def network_of(db: Session, case: Case) -> Network:
    """The network the case's search runs on, with the stored posts of its picture."""
    return case_network(db, case)


def recommendations(db: Session, case: Case, budget: int = BUDGET) -> list[dict[str, Any]]:
    """The posts to alert first (best first): ``post_id``, ``probability``, ``eta``, ``reason``."""
    evidence = evidence_for_case(db, case_id=case.id)
    return list(cached(_key(case, f"rank{budget}", evidence), lambda: recommended_posts(
        case, network_of(db, case), at=picture_time(case), budget=budget, evidence=evidence)))


def evidence_of(db: Session, case: Case) -> list[dict[str, Any]]:
    """The case's evidence (credible and confirmed reports) in search-picture form."""
    return evidence_for_case(db, case_id=case.id)


def layer_key(case: Case, what: str, evidence: list[dict[str, Any]]) -> tuple[str, ...]:
    """Cache key of one map layer of ``case``."""
    return _key(case, what, evidence)


def warm_up(network_name: str = "dprk") -> None:
    """Load a network and run one small search picture, so that the first page to draw a map
    does not pay for loading and compiling (seconds). Call it once at start-up, in a thread."""
    from datetime import timedelta

    from bolo.web.mapdata import heat_cells, isochrones

    network = load(network_name)
    at = now()
    probe = Case(id="warm-up", network=network_name, hints=[],
                 last_known_lat=float(network.node_lat[0]),
                 last_known_lon=float(network.node_lon[0]),
                 last_seen_earliest=at - timedelta(hours=2), last_seen_latest=at)
    heat_cells(probe, network, at=at, evidence=[])
    isochrones(probe, network, at=at)
    recommended_posts(probe, network, at=at, budget=3)
