"""Finding posts among thousands: text, region, kind, a map box and silence, in SQL, a page at
a time (the console's post picker and posts page; never the whole table into a page)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from bolo.posts.model import Post

MAX_PAGE = 500


@dataclass(frozen=True)
class PostFilter:
    """What to look for. ``text`` matches id or name (case-insensitive, anywhere); ``bbox`` is
    (south, west, north, east) in WGS84 degrees; ``silent_before`` keeps posts whose last
    heartbeat is older than that time, or missing."""

    text: str = ""
    region: str = ""
    kinds: Sequence[str] = field(default_factory=tuple)
    bbox: tuple[float, float, float, float] | None = None
    silent_before: datetime | None = None
    exclude_kinds: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class PostPage:
    """One page of matching posts (by id) and how many match in all."""

    posts: list[Post]
    total: int


def _conditions(wanted: PostFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Post.active.is_(True)]
    text = wanted.text.strip().lower()
    if text:
        # LIKE's own wildcards in the text are matched literally.
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            or_(
                func.lower(Post.id).like(pattern, escape="\\"),
                func.lower(Post.name).like(pattern, escape="\\"),
            )
        )
    if wanted.region:
        conditions.append(Post.region == wanted.region)
    if wanted.kinds:
        conditions.append(Post.kind.in_(list(wanted.kinds)))
    if wanted.exclude_kinds:
        conditions.append(Post.kind.not_in(list(wanted.exclude_kinds)))
    if wanted.bbox is not None:
        south, west, north, east = wanted.bbox
        conditions += [Post.lat.between(south, north), Post.lon.between(west, east)]
    if wanted.silent_before is not None:
        conditions.append(
            or_(Post.heartbeat_at.is_(None), Post.heartbeat_at < wanted.silent_before)
        )
    return conditions


def find_posts(
    session: Session, wanted: PostFilter, *, limit: int = 50, offset: int = 0
) -> PostPage:
    """The active posts matching ``wanted``, ``limit`` (at most MAX_PAGE) from ``offset``, by
    id, and the count of all matches."""
    limit = max(1, min(limit, MAX_PAGE))
    conditions = _conditions(wanted)
    total = session.execute(select(func.count()).select_from(Post).where(*conditions)).scalar_one()
    rows = session.execute(
        select(Post).where(*conditions).order_by(Post.id).limit(limit).offset(max(0, offset))
    ).scalars()
    return PostPage(list(rows), total)


def regions(session: Session) -> list[str]:
    """The regions the active posts name, sorted."""
    stmt = (
        select(Post.region)
        .where(Post.active.is_(True), Post.region.is_not(None))
        .distinct()
        .order_by(Post.region)
    )
    return [r for r in session.execute(stmt).scalars() if r]


def kinds(session: Session) -> list[str]:
    """The kinds of the active posts, sorted."""
    stmt = select(Post.kind).where(Post.active.is_(True)).distinct().order_by(Post.kind)
    return list(session.execute(stmt).scalars())
