"""Case picture request time: GET /api/v1/cases/{id}/picture on an imported OSM extract with the
network's posts stored, as each request pays it when the picture must be computed afresh (new
evidence, or the next minute), with the network kept in the process (loaded once per stored copy,
its posts placed and its search model built once per version of the stored posts).

    .venv/bin/python bench/picture_bench.py [--extract PBF] [--requests 7] [--json]
        [--posts-version]

Baseline (same run, requests alternating): the same request with the network read from disk,
its posts placed and its search model built for every request, as when nothing is kept.
Also: a repeat within the same minute (the picture cache answers). Figures are medians (ms);
``ratio`` is baseline over kept. ``--posts-version``: the repeat also with the stored posts'
version a digest of every post read per request (``repeat_digest_ms``), in turn with the
database's counter (``repeat_ms``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PORTO = REPO.parent / "shared" / "data" / "osm" / "r5_porto_portugal.osm.pbf"


def _ms(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000.0


def _world(extract: Path) -> tuple[Any, dict[str, str], str, int, int]:
    """A data folder with ``extract`` imported and its posts stored, a coordinator's token and
    a case opened 30 minutes after the child was last seen near the network's middle node."""
    from fastapi.testclient import TestClient

    from bolo.api import create_app
    from bolo.auth.model import Role
    from bolo.auth.service import create_user, issue_token
    from bolo.cases.schemas import CaseCreate, LastKnown, Person
    from bolo.cases.service import open_case
    from bolo.clock import now
    from bolo.network.osm import import_osm
    from bolo.posts.service import import_network_posts
    from bolo.store.db import session_scope, upgrade_database

    upgrade_database()
    network = import_osm(extract, name="bench")
    with session_scope() as db:
        import_network_posts(db, network=network, actor_id=None)
        user = create_user(db, username="coord", role=Role.COORDINATOR, actor=None)
        token = issue_token(db, user_id=user.id, actor=None)
        middle = network.n_nodes // 2
        seen = now() - timedelta(minutes=30)
        case = open_case(
            db,
            data=CaseCreate(
                children=[Person(name="A Child", age=7)],
                network="bench",
                last_known=LastKnown(
                    place="middle",
                    lat=float(network.node_lat[middle]),
                    lon=float(network.node_lon[middle]),
                    time_earliest=seen - timedelta(minutes=15),
                    time_latest=seen,
                ),
            ),
            actor=user,
        )
        case_id = case.id
    client = TestClient(create_app(timers=False))
    return (
        client,
        {"Authorization": f"Bearer {token}"},
        case_id,
        network.n_nodes,
        len(network.posts),
    )


def _digest_version(session: Any) -> str:
    """The stored posts' version as a digest of every stored post and the catchment setting."""
    import hashlib

    from bolo.posts.placing import stored_posts
    from bolo.settings import get_settings

    digest = hashlib.sha256(repr(get_settings().post_catchment_metres).encode())
    for post in stored_posts(session):
        digest.update(repr(post).encode("utf-8"))
    return digest.hexdigest()[:16]


def measure(extract: Path, requests: int, posts_versions: bool = False) -> dict[str, Any]:
    """Median request times (ms) kept, baseline and repeated, on ``extract``; with
    ``posts_versions``, the repeat also with the posts' version a digest of every post."""
    import bolo.network
    from bolo.cases import picture

    client, headers, case_id, nodes, posts = _world(extract)
    url = f"/api/v1/cases/{case_id}/picture"

    def request() -> None:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, answer.text

    def afresh() -> None:
        picture._cache.clear()  # the picture itself is computed anew: new evidence or minute
        request()

    def from_disk() -> None:
        # getattr: the same script measures a checkout that keeps nothing (then it is afresh).
        getattr(picture, "_networks", {}).clear()
        getattr(bolo.network, "_shared", {}).clear()
        afresh()

    def repeat_by_digest() -> None:
        # The posts' version as a digest of every stored post (read and hashed per request):
        # the baseline of the counter the database keeps (bolo.posts.placing.posts_version).
        kept_version = picture.posts_version
        picture.posts_version = _digest_version  # type: ignore[assignment]
        try:
            request()  # a new version: the network's posts are placed again, the picture made
            for _ in range(3):
                repeat_digest.append(_ms(request))
        finally:
            picture.posts_version = kept_version
            request()  # back to the counter's version, kept again

    from_disk()  # compiles the kernels and warms the file cache for both
    afresh()
    kept, baseline, repeat, repeat_digest = [], [], [], []  # type: ignore[var-annotated]
    for _ in range(requests):
        baseline.append(_ms(from_disk))
        kept.append(_ms(afresh))
        repeat.append(_ms(request))
        if posts_versions:
            repeat_by_digest()
            repeat.extend(_ms(request) for _ in range(2))
    kept_ms, baseline_ms = statistics.median(kept), statistics.median(baseline)
    return {
        "extract": extract.name,
        "nodes": nodes,
        "posts": posts,
        "requests": requests,
        "picture_ms": round(kept_ms, 1),
        "baseline_ms": round(baseline_ms, 1),
        "ratio": round(baseline_ms / kept_ms, 2),
        "repeat_ms": round(statistics.median(repeat), 1),
        **(
            {"repeat_digest_ms": round(statistics.median(repeat_digest), 1)}
            if posts_versions
            else {}
        ),
        "load": os.getloadavg()[0],
    }


def main() -> None:
    """Run the benchmark in a fresh data folder and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", type=Path, default=PORTO)
    parser.add_argument("--requests", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--posts-version",
        action="store_true",
        help="also repeat with the posts' version a digest of every stored post "
        "(repeat_digest_ms), alternating with the counter's (repeat_ms)",
    )
    args = parser.parse_args()
    extract = (
        args.extract
        if args.extract.exists()
        else REPO / "tests" / "fixtures" / ("vh_andorra-latest.osm.pbf")
    )
    with tempfile.TemporaryDirectory(prefix="bolo-picture-bench-") as folder:
        os.environ["BOLO_DATA_DIR"] = folder
        os.environ.pop("BOLO_DATABASE_URL", None)
        from bolo.settings import reset_settings

        reset_settings()
        result = measure(extract, args.requests, args.posts_version)
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:12} {value}")


if __name__ == "__main__":
    main()
