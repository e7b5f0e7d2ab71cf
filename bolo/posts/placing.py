"""The stored posts on a network: which posts a case's search picture ranks and hears from.

A network carries the posts its import found (OSM checkpoints, stations, patrol candidates);
the organisation's own posts, the ones alerts can reach, are rows of the database. The picture
of a case on network N ranks the posts that can be alerted: every active stored post of network
N, or of no network, that lies within the snapping distance of a node of its mode (public posts
are not places). Only while no stored post is on the network does it rank the network's own
posts, so that a freshly imported network can be explored before any post is stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolo.errors import InvalidInput, NotFound
from bolo.network.build import haversine_m
from bolo.network.graph import Mode, Network, NetworkPost, PostKind
from bolo.network.posts import DEFAULT_MAX_SNAP_METRES, place_post, with_posts
from bolo.posts.model import Post, PostsVersion
from bolo.settings import get_settings


@dataclass(frozen=True)
class StoredPost:
    """The columns of a stored post the picture needs."""

    id: str
    kind: str
    name: str
    lat: float
    lon: float
    mode: str
    network: str | None
    node: int | None
    active: bool


def stored_posts(session: Session, *, ids: list[str] | None = None) -> list[StoredPost]:
    """Stored posts (all, or those with ``ids``) as StoredPost, by id; channels are not read."""
    stmt = select(
        Post.id,
        Post.kind,
        Post.name,
        Post.lat,
        Post.lon,
        Post.mode,
        Post.network,
        Post.node,
        Post.active,
    ).order_by(Post.id)
    if ids is not None:
        stmt = stmt.where(Post.id.in_(ids))
    return [StoredPost(*row) for row in session.execute(stmt)]


def _stored_node_fits(network: Network, post: StoredPost, mode: Mode) -> bool:
    """The node recorded at import still belongs to this network's build: in range, of the
    post's mode and near the post (a re-imported extract numbers its nodes anew)."""
    node = post.node
    if post.network != network.name or node is None or not 0 <= node < network.n_nodes:
        return False
    if not network.node_has_mode(mode)[node]:
        return False
    return (
        float(haversine_m(post.lat, post.lon, network.node_lat[node], network.node_lon[node]))
        <= DEFAULT_MAX_SNAP_METRES
    )


def place_stored(network: Network, post: StoredPost) -> NetworkPost:
    """The stored post as a post of ``network`` (its recorded node when still valid, else
    snapped anew). ValueError saying why when it cannot take part in the picture."""
    where = f"post {post.id!r} is not in the search picture of network {network.name!r}"
    if not post.active:
        raise ValueError(f"{where}: it is inactive")
    if post.kind == PostKind.PUBLIC:
        raise ValueError(f"{where}: a public post is not a place on the network")
    if post.network not in (None, network.name):
        raise ValueError(f"{where}: it belongs to network {post.network!r}")
    try:
        kind, mode = PostKind(post.kind), Mode(post.mode)
    except ValueError:
        raise ValueError(f"{where}: unknown kind {post.kind!r} or mode {post.mode!r}") from None
    if _stored_node_fits(network, post, mode):
        assert post.node is not None
        return NetworkPost(post.id, kind, post.name, post.lat, post.lon, mode, post.node)
    try:
        return place_post(
            network,
            post_id=post.id,
            kind=kind,
            lat=post.lat,
            lon=post.lon,
            mode=mode,
            name=post.name,
            max_metres=DEFAULT_MAX_SNAP_METRES,
        )
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def picture_posts(network: Network, stored: list[StoredPost]) -> list[NetworkPost]:
    """The posts of ``network``'s search picture, by id: the stored posts that can take part
    (``place_stored``), or the network's own posts while no stored post can."""
    placed = []
    for post in stored:
        try:
            placed.append(place_stored(network, post))
        except ValueError:
            continue
    return placed or list(network.posts)


def network_with_posts(
    session: Session, network: Network, *, stored: list[StoredPost] | None = None
) -> Network:
    """``network`` (arrays shared) whose posts are those of its search picture, each watching
    its catchment (setting ``post_catchment_metres``); ``stored``: the stored posts when the
    caller has read them already (``stored_posts``)."""
    return with_posts(
        network,
        picture_posts(network, stored_posts(session) if stored is None else stored),
        catchment_metres=get_settings().post_catchment_metres,
    )


def posts_version(session: Session) -> str:
    """A version of the stored posts and of the catchment setting: it changes with every post
    added, removed, moved, renamed or switched on or off (the counter of ``posts_version``,
    which database triggers bump; one row to read, however many posts are stored)."""
    counter = session.execute(select(PostsVersion.version).where(PostsVersion.id == 1)).scalar()
    if counter is None:  # the row was removed by hand: a digest of every stored post
        digest = hashlib.sha256(repr(stored_posts(session)).encode("utf-8"))
        return f"d{digest.hexdigest()[:16]}-{get_settings().post_catchment_metres!r}"
    return f"{counter}-{get_settings().post_catchment_metres!r}"


def check_in_picture(session: Session, network: Network, post_id: str) -> None:
    """Raise InvalidInput (422) saying why, unless stored post ``post_id`` takes part in the
    search picture of ``network`` (see picture_posts); NotFound when there is no such post."""
    found = stored_posts(session, ids=[post_id])
    if not found:
        raise NotFound(f"no post {post_id!r}")
    try:
        place_stored(network, found[0])
    except ValueError as exc:
        raise InvalidInput(f"{exc}; its search reports cannot count for this case") from None
