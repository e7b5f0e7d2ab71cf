"""A FastAPI route for the public tip endpoint that skips FastAPI's per-request parameter work.

The JSON tip endpoint takes the raw ``Request`` and validates the body itself (strictly, with its
own pydantic model), so FastAPI's dependency solving, body parsing, response validation and the
per-request wrapper that manages dependency exit stacks do nothing for it but cost CPU (about a
quarter of a tip's server time under a surge, profiled with cProfile). ``DirectRoute`` keeps the
route an ordinary ``APIRoute`` (OpenAPI schema, tags, the app's middleware and exception handlers
all apply) and serves its matched requests itself, through Starlette's ``Route.handle``.

What the skipped dependency solving would have run: the app-wide ``strict_json_body`` dependency
(``bolo.auth.deps``), which for a route without query parameters or a declared body refuses any
query parameter. The direct handler calls the same ``check_request`` whenever a query string is
present, so the refusal (422, FastAPI's shape) is unchanged. A test checks that the app has no
other app-wide dependency, which this route would otherwise skip.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope, Send

from bolo.security.strictjson import check_request

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class DirectRoute(APIRoute):
    """An ``APIRoute`` whose endpoint is ``async def endpoint(request) -> Response``, called
    directly: no dependencies, no parameter or response-model processing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lean = self.get_route_handler()

    def get_route_handler(self) -> Handler:
        """The handler FastAPI wraps for this route: the strict query check, then the
        endpoint."""
        endpoint: Handler = self.endpoint

        async def handler(request: Request) -> Response:
            if request.scope.get("query_string"):
                check_request(request, None)
            return await endpoint(request)

        return handler

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a matched request (Starlette's route interface) without FastAPI's per-request
        wrapper, which only manages dependency exit stacks this route does not have. An
        exception the endpoint raises reaches the app's exception handlers through Starlette's
        ExceptionMiddleware, as it would through the wrapper; another method is FastAPI's
        (405)."""
        if scope["method"] not in (self.methods or ()):
            await super().handle(scope, receive, send)
            return
        response = await self._lean(Request(scope, receive, send))
        await response(scope, receive, send)
