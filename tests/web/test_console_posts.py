"""The console's posts page, one post's channels (never a secret) and the drafting page's post
picker, with thousands of posts filtered in the database."""

from __future__ import annotations

import re

from sqlalchemy import Engine, insert

from bolo.posts.model import Post
from bolo.store.db import session_scope
from tests.security.factories import World
from tests.web.conftest import ClientFor

N = 3000
SECRET = "whsec_" + "A" * 43
TOKEN = "tok3n-in-the-query"


def _many_posts(engine: Engine) -> None:
    """N posts in four regions; every tenth public; one with a channel full of secrets."""
    rows = [
        {
            "id": f"mp-{i:04d}",
            "kind": "public" if i % 10 == 0 else "checkpoint",
            "name": f"Many post {i:04d}",
            "lat": 38.0 + (i % 100) / 50,
            "lon": 125.0 + i / 1500,
            "mode": "road",
            "region": f"region-{i % 4}",
            "channels": [],
            "active": True,
        }
        for i in range(N)
    ]
    rows[7]["channels"] = [
        {
            "kind": "webhook",
            "url": f"https://hook-user:hook-pass@hooks.example.org:8443/p/7?t={TOKEN}",
            "secret": SECRET,
        },
        {"kind": "apprise", "url": "tgram://123456:bot-token-secret/987"},
    ]
    with session_scope(engine) as db:
        db.execute(insert(Post), rows)


def test_posts_page_filters_and_pages_in_the_database(
    sqlite_engine: Engine, client_for: ClientFor
) -> None:
    _many_posts(sqlite_engine)
    viewer = client_for("viewer")
    first = viewer.get("/console/posts")
    assert first.status_code == 200
    assert f"{N + 2} posts match; page 1 of 61" in first.text
    assert first.text.count('href="/console/posts/') == 50
    assert 'href="?page=2"' in first.text
    last = viewer.get("/console/posts", params={"page": 61})
    assert last.text.count('href="/console/posts/') == 2 and 'href="?page=60"' in last.text
    region = viewer.get(
        "/console/posts", params={"region": "region-1", "kind": "checkpoint", "q": "post 00"}
    )
    # "post 00" matches mp-0000..mp-0099: 25 in region-1, all checkpoints (odd ids)
    assert "25 posts match" in region.text and "Many post 0001" in region.text
    silent = viewer.get("/console/posts", params={"silent": "true", "q": "mp-2999"})
    assert "1 post matches" in silent.text
    assert viewer.get("/console/posts", params={"page": 0}).status_code == 422


def test_a_posts_channels_are_shown_without_secrets(
    sqlite_engine: Engine, client_for: ClientFor
) -> None:
    _many_posts(sqlite_engine)
    admin = client_for("admin").get("/console/posts/mp-0007")
    assert admin.status_code == 200
    assert "https://hooks.example.org:8443" in admin.text and "tgram://..." in admin.text
    for secret in (SECRET, TOKEN, "hook-pass", "hook-user", "bot-token-secret", "/p/7"):
        assert secret not in admin.text
    assert re.search(r"<td>webhook</td>.*?<td>set</td>", admin.text, re.S)
    viewer = client_for("viewer").get("/console/posts/mp-0007")
    assert "hooks.example.org" not in viewer.text and "restricted" in viewer.text
    assert client_for("viewer").get("/console/posts/no-such-post").status_code == 404


def test_the_picker_asks_the_database_not_the_page(
    sqlite_engine: Engine, client_for: ClientFor, world: World
) -> None:
    _many_posts(sqlite_engine)
    coordinator = client_for("coordinator")
    found = coordinator.get("/console/picker/posts.json", params={"q": "many post 01"}).json()
    assert found["total"] == 100 and len(found["posts"]) == 50
    exercise = coordinator.get(
        "/console/picker/posts.json",
        params={"q": "many post 01", "status": "Exercise", "limit": 500},
    ).json()
    assert exercise["total"] == 90 and all(p["kind"] != "public" for p in exercise["posts"])
    korean = coordinator.get(
        "/console/picker/posts.json",
        params={"q": "many post 01"},
        headers={"Accept-Language": "ko"},
    ).json()
    words = {p["kind"]: p["kind_word"] for p in korean["posts"]}
    assert words and all(w and not w.isascii() for w in words.values()), words
    boxed = coordinator.get(
        "/console/picker/posts.json",
        params={"bbox": "38.0,125.0,38.5,125.1", "region": "region-2", "limit": 500},
    ).json()
    assert boxed["total"] > 0
    assert all(
        38.0 <= p["lat"] <= 38.5 and p["lon"] <= 125.1 and p["region"] == "region-2"
        for p in boxed["posts"]
    )
    bad = coordinator.get("/console/picker/posts.json", params={"bbox": "north"})
    assert bad.status_code == 422 and "south,west,north,east" in bad.text
    form = coordinator.get(f"/console/cases/{world.case_id}/alerts/new")
    assert form.status_code == 200
    # Only the ranked and chosen posts are in the page, never the whole list.
    assert form.text.count('name="post"') <= 25
