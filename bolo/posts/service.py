"""Posts: create, update, import from a network, look up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolo.audit.service import record
from bolo.errors import NotFound
from bolo.network.graph import Network, NetworkPost
from bolo.posts.model import Post
from bolo.posts.schemas import PostIn


def upsert_post(session: Session, *, data: PostIn, actor_id: str | None) -> Post:
    """Create a post, or update the one with the same id."""
    if data.supervisor_id is not None and session.get(Post, data.supervisor_id) is None:
        raise NotFound(f"no supervisor post {data.supervisor_id}")
    post = session.get(Post, data.id)
    created = post is None
    if post is None:
        post = Post(id=data.id)
        session.add(post)
    post.kind = data.kind.value
    post.name = data.name
    post.lat, post.lon = data.lat, data.lon
    post.mode = data.mode.value
    post.network, post.node, post.region = data.network, data.node, data.region
    post.supervisor_id = data.supervisor_id
    post.channels = [c.model_dump(mode="json", exclude_none=True) for c in data.channels]
    session.flush()
    record(session, actor_id=actor_id, action="post.created" if created else "post.updated",
           entity="post", entity_id=post.id, data={"kind": post.kind,
                                                   "channels": len(post.channels)})
    return post


def import_network_posts(
    session: Session, *, network: Network, posts: Iterable[NetworkPost] | None = None,
    actor_id: str | None,
) -> int:
    """Store a network's posts (same ids), keeping channels already configured; returns count."""
    existing = {p.id: p for p in session.execute(select(Post)).scalars()}
    count = 0
    for np_ in posts if posts is not None else network.posts:
        post = existing.get(np_.post_id)
        if post is None:
            post = Post(id=np_.post_id, channels=[])
            session.add(post)
        post.kind, post.name = np_.kind.value, np_.name
        post.lat, post.lon, post.mode = np_.lat, np_.lon, np_.mode.value
        post.network, post.node = network.name, np_.node
        count += 1
    session.flush()
    record(session, actor_id=actor_id, action="post.imported", entity="network",
           entity_id=network.name, data={"posts": count})
    return count


def get_post(session: Session, *, post_id: str) -> Post:
    """The post with this id, or NotFound."""
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(f"no post {post_id}")
    return post


def list_posts(session: Session, *, ids: Sequence[str] | None = None) -> list[Post]:
    """Every active post (or those with the given ids), by id."""
    stmt = select(Post).where(Post.active.is_(True)).order_by(Post.id)
    if ids is not None:
        stmt = stmt.where(Post.id.in_(list(ids)))
    return list(session.execute(stmt).scalars())
