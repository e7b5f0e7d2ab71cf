"""What a refusal must look like, and the database's content, for the probes.

A refusal is a status below 500 with no Python traceback in the body; from the API it is an
RFC 9457 problem whose ``detail`` says what is wrong, from a web page an HTML page that says it.
``content_digest`` hashes every row of every table but the request bookkeeping a refused request
may still touch (a session's last use, a token's last use, sign-in attempts), so "nothing was
written" is one comparison.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from sqlalchemy import Engine, MetaData, select

TRACEBACK_MARKS = ("Traceback (most recent call last)", 'File "/', "sqlalchemy.exc", "psycopg.")
# Rows a request touches before it is refused: when the caller was last seen.
BOOKKEEPING = frozenset({"web_sessions", "login_throttle", "api_tokens", "dispatch_rate_buckets"})
_TABLES: dict[int, MetaData] = {}


def assert_refused(response: httpx.Response, what: str, *, page: bool = False) -> None:
    """``response`` is a clear 4xx: no traceback, and a problem document (or, ``page``, an
    HTML page) naming what is wrong. ``what`` labels the probe in the failure message."""
    status = response.status_code
    text = response.text
    assert 400 <= status < 500, f"{what}: {status} {text[:300]}"
    assert not any(mark in text for mark in TRACEBACK_MARKS), f"{what}: traceback {text[:500]}"
    kind = response.headers.get("content-type", "")
    if page:
        assert kind.startswith("text/html"), f"{what}: {kind} {text[:200]}"
        return
    assert kind.startswith("application/problem+json"), f"{what}: {kind} {text[:200]}"
    body = response.json()
    assert body["status"] == status and body["detail"].strip(), f"{what}: {body}"


def assert_no_crash(response: httpx.Response, what: str) -> None:
    """Any status but a 5xx, and no traceback in the body."""
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.headers.get("content-type", "").startswith(("text/", "application/")):
        text = response.text
        assert not any(m in text for m in TRACEBACK_MARKS), f"{what}: traceback {text[:500]}"


def content_digest(engine: Engine) -> str:
    """A hash of every row of every bolo table (bookkeeping tables left out)."""
    digest = hashlib.sha256()
    if id(engine) not in _TABLES:
        _TABLES[id(engine)] = MetaData()
        _TABLES[id(engine)].reflect(engine)
    metadata = _TABLES[id(engine)]
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in BOOKKEEPING:
                continue
            rows: list[Any] = list(conn.execute(select(table)))
            digest.update(table.name.encode())
            for row in sorted(repr(tuple(r)) for r in rows):
                digest.update(row.encode())
    return digest.hexdigest()
