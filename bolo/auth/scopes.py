"""Which routes a scoped API token may call: default deny for anything but a full token."""

from __future__ import annotations

from fastapi import Request

from bolo.auth.model import ApiToken, Scope
from bolo.errors import Forbidden

# (method, path template) pairs a POST-scoped token may call. A route that takes a {post_id}
# must be called with the token's own post. Extend with ``allow_for_post_tokens``.
_POST_ROUTES: set[tuple[str, str]] = {
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/posts/{post_id}/alerts"),
    ("POST", "/api/v1/reports/sightings"),
    ("POST", "/api/v1/reports/searches"),
    ("GET", "/api/v1/geocode"),
    ("GET", "/api/v1/geocode/reverse"),
}


def allow_for_post_tokens(method: str, path: str) -> None:
    """Open the route ``method path`` (path template as declared, e.g.
    ``/api/v1/posts/{post_id}/alerts``) to post-scoped tokens."""
    _POST_ROUTES.add((method.upper(), path))


def post_token_routes() -> frozenset[tuple[str, str]]:
    """The (method, path template) pairs open to post-scoped tokens."""
    return frozenset(_POST_ROUTES)


def check_token_route(token: ApiToken, request: Request) -> None:
    """Forbidden unless ``token`` may call the matched route of ``request``."""
    if token.scope == Scope.FULL:
        return
    if token.scope != Scope.POST:
        raise Forbidden(f"token scope {token.scope!r} may not call this")
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    if path is None or (request.method.upper(), path) not in _POST_ROUTES:
        raise Forbidden("a post token may not call this route")
    asked = request.path_params.get("post_id")
    if asked is not None and asked != token.post_id:
        raise Forbidden("a post token acts only for its own post")
