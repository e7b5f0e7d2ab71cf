"""The search picture of a case for the pages: recommended posts and map layers, cached briefly
(the picture and its cache are bolo.cases.picture's; the names here are the pages')."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy.orm import Session

from bolo.cases.model import Case
from bolo.cases.picture import (
    cached,
    case_network,
    cell_picture,
    cells_of,
    picture_key,
    picture_network,
    picture_time,
    ranked_posts,
    recommended_posts,
    region_features,
)
from bolo.clock import now
from bolo.network import Network, default_network, load_shared
from bolo.reports.service import evidence_for_case

BUDGET = 20
__all__ = [
    "cached",
    "cells_of",
    "evidence_of",
    "layer_key",
    "network_of",
    "picture_network",
    "picture_time",
    "recommendations",
    "region_features",
    "warm_up",
    "warm_up_in_background",
]


def network_of(db: Session, case: Case) -> Network:
    """The network the case's search runs on, with the stored posts of its picture."""
    return case_network(db, case)


def recommendations(db: Session, case: Case, budget: int = BUDGET) -> list[dict[str, Any]]:
    """The posts to alert first (best first): ``post_id``, ``probability``, ``eta``, ``reason``."""
    return ranked_posts(db, case, budget=budget)


def evidence_of(db: Session, case: Case) -> list[dict[str, Any]]:
    """The case's evidence (credible and confirmed reports) in search-picture form."""
    return evidence_for_case(db, case_id=case.id)


def layer_key(
    case: Case, what: str, evidence: list[dict[str, Any]], version: str
) -> tuple[str, ...]:
    """Cache key of one map layer of ``case`` on the picture network of ``version``."""
    return picture_key(case, what, evidence, version)


def warm_up_in_background(network_name: str | None = None) -> threading.Thread:
    """Start ``warm_up`` of ``network_name`` (default: ``bolo.network.default_network()``) in a
    daemon thread and return it; a failure is logged, never raised (the server runs without).
    The first picture then finds the search kernels compiled (numba: tens of seconds on a busy
    machine without its on-disk cache) and the network loaded."""

    def run() -> None:
        log = logging.getLogger("bolo.pictures")
        started = time.perf_counter()
        try:
            name = network_name or default_network()
            warm_up(name)
        except Exception:  # a broken or missing network shows on its first picture instead
            log.warning("warming up the search picture failed", exc_info=True)
            return
        log.info("search picture ready on %s in %.1f s", name, time.perf_counter() - started)

    thread = threading.Thread(target=run, name="picture-warm-up", daemon=True)
    thread.start()
    return thread


def warm_up(network_name: str = "dprk") -> None:
    """Load a network and run one small search picture, so that the first page to draw a map
    does not pay for loading and compiling (seconds). ``warm_up_in_background`` runs it at
    start-up."""
    from datetime import timedelta

    from bolo.web.mapdata import heat_cells, isochrones

    network, _ = load_shared(network_name)
    at = now()
    probe = Case(
        id="warm-up",
        network=network_name,
        hints=[],
        last_known_lat=float(network.node_lat[0]),
        last_known_lon=float(network.node_lon[0]),
        last_seen_earliest=at - timedelta(hours=2),
        last_seen_latest=at,
    )
    cells = cell_picture(probe, network, at=at, evidence=[])
    heat_cells(cells.probability)
    region_features(cells)
    isochrones(probe, network, at=at)
    recommended_posts(probe, network, at=at, budget=3)
