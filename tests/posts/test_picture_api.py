"""GET /api/v1/cases/{id}/picture: the console's search picture for systems that drive bolo over
HTTP, checked end to end on a real OSM extract with the organisation's own posts: the network
and the posts imported by the commands an operator runs, the case opened over the API."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from bolo.api import create_app
from bolo.auth.model import Role
from bolo.auth.service import create_user, issue_token
from bolo.cli import app as cli_app
from bolo.clock import now
from bolo.store.db import session_scope
from tests.posts.conftest import ANDORRA_PBF, ANDORRA_POSTS

IMPORTED = {
    "rb-sant-julia",
    "rb-santa-coloma",
    "rb-encamp",
    "rb-canillo",
    "rb-la-massana",
    "pol-ordino",
    "patrol-escaldes",
    "gp-pas-de-la-casa",
}
LAST_KNOWN = (42.5063, 1.5218)  # Andorra la Vella


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A data folder with the Andorra network and the posts CSV imported by the CLI, staff of
    two roles and a case opened over the API 30 minutes after the child was last seen."""
    from bolo.settings import reset_settings
    from bolo.store.db import set_default_engine

    folder = tmp_path_factory.mktemp("picture-api")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BOLO_DATA_DIR", str(folder))
        patch.delenv("BOLO_DATABASE_URL", raising=False)
        reset_settings()
        set_default_engine(None)
        runner = CliRunner()
        for args in (
            ["db", "upgrade"],
            ["network", "import", str(ANDORRA_PBF), "--name", "andorra"],
            ["post", "import", str(ANDORRA_POSTS), "--network", "andorra"],
        ):
            result = runner.invoke(cli_app, args)
            assert result.exit_code == 0, (args, result.output)
        headers = {}
        with session_scope() as db:
            for name, role in (("ri", Role.COORDINATOR), ("officer", Role.POST_OFFICER)):
                user = create_user(
                    db,
                    username=name,
                    role=role,
                    post_id="rb-sant-julia" if role == Role.POST_OFFICER else None,
                    actor=None,
                )
                headers[name] = {
                    "Authorization": f"Bearer {issue_token(db, user_id=user.id, actor=None)}"
                }
        client = TestClient(create_app(timers=False))
        seen = now() - timedelta(minutes=30)
        case = client.post(
            "/api/v1/cases",
            headers=headers["ri"],
            json={
                "children": [{"name": "A Child", "age": 7}],
                "network": "andorra",
                "last_known": {
                    "place": "Andorra la Vella",
                    "lat": LAST_KNOWN[0],
                    "lon": LAST_KNOWN[1],
                    "time_earliest": (seen - timedelta(minutes=15)).isoformat(),
                    "time_latest": seen.isoformat(),
                },
            },
        )
        assert case.status_code == 201, case.text
        try:
            yield client, headers, case.json()
        finally:
            set_default_engine(None)
            reset_settings()


def _picture(world: Any, budget: int) -> dict[str, Any]:
    client, headers, case = world
    answer = client.get(
        f"/api/v1/cases/{case['id']}/picture", params={"budget": budget}, headers=headers["ri"]
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_picture_ranks_the_imported_posts_with_the_area(world: Any) -> None:
    picture = _picture(world, 3)
    assert set(picture) == {"at", "posts", "area", "regions"}
    assert datetime.fromisoformat(picture["at"]) <= now()
    assert len(picture["posts"]) == 3
    for post in picture["posts"]:
        assert set(post) == {
            "post_id",
            "probability",
            "eta",
            "reason",
            "alert_probability",
            "gain",
            "why",
        }
        assert post["post_id"] in IMPORTED and 0.0 <= post["probability"] <= 1.0
        why = post["why"]  # the reason as data, beside the English words
        assert why["code"] in {"covers", "ahead"} and why["probability"] == post["probability"]
        assert [r["change"] for r in why["evidence"]] == [d for _, d in why["moved_by"]]
        assert 0.0 <= post["alert_probability"] <= 1.0 and post["gain"] >= 0.0
    gains = [post["gain"] for post in picture["posts"]]
    assert gains == sorted(gains, reverse=True) and gains[0] > 0
    assert picture["posts"][0]["probability"] > 0 and picture["posts"][0]["eta"]
    area = shapely.geometry.shape(picture["area"]["geometry"])
    assert picture["area"]["type"] == "Feature" and area.is_valid
    assert area.contains(shapely.Point(LAST_KNOWN[1], LAST_KNOWN[0]))
    everything = _picture(world, 1000)
    assert {p["post_id"] for p in everything["posts"]} == IMPORTED


def test_regions_are_nested_and_hold_their_probability(world: Any) -> None:
    regions = _picture(world, 3)["regions"]
    assert regions["type"] == "FeatureCollection"
    wide, narrow = regions["features"]
    assert [wide["properties"]["level"], narrow["properties"]["level"]] == [0.9, 0.5]
    shapes = {}
    for region in (wide, narrow):
        props, level = region["properties"], region["properties"]["level"]
        assert set(props) == {"level", "probability", "cells", "area_km2"}
        assert level <= props["probability"] <= 1.0 + 1e-9
        assert props["cells"] >= 1 and props["area_km2"] > 0
        assert region["geometry"]["type"] == "MultiPolygon"
        shape = shapely.geometry.shape(region["geometry"])
        assert shape.is_valid and not shape.is_empty
        shapes[level] = shape
    assert narrow["properties"]["probability"] <= wide["properties"]["probability"]
    assert narrow["properties"]["cells"] <= wide["properties"]["cells"]
    # The 50% region lies inside the 90% one (shared edges are the same vertices, to 0.1 m).
    assert shapes[0.9].buffer(1e-6).contains(shapes[0.5])
    assert shapes[0.9].area > shapes[0.5].area
    # Thirty minutes after, the suspects are likeliest near where the child was last seen.
    assert shapes[0.9].contains(shapely.Point(LAST_KNOWN[1], LAST_KNOWN[0]))


def test_regions_are_the_pictures_most_probable_cells(world: Any) -> None:
    from bolo.cases.picture import cells_of, region_features
    from bolo.cases.service import get_case

    _, _, case = world
    with session_scope() as db:
        cells = cells_of(db, get_case(db, case_id=case["id"], reader=None))
    probability = cells.probability
    assert abs(sum(probability.values()) - 1.0) < 1e-9
    assert set(cells.regions[0.5]) <= set(cells.regions[0.9]) <= set(probability)
    for level, region in cells.regions.items():
        held = [probability[c] for c in region]
        # Most probable first, and the fewest cells: without its last cell it holds too little.
        assert held == sorted(held, reverse=True)
        assert sum(held) >= level > sum(held) - held[-1]
        inside = set(region)
        left_out = [p for c, p in probability.items() if c not in inside]
        assert max(left_out, default=0.0) <= held[-1]
    features = region_features(cells)["features"]
    assert [f["properties"]["cells"] for f in features] == [
        len(cells.regions[0.9]),
        len(cells.regions[0.5]),
    ]
    assert features[1]["properties"]["probability"] == sum(
        probability[c] for c in cells.regions[0.5]
    )


def test_search_report_from_an_imported_post_changes_the_picture(world: Any) -> None:
    client, headers, case = world
    before = {p["post_id"]: p["probability"] for p in _picture(world, 1000)["posts"]}
    # The roadblock on the main road to Spain searched every car since the child was taken.
    report = client.post(
        "/api/v1/reports/searches",
        headers=headers["officer"],
        json={
            "case_id": case["id"],
            "post_id": "rb-sant-julia",
            "from": case["last_seen_earliest"],
            "to": (now() - timedelta(minutes=1)).isoformat(),
            "searched": "every car leaving for Spain",
            "result": "nothing_found",
        },
    )
    assert report.status_code == 201, report.text
    after = {p["post_id"]: p["probability"] for p in _picture(world, 1000)["posts"]}
    assert set(after) == set(before) == IMPORTED
    assert after != before
    assert after["rb-sant-julia"] < before["rb-sant-julia"]
    # The reasons say, as data, that this search moved the posts.
    refs = [ref for p in _picture(world, 1000)["posts"] for ref in p["why"]["evidence"]]
    assert {(r["kind"], r["post_id"]) for r in refs} >= {("search", "rb-sant-julia")}


@pytest.mark.parametrize("budget", ["0", "-1", "1001", "ten", "2.5"])
def test_bad_budget_is_a_422(world: Any, budget: str) -> None:
    client, headers, case = world
    answer = client.get(
        f"/api/v1/cases/{case['id']}/picture?budget={budget}", headers=headers["ri"]
    )
    assert answer.status_code == 422, answer.text
    assert "budget" in answer.text


def test_picture_is_for_staff_and_known_cases(world: Any) -> None:
    client, headers, case = world
    path = f"/api/v1/cases/{case['id']}/picture"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=headers["officer"]).status_code == 403
    assert (
        client.get(f"/api/v1/cases/{case['reference']}/picture", headers=headers["ri"]).status_code
        == 200
    )
    missing = client.get("/api/v1/cases/no-such-case/picture", headers=headers["ri"])
    assert missing.status_code == 404 and "no-such-case" in missing.json()["detail"]


def test_picture_of_a_case_on_a_network_not_imported_is_a_422(sqlite_engine: Engine) -> None:
    from bolo.cases.model import Case, CaseState

    with session_scope(sqlite_engine) as db:
        user = create_user(db, username="ri", role=Role.COORDINATOR, actor=None)
        header = {"Authorization": f"Bearer {issue_token(db, user_id=user.id, actor=None)}"}
        seen = now() - timedelta(hours=1)
        case = Case(
            reference="C-TEST-1",
            state=CaseState.OPEN,
            network="atlantis",
            children=[{"name": "A"}],
            suspects=[],
            vehicles=[],
            narrative="",
            hints=[],
            last_known_place="",
            last_known_lat=1.0,
            last_known_lon=2.0,
            last_seen_earliest=seen,
            last_seen_latest=seen,
            reported_at=seen,
            created_by=user.id,
        )
        db.add(case)
        db.flush()
        case_id = case.id
    answer = TestClient(create_app(timers=False)).get(
        f"/api/v1/cases/{case_id}/picture", headers=header
    )
    assert answer.status_code == 422 and "atlantis" in answer.json()["detail"]


def test_a_post_stored_after_a_picture_is_in_the_next_one_at_once(world: Any) -> None:
    from bolo.clock import FakeClock, use_clock
    from bolo.network.graph import Mode, PostKind
    from bolo.posts.model import Post
    from bolo.posts.schemas import PostIn
    from bolo.posts.service import upsert_post

    new = PostIn(
        id="cp-new", kind=PostKind.CHECKPOINT, name="New", lat=LAST_KNOWN[0], lon=LAST_KNOWN[1]
    )
    # One frozen minute: the picture cache's minute cannot be what makes the answer fresh.
    with use_clock(FakeClock(now().replace(second=5))):
        assert "cp-new" not in {p["post_id"] for p in _picture(world, 1000)["posts"]}
        try:
            with session_scope() as db:
                upsert_post(db, data=new.model_copy(update={"mode": Mode.ROAD}), actor=None)
            assert "cp-new" in {p["post_id"] for p in _picture(world, 1000)["posts"]}
        finally:
            with session_scope() as db:
                db.delete(db.get(Post, "cp-new"))
        assert "cp-new" not in {p["post_id"] for p in _picture(world, 1000)["posts"]}


def test_the_network_is_read_from_disk_once_per_stored_copy(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bolo.network import networks_root, store

    reads: list[str] = []
    load_network = store.load_network

    def counted(root: Any, name: str) -> Any:
        reads.append(name)
        return load_network(root, name)

    monkeypatch.setattr(store, "load_network", counted)
    for budget in (4, 5, 6):  # three rankings the picture cache has not kept
        _picture(world, budget)
    assert len(reads) <= 1
    meta = networks_root() / "andorra" / "meta.json"
    later = meta.stat().st_mtime_ns + 10**9
    os.utime(meta, ns=(later, later))  # as a new import of the network leaves it
    reads.clear()
    for budget in (7, 8):
        _picture(world, budget)
    assert reads == ["andorra"]
