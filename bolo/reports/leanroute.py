"""A FastAPI route for the public tip endpoint that skips FastAPI's per-request parameter work.

The JSON tip endpoint takes the raw ``Request`` and validates the body itself (strictly, with its
own pydantic model), so FastAPI's dependency solving, body parsing and response validation do
nothing for it but cost CPU (about a fifth of a tip's server time under a surge, profiled with
cProfile). ``LeanRoute`` keeps the route an ordinary ``APIRoute`` (OpenAPI schema, tags, the app's
middleware and exception handlers all apply) and only replaces its handler through FastAPI's
documented ``get_route_handler`` hook.

What the skipped dependency solving would have run: the app-wide ``strict_json_body`` dependency
(``bolo.security``), which for a route without query parameters or a declared body refuses any
query parameter. The lean handler calls the same ``check_request`` whenever a query string is
present, so the refusal (422, FastAPI's shape) is unchanged. A test checks that the app has no
other app-wide dependency, which this route would otherwise skip.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from bolo.security.strictjson import check_request

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class LeanRoute(APIRoute):
    """An ``APIRoute`` whose endpoint is ``async def endpoint(request) -> Response``, called
    directly: no dependencies, no parameter or response-model processing."""

    def get_route_handler(self) -> Handler:
        """The handler FastAPI wraps for this route: the strict query check, then the
        endpoint."""
        endpoint: Handler = self.endpoint

        async def handler(request: Request) -> Response:
            if request.scope.get("query_string"):
                check_request(request, None)
            return await endpoint(request)

        return handler
