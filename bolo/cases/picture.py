"""The search picture of a stored case: the case row, its network with the stored posts, and
its evidence, fed to bolo.search."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bolo.cases.model import Case
from bolo.errors import InvalidInput
from bolo.network import NetworkNotFound, load
from bolo.network.graph import Network
from bolo.posts.placing import check_in_picture, network_with_posts
from bolo.search import SearchPicture

log = logging.getLogger(__name__)

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


def _load(case: Case) -> Network:
    try:
        return load(case.network)
    except NetworkNotFound as exc:
        raise InvalidInput(f"case {case.reference}: {exc}") from None


def case_network(session: Session, case: Case) -> Network:
    """The network the case's search runs on, with the posts of its search picture: the
    network's own and the organisation's stored posts placed on it (bolo.posts.placing).
    InvalidInput (422) when the case names a network that is not imported."""
    return network_with_posts(session, _load(case))


def check_reporting_post(session: Session, case: Case, post_id: str) -> None:
    """InvalidInput (422) saying why, unless post ``post_id`` is in the case's search picture,
    so that its search reports can count as evidence."""
    check_in_picture(session, _load(case), post_id)


def known_evidence(evidence: Sequence[dict[str, Any]], network: Network
                   ) -> list[dict[str, Any]]:
    """``evidence`` without the search reports of posts that are not in ``network``'s posts
    (a post removed or moved off the network since it reported): they are logged and left out,
    so that they cannot stop the picture."""
    known = {p.post_id for p in network.posts}
    kept = []
    for item in evidence:
        if item.get("kind") == "search" and item.get("post_id") not in known:
            log.warning("search report of post %r left out: not in the picture of network %r",
                        item.get("post_id"), network.name)
            continue
        kept.append(item)
    return kept


def picture_for(case: Case, network: Network, *, at: datetime,
                evidence: Sequence[dict[str, Any]] = (), strategy: str = "particle",
                seed: int = 0) -> SearchPicture:
    """A search picture of ``case`` advanced to ``at`` (timezone-aware); search reports of
    posts ``network`` does not have are left out (``known_evidence``)."""
    picture = SearchPicture(network, case_document(case, evidence=known_evidence(
        evidence, network)), strategy=strategy, seed=seed)
    picture.advance(at)
    return picture


def recommended_posts(case: Case, network: Network, *, at: datetime, budget: int,
                      evidence: Sequence[dict[str, Any]] = (), seed: int = 0
                      ) -> list[dict[str, Any]]:
    """The ``budget`` posts to alert first, best first, each with probability, eta and reason."""
    return picture_for(case, network, at=at, evidence=evidence, seed=seed).rank(budget)
