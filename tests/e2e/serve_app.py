"""Run the bolo web app for the browser tests: ``python serve_app.py PORT`` (BOLO_DATA_DIR set).

The app is bolo.api.create_app() with the web pages and the public tip form included when the
assembly does not include them yet, so the tests drive exactly the routes users get.
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI


def build_app() -> FastAPI:
    """create_app() plus any page router it does not include yet."""
    from bolo.api import create_app
    from bolo.reports.public import public_router
    from bolo.web.routes import router as web_router

    app = create_app(timers=False)
    paths = {getattr(r, "path", "") for r in app.routes}
    if "/tips/new" not in paths:
        app.include_router(public_router)
    if "/console" not in paths:
        app.include_router(web_router)
    return app


def main() -> None:
    """Serve on 127.0.0.1 at the port given as the first argument."""
    from bolo.web.pictures import warm_up

    port = int(sys.argv[1])
    app = build_app()
    warm_up("dprk")  # before /healthz answers: the journey's first map must not pay for it
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning",
                timeout_graceful_shutdown=1)


if __name__ == "__main__":
    main()
