"""Posts: create, update, import from a network, look up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolo.audit.service import record
from bolo.errors import InvalidInput, NotFound
from bolo.network.graph import Network, NetworkPost, PostKind
from bolo.posts.model import Post
from bolo.posts.schemas import PostIn
from bolo.security.urls import check_channel_url


def _check_supervision(session: Session, data: PostIn) -> None:
    """A public post (a sign, a feed reader) supervises nobody: escalation sends a silent post's
    alerts to its supervisor, and Exercise or Test alerts must never reach the public."""
    if data.supervisor_id is not None:
        supervisor = session.get(Post, data.supervisor_id)
        if supervisor is None:
            raise NotFound(f"no supervisor post {data.supervisor_id}")
        if supervisor.kind == PostKind.PUBLIC:
            raise InvalidInput(f"post {supervisor.id} is public: it cannot be a supervisor")
    if data.kind == PostKind.PUBLIC:
        supervised = session.scalars(
            select(Post.id).where(Post.supervisor_id == data.id).limit(1)).first()
        if supervised is not None:
            raise InvalidInput(f"post {data.id} supervises {supervised}: a supervisor "
                               "cannot be public")


def upsert_post(session: Session, *, data: PostIn, actor_id: str | None) -> Post:
    """Create a post, or update the one with the same id. Refuses a channel URL the SSRF guard
    refuses (UnsafeUrl, 403), an unknown supervisor (404) and a public post as a supervisor
    (422), whoever registers it (API, CLI, import)."""
    _check_supervision(session, data)
    for channel in data.channels:
        check_channel_url(channel.kind.value, channel.url)
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
