"""/readyz and /metrics of the web process (/healthz, liveness, stays in bolo.api)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from bolo.errors import Unauthorized
from bolo.settings import get_settings

# Operational endpoints, outside the API schema: /readyz answers 503 by design when a
# dependency is down, and /metrics is Prometheus text, not JSON.
router = APIRouter(tags=["public"])


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 when the database answers at the current migrations, the broker (when
    configured) answers, a dispatcher is alive and a triage worker holds its lease (this
    server's own worker process not dead); else 503 naming what failed and what to do. Load
    balancers send traffic only to a ready server."""
    from bolo.ops.readiness import readiness
    from bolo.store.db import default_engine

    triage = getattr(request.app.state, "triage", None)
    checks = await readiness(default_engine(), get_settings().broker_url, triage)
    ready = all(c.ok for c in checks)
    return JSONResponse(
        {
            "status": "ready" if ready else "not ready",
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
        },
        status_code=200 if ready else 503,
        headers={"cache-control": "no-store"},
    )


@router.get("/metrics", response_class=Response, include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus metrics of this process and of the whole deployment (text format). With
    BOLO_METRICS_TOKEN set, the scraper must send it as a bearer token."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    token = get_settings().metrics_token
    if token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthorized("metrics need the bearer token set in BOLO_METRICS_TOKEN")
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
