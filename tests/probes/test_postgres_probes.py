"""Where PostgreSQL and SQLite differ: PostgreSQL refuses a NUL in text, and its timestamps
and integers have narrower ranges. A NUL in a JSON body, a form, a query or a path, a time at
the edge of year 9999 and an integer past 2**63 are a clear 4xx on both databases, with
nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.probes.checks import assert_no_crash, assert_refused, content_digest
from tests.probes.conftest import Probed, probed_world
from tests.probes.test_http_probes import WRITES, _leaves, _with
from tests.security.access_spec import request_for

EDGES = ("9999-12-31T23:59:59-14:00", 2**63)


@pytest.fixture
def both(db_engine: Engine) -> Probed:
    return probed_world(db_engine)


def _probe_bodies(probed: Probed, values: tuple[object, ...], *, refused: bool) -> None:
    for method, path in WRITES:
        url, query, body = request_for(method, path, probed.ids, seq=0)
        for where, _value in _leaves(body):
            for bad in values:
                answer = probed.api.request(method, url, params=query, json=_with(body, where, bad))
                what = f"{method} {path} {list(where)} = {bad!r}"
                (assert_refused if refused else assert_no_crash)(answer, what)


def test_a_nul_anywhere_is_refused_and_edges_do_not_crash(both: Probed) -> None:
    before = content_digest(both.engine)
    _probe_bodies(both, ("a\x00b",), refused=True)
    w = both.world
    for url, data in (
        (f"/console/cases/{w.case_id}/hints", {"hint_kind": "heading", "hint_text": "a\x00b"}),
        (f"/console/alerts/{w.alert_id}/cancel", {"reason": "a\x00b"}),
        ("/console/cases", {"child_name": "a\x00b", "lat": "39.2", "lon": "126.2"}),
    ):
        assert_refused(both.console.post(url, data=data), f"POST {url}", page=True)
    for url in (f"/api/v1/cases/{w.case_id}%00", "/api/v1/reports?case_id=a%00b"):
        assert_refused(both.api.get(url), f"GET {url}")
    assert content_digest(both.engine) == before
    # Values the database types hold narrower than Python: any answer but a crash.
    _probe_bodies(both, EDGES, refused=False)
