"""The stored posts on a network: which posts a case's search picture ranks and hears from.

A network carries the posts its import found (OSM checkpoints, stations, patrol points); the
organisation's own posts live in the database. The picture of a case on network N uses both:
the network's posts, then every active stored post of network N or of no network that lies
within the snapping distance of a node of its mode. A stored post with a network post's id
replaces it (the database is what operators edit); an inactive one removes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolo.errors import InvalidInput, NotFound
from bolo.network.build import haversine_m
from bolo.network.graph import Mode, Network, NetworkPost, PostKind
from bolo.network.posts import DEFAULT_MAX_SNAP_METRES, place_post, with_posts
from bolo.posts.model import Post


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
    stmt = select(Post.id, Post.kind, Post.name, Post.lat, Post.lon, Post.mode, Post.network,
                  Post.node, Post.active).order_by(Post.id)
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
    return float(haversine_m(post.lat, post.lon, network.node_lat[node],
                             network.node_lon[node])) <= DEFAULT_MAX_SNAP_METRES


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
        return place_post(network, post_id=post.id, kind=kind, lat=post.lat, lon=post.lon,
                          mode=mode, name=post.name, max_metres=DEFAULT_MAX_SNAP_METRES)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def picture_posts(network: Network, stored: list[StoredPost]) -> list[NetworkPost]:
    """The posts of ``network``'s search picture: the network's own, in their order, each
    replaced by the stored post of the same id (or dropped when that one cannot take part),
    then the other stored posts that can, by id."""
    own = {p.post_id: i for i, p in enumerate(network.posts)}
    slots: list[NetworkPost | None] = list(network.posts)
    extra: list[NetworkPost] = []
    for post in stored:
        if post.network not in (None, network.name):
            continue  # another network's post, even if it shares an id with one of ours
        if post.network is None and post.id in own and post.active:
            continue  # an unplaced copy of our own post (e.g. added by hand): keep ours
        try:
            placed: NetworkPost | None = place_stored(network, post)
        except ValueError:
            placed = None
        if post.id in own:
            slots[own[post.id]] = placed
        elif placed is not None:
            extra.append(placed)
    return [p for p in slots if p is not None] + extra


def network_with_posts(session: Session, network: Network) -> Network:
    """``network`` (arrays shared) whose posts are those of its search picture."""
    return with_posts(network, picture_posts(network, stored_posts(session)))


def check_in_picture(session: Session, network: Network, post_id: str) -> None:
    """Raise InvalidInput (422) saying why, unless post ``post_id`` takes part in the search
    picture of ``network`` (see picture_posts)."""
    found = stored_posts(session, ids=[post_id])
    if not found:
        raise NotFound(f"no post {post_id!r}")
    if any(p.post_id == post_id for p in picture_posts(network, found)):
        return
    try:
        place_stored(network, found[0])
    except ValueError as exc:
        raise InvalidInput(f"{exc}; its search reports cannot count for this case") from None
    raise InvalidInput(f"post {post_id!r} is not in the search picture of network "
                       f"{network.name!r}")
