"""The stored posts' version (the search picture's cache key) moves with every change the
picture can see, made by any statement (ORM, Core, bulk), on SQLite and PostgreSQL, and stays
while posts only beat or change channels."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, update

from bolo.clock import now
from bolo.posts.model import Post, PostsVersion
from bolo.posts.placing import posts_version
from bolo.store.db import session_scope


def _version(engine: Engine) -> str:
    with session_scope(engine) as s:
        return posts_version(s)


def _post(post_id: str) -> dict[str, object]:
    return {"id": post_id, "kind": "checkpoint", "name": post_id, "lat": 42.5, "lon": 1.5}


def test_every_change_the_picture_sees_moves_the_version(db_engine: Engine) -> None:
    seen = [_version(db_engine)]

    def changed(statement: object) -> None:
        with session_scope(db_engine) as s:
            s.execute(statement)  # type: ignore[call-overload]
        seen.append(_version(db_engine))
        assert seen[-1] != seen[-2], statement

    with session_scope(db_engine) as s:
        s.add(Post(**_post("a")))
    seen.append(_version(db_engine))
    assert seen[-1] != seen[0]
    changed(insert(Post).values([_post("b"), _post("c")]))
    changed(update(Post).where(Post.id == "a").values(lat=42.51))
    changed(update(Post).where(Post.id == "b").values(active=False))
    changed(update(Post).where(Post.id == "c").values(network="andorra", node=7))
    changed(delete(Post).where(Post.id == "c"))
    assert len(set(seen)) == len(seen)


def test_heartbeats_and_channels_leave_the_version(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        s.add(Post(**_post("a")))
    before = _version(db_engine)
    with session_scope(db_engine) as s:
        s.execute(update(Post).values(heartbeat_at=now()))
        s.execute(update(Post).values(channels=[{"kind": "webhook", "url": "https://x.test/"}]))
    assert _version(db_engine) == before


def test_without_its_row_the_version_is_a_digest_of_the_posts(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        s.execute(delete(PostsVersion))
        s.add(Post(**_post("a")))
    first = _version(db_engine)
    with session_scope(db_engine) as s:
        s.execute(update(Post).where(Post.id == "a").values(lon=1.51))
    assert _version(db_engine) != first
