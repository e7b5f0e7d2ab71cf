"""Posts: create, update, import from a network or the organisation's list, look up."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolo.audit.service import record
from bolo.auth.model import Role, User
from bolo.auth.service import require_actor_role
from bolo.errors import BoloError, InvalidInput, NotFound
from bolo.network.graph import Network, NetworkPost, PostKind
from bolo.paging import Keyset, PageRequest
from bolo.posts.files import PostImportError, Problem, Row
from bolo.posts.model import Post
from bolo.posts.schemas import PostIn
from bolo.security.urls import check_channel_url

# Who registers or changes posts one by one; who imports a whole file of them.
MANAGERS = (Role.COORDINATOR, Role.SUPERVISOR)
IMPORTERS = (Role.ADMIN,)


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
            select(Post.id).where(Post.supervisor_id == data.id).limit(1)
        ).first()
        if supervised is not None:
            raise InvalidInput(
                f"post {data.id} supervises {supervised}: a supervisor cannot be public"
            )


def upsert_post(session: Session, *, data: PostIn, actor: User | None) -> Post:
    """Create a post, or update the one with the same id (``actor``: a coordinator or
    supervisor; None: the local operator). Refuses a channel URL the SSRF guard refuses
    (UnsafeUrl, 403), an unknown supervisor (404) and a public post as a supervisor (422),
    whoever registers it (API, CLI, import)."""
    require_actor_role(actor, *MANAGERS)
    _check_supervision(session, data)
    for channel in data.channels:
        check_channel_url(channel.kind.value, channel.url)
    post = session.get(Post, data.id)
    created = post is None
    if post is None:
        post = Post(id=data.id)
        session.add(post)
    _apply(post, data, STORED_FIELDS)
    session.flush()
    record(
        session,
        actor_id=actor.id if actor else None,
        action="post.created" if created else "post.updated",
        entity="post",
        entity_id=post.id,
        data={"kind": post.kind, "channels": len(post.channels)},
    )
    return post


STORED_FIELDS = (
    "kind",
    "name",
    "lat",
    "lon",
    "mode",
    "network",
    "node",
    "region",
    "supervisor_id",
    "language",
    "channels",
)


def _apply(post: Post, data: PostIn, fields: Collection[str]) -> None:
    """Copy ``fields`` of ``data`` onto the stored ``post`` (enums as their values, channels
    as stored JSON)."""
    for field in fields:
        value: Any = getattr(data, field)
        if field == "channels":
            value = [c.model_dump(mode="json", exclude_none=True) for c in data.channels]
        elif isinstance(value, Enum):
            value = value.value
        setattr(post, field, value)


def _stored_kinds(session: Session, ids: Collection[str]) -> dict[str, str]:
    """Post id -> kind of the stored posts among ``ids``."""
    found: dict[str, str] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), 500):
        found.update(
            (post_id, kind)
            for post_id, kind in session.execute(
                select(Post.id, Post.kind).where(Post.id.in_(wanted[start : start + 500]))
            )
        )
    return found


def _supervision_problems(session: Session, rows: Sequence[Row], word: str) -> list[Problem]:
    """Every supervisor named must be a post of the file or a stored one, and not public."""
    kinds = {r.post.id: r.post.kind.value for r in rows}
    named = {r.post.supervisor_id for r in rows if r.post.supervisor_id} - set(kinds)
    kinds = _stored_kinds(session, named) | kinds
    problems = []
    for row in rows:
        boss = row.post.supervisor_id
        if boss is None or "supervisor_id" not in row.given:
            continue
        column = "supervisor" if word == "column" else "supervisor_id"
        if boss == row.post.id:
            problems.append(Problem(row.line, column, "a post cannot supervise itself", word))
        elif boss not in kinds:
            problems.append(
                Problem(row.line, column, f"no post {boss!r} in the file or stored", word)
            )
        elif kinds[boss] == PostKind.PUBLIC:
            problems.append(
                Problem(
                    row.line, column, f"post {boss!r} is public: it cannot be a supervisor", word
                )
            )
    # A stored post keeps its supervisor unless the file gives it one.
    public = {r.post.id: r.line for r in rows if r.post.kind == PostKind.PUBLIC}
    reassigned = [r.post.id for r in rows if "supervisor_id" in r.given]
    for post_id, boss in session.execute(
        select(Post.id, Post.supervisor_id).where(
            Post.supervisor_id.in_(list(public)), Post.id.not_in(reassigned)
        )
    ):
        problems.append(
            Problem(
                public[str(boss)],
                "kind",
                f"post {post_id!r} is supervised by {boss!r}: a supervisor cannot be public",
                word,
            )
        )
    return problems


def _channel_problems(rows: Sequence[Row], word: str) -> list[Problem]:
    """Every channel URL must pass the SSRF guard (bolo.security.urls.check_channel_url)."""
    problems = []
    for row in rows:
        for channel, column in zip(row.post.channels, row.channel_columns, strict=True):
            try:
                check_channel_url(channel.kind.value, channel.url)
            except BoloError as exc:
                problems.append(Problem(row.line, column, exc.message, word))
    return problems


def import_posts(
    session: Session,
    *,
    rows: Sequence[Row],
    network: str,
    source: str,
    problems: Sequence[Problem] = (),
    word: str = "column",
    actor: User | None,
) -> dict[str, int]:
    """Store the good rows of a posts file (``bolo.posts.files.read_posts``) all at once: new
    posts are created, stored ones updated in the fields the file gives (the others kept), and
    every one made active. PostImportError naming every problem (``problems`` found reading
    the file, each bad supervisor or channel URL), with nothing stored. Returns ``{"posts",
    "created", "updated"}``. ``actor``: an admin (None: the local operator)."""
    require_actor_role(actor, *IMPORTERS)
    problems = [
        *problems,
        *_supervision_problems(session, rows, word),
        *_channel_problems(rows, word),
    ]
    if problems:
        raise PostImportError(source, problems)
    ids = [r.post.id for r in rows]
    stored: dict[str, Post] = {}
    for start in range(0, len(ids), 500):
        stored.update(
            (p.id, p)
            for p in session.scalars(select(Post).where(Post.id.in_(ids[start : start + 500])))
        )
    created = 0
    for row in rows:
        post = stored.get(row.post.id)
        if post is None:
            post = stored[row.post.id] = Post(id=row.post.id, channels=[])
            session.add(post)
            created += 1
        _apply(post, row.post, row.given & set(STORED_FIELDS) - {"supervisor_id"})
        post.active = True
    # Supervisors once every post exists: one may name a post further down the file.
    session.flush()
    for row in rows:
        if "supervisor_id" in row.given:
            stored[row.post.id].supervisor_id = row.post.supervisor_id
    session.flush()
    counts = {"posts": len(rows), "created": created, "updated": len(rows) - created}
    record(
        session,
        actor_id=actor.id if actor else None,
        action="post.imported",
        entity="network",
        entity_id=network,
        data=counts,
    )
    return counts


def import_network_posts(
    session: Session,
    *,
    network: Network,
    posts: Iterable[NetworkPost] | None = None,
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
    record(
        session,
        actor_id=actor_id,
        action="post.imported",
        entity="network",
        entity_id=network.name,
        data={"posts": count},
    )
    return count


def get_post(session: Session, *, post_id: str) -> Post:
    """The post with this id, or NotFound."""
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(f"no post {post_id}")
    return post


POST_ORDER = Keyset((Post.id,), descending=False)


def list_posts(
    session: Session,
    *,
    ids: Sequence[str] | None = None,
    network: str | None = None,
    page: PageRequest | None = None,
) -> list[Post]:
    """Every active post (or those with the given ids, or of ``network``), by id; with
    ``page``, one page of them (plus one row telling whether more follow, see bolo.paging)."""
    stmt = select(Post).where(Post.active.is_(True))
    if ids is not None:
        stmt = stmt.where(Post.id.in_(list(ids)))
    if network is not None:
        stmt = stmt.where(Post.network == network)
    return list(session.execute(POST_ORDER.apply(stmt, page)).scalars())
