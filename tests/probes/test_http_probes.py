"""Every route of ``create_app()`` given input nobody sends on purpose: bodies of the wrong
shape, type and encoding, strings with a NUL, a lone surrogate or a megabyte, numbers JSON
cannot hold, ids that name nothing, query parameters repeated or absurd, forms full of junk,
methods a route does not take. Each answer is a clear 4xx (an RFC 9457 problem from the API, an
HTML page from the console), never a 500 or a traceback, and a refused write leaves the
database as it was."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bolo.api import create_app
from bolo.security.strictjson import _query_params
from bolo.web.errors import MACHINE_PREFIXES, MACHINE_SUFFIXES, PAGE_PREFIXES
from tests.probes.checks import assert_no_crash, assert_refused, content_digest
from tests.probes.conftest import Probed
from tests.security.access_spec import WEB, request_for
from tests.security.test_access_matrix import app_routes

APP = create_app(timers=False)
ROUTES = app_routes(APP)


def _walk(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        if hasattr(route, "effective_candidates"):
            yield from _walk(route.effective_candidates())
        else:
            yield route


_ANY_IDS = dict.fromkeys(
    (
        *("case_id", "alert_id", "version_id", "post_id", "user_id", "token_id", "report_id"),
        *("child_index", "external_id", "delivery_id", "name"),
    ),
    "x",
)
WRITES = [
    (m, p)
    for m, p in ROUTES
    if p.startswith("/api/") and request_for(m, p, _ANY_IDS, seq=0)[2] is not None
]
MEGABYTE = "x" * 1_000_000
# Whole bodies that are no JSON object, and how they are sent.
BODIES: dict[str, tuple[str, bytes]] = {
    "empty": ("application/json", b""),
    "truncated": ("application/json", b'{"a": '),
    "not UTF-8": ("application/json", b'{"a": "\xff\xfe"}'),
    "an array": ("application/json", b"[]"),
    "null": ("application/json", b"null"),
    "a number": ("application/json", b"1e309"),
    "nested too deeply": ("application/json", b"[" * 100_000 + b"]" * 100_000),
    "form content": ("application/x-www-form-urlencoded", b"a=%ff%00&b"),
    "broken multipart": ("multipart/form-data; boundary=x", b"--x\r\nbroken"),
}
# JSON values no field of any body accepts, and raw numbers JSON (RFC 8259) has no place for.
NO_FIELD_TAKES: dict[str, Any] = {
    "a NUL": "a\x00b",
    "a lone surrogate": "\ud800",
    "an escape character": "a\x1bb",
    "a megabyte": MEGABYTE,
    "an object": {"nested": {"deeper": [1]}},
}
RAW_NUMBERS = ("NaN", "Infinity", "-Infinity", "1e309")
IDS = ("no-such-id", "a%00b", "%ff%fe", "%ED%A0%80", "x" * 5000, "-1", "9" * 30, "..%2F..%2Fetc")


def _leaves(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    if path:
        yield path, value


def _with(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(body)
    target = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return changed


def _encode(body: Any) -> bytes:
    # surrogatepass: a lone surrogate goes out as the JSON escape a hostile client writes.
    return json.dumps(body).encode("utf-8", "surrogatepass")


def _client(probed: Probed, path: str) -> TestClient:
    if path.startswith("/api/"):
        return probed.api
    return probed.post_page if path.startswith("/post") else probed.console


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_api_bodies_no_field_takes_are_refused(probed: Probed, method: str, path: str) -> None:
    url, query, body = request_for(method, path, probed.ids, seq=0)
    before = content_digest(probed.engine)
    send = probed.api.request
    for name, (kind, content) in BODIES.items():
        answer = send(method, url, params=query, content=content, headers={"content-type": kind})
        assert_refused(answer, f"{method} {path} {name}")
    answer = send(
        method, url, params=query, content=_encode(body), headers={"content-type": "text/plain"}
    )
    assert_refused(answer, f"{method} {path} as text/plain")
    for where, value in _leaves(body):
        for name, bad in NO_FIELD_TAKES.items():
            answer = send(
                method,
                url,
                params=query,
                content=_encode(_with(body, where, bad)),
                headers={"content-type": "application/json"},
            )
            assert_refused(answer, f"{method} {path} {list(where)} = {name}")
        if isinstance(value, int | float) and not isinstance(value, bool):
            for raw in RAW_NUMBERS:
                content = _encode(_with(body, where, "@raw@")).replace(b'"@raw@"', raw.encode())
                answer = send(
                    method,
                    url,
                    params=query,
                    content=content,
                    headers={"content-type": "application/json"},
                )
                assert_refused(answer, f"{method} {path} {list(where)} = {raw}")
    if isinstance(body, dict):
        answer = send(method, url, params=query, json={**body, "unknown_field": 1})
        assert_refused(answer, f"{method} {path} with an unknown field")
    assert content_digest(probed.engine) == before, f"{method} {path}: a refused write wrote"


@pytest.mark.parametrize(
    ("method", "path"), [r for r in ROUTES if "{" in r[1] and "{path" not in r[1]]
)
def test_ids_that_name_nothing(probed: Probed, method: str, path: str) -> None:
    before = content_digest(probed.engine)
    _url, query, body = request_for(method, path, {**_ANY_IDS, **probed.ids}, seq=0)
    on_page = (method, path) in WEB or path.startswith("/api/")
    client = _client(probed, path) if on_page else probed.anonymous
    for bad in IDS:
        for name in re.findall(r"{(\w+)(?::path)?}", path):
            url = re.sub(
                r"{(\w+)(?::path)?}",
                lambda m, name=name, bad=bad: bad if m.group(1) == name else probed.ids[m.group(1)],
                path,
            )
            answer = client.request(method, url, params=query, json=body)
            assert_no_crash(answer, f"{method} {path} {name}={bad[:20]}")
            if path.startswith("/api/"):
                assert_refused(answer, f"{method} {path} {name}={bad[:20]}")
    assert content_digest(probed.engine) == before, f"{method} {path}: a bad id wrote"


QUERY_VALUES = ("", "a\x00b", "%ff", "NaN", "-inf", "1e309", "-1", str(2**63), "x" * 20_000)


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r[0] == "GET"])
def test_query_parameters_repeated_or_absurd(probed: Probed, method: str, path: str) -> None:
    if path.endswith("/events") or "{path" in path or path == "/readyz":
        return  # an open event stream never ends in a test client; static files take none;
        # readiness answers 503 without a dispatcher by design
    url, query, _body = request_for(method, path, {**_ANY_IDS, **probed.ids}, seq=0)
    client = _client(probed, path) if (method, path) in WEB or "/api/" in path else probed.api
    route = next(r for r in _walk(APP.routes) if getattr(r, "path", None) == path)
    declared, _single = _query_params(route)
    for name in [*sorted(declared), "lang"]:
        for bad in QUERY_VALUES:
            answer = client.get(url, params={**query, name: bad})
            assert_no_crash(answer, f"GET {path}?{name}={bad[:20]!r}")
        answer = client.get(url, params=[*query.items(), (name, "1"), (name, "2")])
        assert_no_crash(answer, f"GET {path}?{name} twice")


FORM_FIELDS = (
    "hint_kind",
    "hint_text",
    "hint_bearing",
    "note",
    "outcome",
    "place",
    "post_id",
    "seen_at",
    "text",
    "reason",
    "post",
    "heading_deg",
    "heading_text",
    "lat",
    "lon",
    "narrative",
    "network",
    "time_earliest",
    "time_latest",
    "vehicle",
    "area_description",
    "cap_status",
    "contact",
    "en_headline",
    "en_description",
    "en_instruction",
    "expires_in_hours",
    "sha256",
    "abduction_believed",
    "override_reason",
    "risk_of_harm",
    "role",
    "username",
    "case_id",
    "child_index",
    "state",
    "intercepted",
    "name",
    "result",
    "searched",
    "searched_from",
    "searched_to",
    "version_id",
    "language",
    "child_name",
    "child_age",
    "password",
    "new_password",
    "repeat",
    "code",
)


def _form_values(probed: Probed) -> dict[str, str]:
    """Every field name the console's and the post page's forms read, each with a sensible value."""
    w = probed.world
    names = FORM_FIELDS
    values = dict.fromkeys(names, "Songchon")
    values.update(case_id=w.case_id, post_id=w.posts[0], post=w.posts[0], version_id=w.version_id)
    return values


FORM_JUNK = (
    "",
    "a\x00b",
    "\x1b",
    "x" * 100_000,
    "NaN",
    "1e309",
    str(2**63),
    "-1",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "2026-02-30T10:00",
    "\u00b2",
    "//evil.example",
)


@pytest.mark.parametrize(
    ("method", "path"), [r for r in ROUTES if r[0] == "POST" and not r[1].startswith("/api/")]
)
def test_forms_full_of_junk(probed: Probed, method: str, path: str) -> None:
    if path == "/logout":
        return  # ends the session every other form is tried with
    url = path.format(**{k: v for k, v in probed.ids.items() if "{" + k + "}" in path})
    client = _client(probed, path) if (method, path) in WEB else probed.anonymous
    values = _form_values(probed)
    for bad in FORM_JUNK:
        answer = client.post(url, data=dict.fromkeys(values, bad), follow_redirects=False)
        assert_no_crash(answer, f"POST {path} every field {bad[:20]!r}")
    for field in ("case_id", "post_id", "version_id", "child_index", "lat"):
        answer = client.post(url, data={**values, field: "a\x00b"}, follow_redirects=False)
        assert_no_crash(answer, f"POST {path} {field} with a NUL")
    answer = client.post(
        url,
        data=values,
        files={"photo": ("../../../etc/passwd", b"\x00" * 64, "image/jpeg")},
        follow_redirects=False,
    )
    assert_no_crash(answer, f"POST {path} a photo that is none, named as a path")


def test_methods_a_route_does_not_take(probed: Probed) -> None:
    taken: dict[str, set[str]] = {}
    for method, path in ROUTES:
        taken.setdefault(path, set()).add(method)
    for path, methods in taken.items():
        if "{path" in path or path.endswith("/events"):
            continue
        url = path.format(**{k: v for k, v in probed.ids.items() if "{" + k + "}" in path})
        for method in sorted({"GET", "POST", "PUT", "DELETE", "PATCH"} - methods - {"GET"}):
            # 405, or 4xx from a route whose path matches too (PUT /posts/import: post 'import');
            # a browser page answers with an HTML page, a machine route with a problem.
            assert_refused(
                probed.api.request(method, url, json={}), f"{method} {path}", page=_is_page(url)
            )


def _is_page(path: str) -> bool:
    """Whether ``path`` is one of the HTML pages (their refusals are pages, not problems)."""
    if path.startswith(MACHINE_PREFIXES) or path.endswith(MACHINE_SUFFIXES):
        return False
    return any(path == p or path.startswith(p + "/") for p in PAGE_PREFIXES)
