"""The stored posts' version (the search picture's cache key) moves with every change the
picture can see, made by any statement (ORM, Core, bulk), on SQLite and PostgreSQL, and stays
while posts only beat or change channels."""

from __future__ import annotations

import importlib

from sqlalchemy import Engine, delete, insert, inspect, update

from bolo.clock import now
from bolo.posts.model import Post, PostsVersion
from bolo.posts.placing import posts_version
from bolo.store.db import session_scope
from tests.store.migrate import alembic


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


def test_the_triggers_watch_the_columns_the_picture_reads() -> None:
    # The migration names the columns its update trigger watches; the picture reads StoredPost's.
    from dataclasses import fields

    from bolo.posts.placing import StoredPost

    spec = importlib.import_module("bolo.store.migrations.versions.0018_posts_version")
    watched = {c.strip() for c in spec.PICTURE_COLUMNS.split(",")}
    assert watched == {f.name for f in fields(StoredPost)}


def test_the_migration_downgrades_and_upgrades_again(db_engine: Engine) -> None:
    # Down to 0017 the counter and its triggers are gone (posts are still written: no trigger
    # is left naming a missing table); upgraded again, the counter moves as before.
    alembic(db_engine, "downgrade", "0017_report_clusters")
    assert "posts_version" not in inspect(db_engine).get_table_names()
    with db_engine.begin() as conn:
        conn.execute(insert(Post).values(**_post("a"), mode="road", active=True))
    alembic(db_engine, "upgrade", "heads")
    first = _version(db_engine)
    with session_scope(db_engine) as s:
        s.execute(update(Post).where(Post.id == "a").values(name="renamed"))
    assert _version(db_engine) != first
