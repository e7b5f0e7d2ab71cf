"""The console's posts: a filtered, paged list with heartbeats, one post with its channels
(never a secret), and the JSON behind the drafting page's post picker."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from bolo import i18n
from bolo.auth.deps import DB
from bolo.auth.model import Role, User
from bolo.clock import now
from bolo.dispatch.config import dispatch_settings
from bolo.dispatch.heartbeat import SLOW_FACTOR, heartbeat_state
from bolo.errors import InvalidInput
from bolo.network import PostKind
from bolo.posts.model import Post
from bolo.posts.query import MAX_PAGE, PostFilter, find_posts, kinds, regions
from bolo.posts.service import get_post
from bolo.web.auth import PageUser
from bolo.web.console import base_context
from bolo.web.templating import page, page_language
from bolo.web.words import word

router = APIRouter(prefix="/console", include_in_schema=False)
PAGE_SIZE = 50
# Who sees where a channel points (scheme and host); everyone else sees its kind only.
CHANNEL_READERS = (Role.ADMIN, Role.COORDINATOR, Role.SUPERVISOR)
# Schemes whose host part names a server, not a token (Apprise puts tokens there).
HOST_SCHEMES = frozenset(
    {"http", "https", "json", "jsons", "xml", "xmls", "form", "forms", "mqtt", "mqtts", "ws", "wss"}
)
Text = Annotated[str, Query(max_length=200)]


def channel_view(channel: dict[str, Any], user: User) -> dict[str, Any]:
    """A channel as ``user`` may see it: its kind, whether it has a signing secret, and for
    the roles that manage posts the scheme and host it points at. Never the secret, the
    user name or password, the path or the query of its URL (tokens live there)."""
    view = {
        "kind": str(channel.get("kind", "")),
        "has_secret": bool(channel.get("secret")),
        "where": None,
    }
    if user.role in CHANNEL_READERS:
        parts = urlsplit(str(channel.get("url", "")))
        scheme = parts.scheme.lower()
        try:
            host = parts.hostname or ""
            port = f":{parts.port}" if parts.port else ""
        except ValueError:
            host, port = "", ""
        view["where"] = (
            f"{scheme}://{host}{port}"
            if scheme in HOST_SCHEMES and host
            else f"{scheme}://..."
            if scheme
            else "..."
        )
    return view


def _bbox(text: str) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        south, west, north, east = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInput("bbox is south,west,north,east in degrees") from None
    if not (-90 <= south <= north <= 90 and -180 <= west <= 180 and -180 <= east <= 180):
        raise InvalidInput("bbox is south,west,north,east in degrees, south <= north")
    return south, west, north, east


@router.get("/posts", response_class=HTMLResponse)
def posts_page(
    request: Request,
    db: DB,
    user: PageUser,
    q: Text = "",
    region: Text = "",
    kind: Text = "",
    silent: bool = False,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100000)] = 1,
) -> Response:
    """The posts, filtered by text, region, kind and silence, a page at a time, each with its
    heartbeat state."""
    interval = dispatch_settings().heartbeat_interval_s
    at = now()
    wanted = PostFilter(
        text=q,
        region=region,
        kinds=[kind] if kind else [],
        silent_before=at - timedelta(seconds=SLOW_FACTOR * interval) if silent else None,
    )
    found = find_posts(db, wanted, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    rows = [(p, heartbeat_state(p.heartbeat_at, now=at, interval_s=interval)) for p in found.posts]
    return page(
        request,
        "console/posts.html",
        base_context(
            request,
            user,
            rows=rows,
            total=found.total,
            page_number=page_number,
            pages=max(1, -(-found.total // PAGE_SIZE)),
            regions=regions(db),
            kinds=kinds(db),
            filters={"q": q, "region": region, "kind": kind, "silent": silent},
            query="".join(
                f"{k}={quote(v)}&"
                for k, v in (
                    ("q", q),
                    ("region", region),
                    ("kind", kind),
                    ("silent", "true" if silent else ""),
                )
                if v
            ),
        ),
    )


@router.get("/posts/{post_id}", response_class=HTMLResponse)
def post_page(post_id: str, request: Request, db: DB, user: PageUser) -> Response:
    """One post: where it is, its supervisor, heartbeat and channels (without secrets)."""
    post = get_post(db, post_id=post_id)
    interval = dispatch_settings().heartbeat_interval_s
    supervisor = db.get(Post, post.supervisor_id) if post.supervisor_id else None
    return page(
        request,
        "console/post.html",
        base_context(
            request,
            user,
            post=post,
            supervisor=supervisor,
            state=heartbeat_state(post.heartbeat_at, now=now(), interval_s=interval),
            channels=[channel_view(c, user) for c in post.channels],
        ),
    )


@router.get("/picker/posts.json")
def picker(
    request: Request,
    db: DB,
    user: PageUser,
    q: Text = "",
    region: Text = "",
    kind: Text = "",
    bbox: Annotated[str, Query(max_length=100)] = "",
    status: Text = "Actual",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> JSONResponse:
    """Posts for the drafting page's picker, filtered in the database: ``{"total", "posts":
    [{"id", "name", "kind", "kind_word", "region", "lat", "lon"}]}`` (``kind_word``: the kind in
    the page's language). Public posts only for Actual alerts."""
    wanted = PostFilter(
        text=q,
        region=region,
        kinds=[kind] if kind else [],
        bbox=_bbox(bbox),
        exclude_kinds=[] if status == "Actual" else [PostKind.PUBLIC.value],
    )
    found = find_posts(db, wanted, limit=limit)
    with i18n.use(page_language(request, user)):
        kind_words = {p.kind: word(p.kind) for p in found.posts}
    return JSONResponse(
        {
            "total": found.total,
            "posts": [
                {
                    "id": p.id,
                    "name": p.name,
                    "kind": p.kind,
                    "kind_word": kind_words[p.kind],
                    "region": p.region or "",
                    "lat": p.lat,
                    "lon": p.lon,
                }
                for p in found.posts
            ],
        }
    )
