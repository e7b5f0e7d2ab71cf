"""Run the bolo web app for the browser tests: ``python serve_app.py PORT`` (BOLO_DATA_DIR set).

It serves exactly bolo.api.create_app() (without the expiry timer), after warming up the search
so that the journey's first map does not wait for network loading and compilation.
"""

from __future__ import annotations

import sys

import uvicorn


def main() -> None:
    """Serve on 127.0.0.1 at the port given as the first argument."""
    from bolo.api import create_app
    from bolo.web.pictures import warm_up

    port = int(sys.argv[1])
    app = create_app(timers=False)
    warm_up("dprk")  # before /healthz answers
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning",
                timeout_graceful_shutdown=1)


if __name__ == "__main__":
    main()
