"""The reference incident on the bundled DPRK corridors: Songch'on, Mar 31, heading north."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bolo.network.corridors import load_corridors
from bolo.network.graph import Network
from bolo.search import SearchPicture

DPRK = Path(__file__).resolve().parents[2] / "bolo" / "data" / "dprk"
KST = "+09:00"
# Assumptions (the report gives none): the year, the window of the abduction on Mar 31, and
# that the search reports below were filed by southern and western posts.
CASE: dict[str, Any] = {
    "last_known": {
        "lat": 39.2068,
        "lon": 126.2039,
        "time_earliest": f"2026-03-31T08:00:00{KST}",
        "time_latest": f"2026-03-31T14:00:00{KST}",
    },
    "modes": ["road", "rail"],
    "hints": [{"kind": "heading", "bearing_deg": 0.0, "weight": 0.8}],
}


@pytest.fixture(scope="module")
def dprk() -> Network:
    return load_corridors(DPRK, name="dprk")


def _rank(
    net: Network,
    strategy: str,
    at: str,
    budget: int = 10,
    evidence: list[dict[str, Any]] | None = None,
) -> list[str]:
    pic = SearchPicture(net, CASE, strategy=strategy, seed=0, particles=2000, horizon_hours=24)
    for ev in evidence or []:
        pic.observe(ev)
    pic.advance(datetime.fromisoformat(at))
    return [r["post_id"] for r in pic.rank(budget)]


def test_kilju_guard_post_ranks_high_on_april_first(dprk: Network) -> None:
    ranked = _rank(dprk, "particle", f"2026-04-01T08:00:00{KST}")
    assert "guard-kilju" in ranked[:3], ranked


def test_the_reason_names_the_heading_tip(dprk: Network) -> None:
    pic = SearchPicture(dprk, CASE, seed=0, particles=2000, horizon_hours=24)
    pic.advance(datetime.fromisoformat(f"2026-04-01T08:00:00{KST}"))
    kilju = next(r for r in pic.rank(10) if r["post_id"] == "guard-kilju")
    assert kilju["probability"] > 0.1
    assert "heading tip" in kilju["reason"]
    assert kilju["eta"] is not None and kilju["eta"] > f"2026-04-01T08:00:00{KST}"


def test_searches_that_found_nothing_keep_kilju_high(dprk: Network) -> None:
    t0 = datetime.fromisoformat(f"2026-03-31T14:00:00{KST}")
    searched = [
        p.post_id for p in dprk.posts if p.lat < 39.6 and p.kind.value in ("checkpoint", "station")
    ][:8]
    assert searched
    evidence = [
        {
            "kind": "search",
            "post_id": pid,
            "from": t0.isoformat(),
            "to": (t0 + timedelta(hours=10)).isoformat(),
            "detection_probability": 0.6,
            "found": False,
        }
        for pid in searched
    ]
    ranked = _rank(dprk, "particle", f"2026-04-01T08:00:00{KST}", evidence=evidence)
    assert "guard-kilju" in ranked[:3], ranked
    assert not set(searched) & set(ranked[:3])
