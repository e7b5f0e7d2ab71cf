"""Run the bolo web app for the browser tests: ``python serve_app.py PORT CAST_FILE``.

With BOLO_DATA_DIR set to a fresh folder, it migrates and seeds the database (tests/e2e/seed.py),
writes the cast's logins as JSON to CAST_FILE, warms up the search picture so that the journey's
first map does not wait for network loading and compilation, and then serves exactly
bolo.api.create_app() (without the expiry timer). Seeding here keeps the test process's own
environment and database untouched.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for tests.e2e


def main() -> None:
    """Seed, write the cast, warm up, then serve on 127.0.0.1 at PORT."""
    from bolo.api import create_app
    from bolo.web.pictures import warm_up
    from tests.e2e.seed import seed

    port, cast_file = int(sys.argv[1]), Path(sys.argv[2])
    cast = seed()
    warm_up("dprk")
    app = create_app(timers=False)
    cast_file.write_text(json.dumps(asdict(cast)), encoding="utf-8")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)


if __name__ == "__main__":
    main()
