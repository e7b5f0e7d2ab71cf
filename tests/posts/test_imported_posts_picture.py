"""Posts imported from the organisation's own list take part in the case's search picture like
the network's own posts: ranked, and accepted in search reports, which move the picture; a
search report from a post the picture does not know is refused with a clear 422."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from bolo.api import create_app
from bolo.auth.model import Role
from bolo.auth.service import create_user, issue_token
from bolo.cli import app as cli_app
from bolo.clock import now
from bolo.network import Network
from bolo.posts.model import Post
from bolo.store.db import session_scope
from tests.posts.conftest import ANDORRA_POSTS

PASSWORD = "correct horse battery staple 7"
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
# Andorra la Vella, the capital, on the main road between Spain and France.
LAST_KNOWN = (42.5063, 1.5218)


def _import_posts() -> None:
    result = CliRunner().invoke(
        cli_app, ["post", "import", str(ANDORRA_POSTS), "--network", "andorra"]
    )
    assert result.exit_code == 0, result.output


def _case_body(minutes_ago: float = 30.0) -> dict[str, Any]:
    seen = now() - timedelta(minutes=minutes_ago)
    return {
        "children": [{"name": "A Child", "age": 7}],
        "network": "andorra",
        "last_known": {
            "place": "Andorra la Vella",
            "lat": LAST_KNOWN[0],
            "lon": LAST_KNOWN[1],
            "time_earliest": (seen - timedelta(minutes=15)).isoformat(),
            "time_latest": seen.isoformat(),
        },
    }


@pytest.fixture()
def http(sqlite_engine: Engine, andorra: Network) -> tuple[TestClient, dict[str, str]]:
    """A client signed in to the console as a coordinator, and that coordinator's API header."""
    with session_scope(sqlite_engine) as db:
        user = create_user(db, username="ri", role=Role.COORDINATOR, password=PASSWORD, actor=None)
        header = {"Authorization": f"Bearer {issue_token(db, user_id=user.id, actor=None)}"}
    client = TestClient(create_app(timers=False), raise_server_exceptions=False)
    signed = client.post(
        "/login", data={"username": "ri", "password": PASSWORD}, follow_redirects=False
    )
    assert signed.status_code == 303, signed.text
    return client, header


def _search(case_id: str, post_id: str, minutes: float = 45.0) -> dict[str, Any]:
    start = now() - timedelta(minutes=minutes)
    return {
        "case_id": case_id,
        "post_id": post_id,
        "from": start.isoformat(),
        "to": (now() - timedelta(minutes=1)).isoformat(),
        "searched": "every car leaving the valley",
        "result": "nothing_found",
    }


def _case_searched_by(http: tuple[TestClient, dict[str, str]], post_id: str) -> str:
    """Import the posts, open a case and file a search report from ``post_id``: the case id."""
    client, header = http
    _import_posts()
    case_id: str = client.post("/api/v1/cases", json=_case_body(), headers=header).json()["id"]
    report = client.post("/api/v1/reports/searches", json=_search(case_id, post_id), headers=header)
    assert report.status_code == 201, report.text
    return case_id


def test_imported_posts_are_ranked_in_the_picture(
    http: tuple[TestClient, dict[str, str]], andorra: Network
) -> None:
    from bolo.cases.service import get_case
    from bolo.web.pictures import recommendations

    client, header = http
    case_id = client.post("/api/v1/cases", json=_case_body(), headers=header).json()["id"]
    budget = len(andorra.posts) + len(IMPORTED)
    with session_scope() as db:
        before = recommendations(db, get_case(db, case_id=case_id, reader=None), budget=budget)
    # No post stored yet: the network's own posts (from the OSM import) are explored.
    assert {r["post_id"] for r in before} == {p.post_id for p in andorra.posts}
    _import_posts()
    case_id = client.post("/api/v1/cases", json=_case_body(), headers=header).json()["id"]
    with session_scope() as db:
        ranked = recommendations(db, get_case(db, case_id=case_id, reader=None), budget=budget)
    # The organisation's posts, the ones an alert can reach, are the ones ranked.
    assert sorted(r["post_id"] for r in ranked) == sorted(IMPORTED)


def test_search_report_from_an_imported_post_keeps_the_case_pages(
    http: tuple[TestClient, dict[str, str]],
) -> None:
    client = http[0]
    case_id = _case_searched_by(http, "rb-santa-coloma")
    for path in (
        f"/console/cases/{case_id}/map.json",
        f"/console/cases/{case_id}/alerts/new",
        f"/console/cases/{case_id}",
    ):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("where", ["other network", "too far", "public"])
def test_search_report_from_a_post_the_picture_does_not_know_is_422(
    http: tuple[TestClient, dict[str, str]], where: str
) -> None:
    client, header = http
    case_id = client.post("/api/v1/cases", json=_case_body(), headers=header).json()["id"]
    post: dict[str, Any] = {
        "id": "elsewhere",
        "kind": "checkpoint",
        "name": "Elsewhere",
        "lat": 42.51,
        "lon": 1.53,
    }
    if where == "other network":
        post["network"] = "dprk"
        post["lat"], post["lon"] = 39.2068, 126.2039
    elif where == "too far":
        post["lat"], post["lon"] = 43.6, 1.44  # Toulouse, off the Andorra extract
    else:
        post["kind"] = "public"
    with session_scope() as db:
        db.add(Post(**post, channels=[]))
    answer = client.post(
        "/api/v1/reports/searches", json=_search(case_id, "elsewhere"), headers=header
    )
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert "elsewhere" in detail and "andorra" in detail
    assert client.get(f"/console/cases/{case_id}/map.json").status_code == 200


def test_old_search_report_from_a_post_since_removed_does_not_break_the_pages(
    http: tuple[TestClient, dict[str, str]],
) -> None:
    client = http[0]
    case_id = _case_searched_by(http, "rb-encamp")
    with session_scope() as db:
        post = db.get(Post, "rb-encamp")
        assert post is not None
        post.active = False
    for path in (f"/console/cases/{case_id}/map.json", f"/console/cases/{case_id}/alerts/new"):
        assert client.get(path).status_code == 200, path
