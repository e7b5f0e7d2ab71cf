"""The search picture of a stored case: the case row and its evidence, fed to bolo.search."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bolo.cases.model import Case
from bolo.network.graph import Network
from bolo.search import SearchPicture

DEFAULT_MODES = ("road", "rail")


def case_document(case: Case, *, evidence: Sequence[dict[str, Any]] = (),
                  modes: Sequence[str] = DEFAULT_MODES) -> dict[str, Any]:
    """The search-API case dict (docs/search-api.md) of a stored case."""
    hints = []
    for hint in case.hints:
        item = {"kind": hint["kind"], "weight": hint.get("weight", 0.7)}
        if hint["kind"] == "heading":
            item["bearing_deg"] = hint["bearing_deg"]
        else:
            item["lat"], item["lon"] = hint["lat"], hint["lon"]
        hints.append(item)
    return {
        "last_known": {
            "lat": case.last_known_lat, "lon": case.last_known_lon,
            "time_earliest": case.last_seen_earliest.isoformat(),
            "time_latest": case.last_seen_latest.isoformat(),
        },
        "modes": list(modes),
        "hints": hints,
        "evidence": list(evidence),
    }


def picture_for(case: Case, network: Network, *, at: datetime,
                evidence: Sequence[dict[str, Any]] = (), strategy: str = "particle",
                seed: int = 0) -> SearchPicture:
    """A search picture of ``case`` advanced to ``at`` (timezone-aware)."""
    picture = SearchPicture(network, case_document(case, evidence=evidence), strategy=strategy,
                            seed=seed)
    picture.advance(at)
    return picture


def recommended_posts(case: Case, network: Network, *, at: datetime, budget: int,
                      evidence: Sequence[dict[str, Any]] = (), seed: int = 0
                      ) -> list[dict[str, Any]]:
    """The ``budget`` posts to alert first, best first, each with probability, eta and reason."""
    return picture_for(case, network, at=at, evidence=evidence, seed=seed).rank(budget)
