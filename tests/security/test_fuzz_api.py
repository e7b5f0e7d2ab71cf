"""schemathesis against the OpenAPI schema of ``create_app()``, in process, with every check,
as an admin (every route reachable) on a database holding a whole incident. Bounded: a few
examples per operation, so the run stays short; other seeds and budgets must pass too
(``BOLO_FUZZ_EXAMPLES`` raises the budget)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks

from bolo.api import create_app
from bolo.store.db import session_scope
from tests.security.factories import build_world
from tests.store.migrate import sqlite_data_dir

EXAMPLES = int(os.environ.get("BOLO_FUZZ_EXAMPLES", "8"))
load_all_checks()
ALL_CHECKS = list(CHECKS.get_all())


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated SQLite database with a whole incident, shared by every operation (the
    fuzzing's own writes accumulate, which only widens the states the API is tried in)."""
    folder = tmp_path_factory.mktemp("fuzz")
    with sqlite_data_dir(folder, "fuzz.db") as engine:
        with session_scope(engine) as db:
            w = build_world(db)
        yield {"Authorization": f"Bearer {w.tokens['admin']}"}


# JSON Schema cannot say "a polygon ring is closed", "a time lies in the past" or "a heading
# hint needs a bearing": such schema-valid input is refused with 422 by design, so 422 joins the
# statuses positive_data_acceptance expects. Every other check keeps its defaults.
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
            }
        }
    }
)
# The app opens its database per request (the fixture's engine), so it can be built at import.
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(timers=False), config=CONFIG)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
def test_api_fuzz(case: Any, fuzz_world: dict[str, str]) -> None:
    case.call_and_validate(headers=fuzz_world, checks=ALL_CHECKS)
