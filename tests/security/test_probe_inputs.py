"""Inputs a fresh install never saw, from the outside probe: control characters that CAP's XML
cannot carry in alert texts, cancel reasons and case names; a NUL or a control character in a
multipart form field (the console's forms take multipart too); bodies whose validation error
cannot be written as JSON; a Unicode digit as a child's index. Each answered 500 (both
databases); each must be a 4xx that names what is wrong, with nothing written."""

from __future__ import annotations

from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo.alerts.model import Alert, AlertState
from bolo.api import create_app
from bolo.auth.sessions import COOKIE_NAME, CSRF_HEADER, create_session, csrf_token_for
from bolo.cases.model import Case
from bolo.network.graph import Network
from bolo.posts.files import read_posts
from bolo.security.jsonparse import load_json
from bolo.store.db import session_scope
from tests.security.factories import World, build_world

DRAFT: dict[str, Any] = {
    "cap_status": "Exercise",
    "texts": [
        {
            "headline": "EXERCISE headline",
            "description": "EXERCISE description",
            "instruction": "EXERCISE instruction",
        }
    ],
    "area": {"description": "Songchon", "circles": [{"lat": 39.2, "lon": 126.2, "radius_km": 50}]},
}
# Characters XML 1.0 cannot carry (C0 controls but tab/LF/CR, U+FFFE, U+FFFF).
UNSENDABLE = ("\u0001", "\u001b", "\ufffe", "\uffff")


@pytest.fixture
def world(db_engine: Engine) -> World:
    with session_scope(db_engine) as db:
        return build_world(db, with_reports=False)


def _api(w: World, role: str) -> TestClient:
    return TestClient(
        create_app(timers=False),
        raise_server_exceptions=False,
        headers={"Authorization": f"Bearer {w.tokens[role]}"},
    )


def _console(db_engine: Engine, w: World, role: str) -> TestClient:
    with session_scope(db_engine) as db:
        sid = create_session(db, user_id=w.users[role].id)
    return TestClient(
        create_app(timers=False),
        raise_server_exceptions=False,
        cookies={COOKIE_NAME: sid},
        headers={CSRF_HEADER: csrf_token_for(sid), "Accept": "text/html"},
    )


@pytest.mark.parametrize("char", UNSENDABLE)
def test_alert_texts_cap_cannot_carry_are_422(world: World, char: str) -> None:
    client = _api(world, "coordinator")
    texts = [{**DRAFT["texts"][0], "headline": f"EXERCISE {char} headline"}]
    answer = client.post(f"/api/v1/cases/{world.case_id}/alerts", json={**DRAFT, "texts": texts})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["location"] == ["body", "texts", 0, "headline"]
    answer = client.post(
        f"/api/v1/alerts/{world.alert_id}/cancel", json={"reason": f"found{char}safe"}
    )
    assert answer.status_code == 422 and "control character" in answer.text
    answer = client.post("/api/v1/cases", json={"children": [{"name": f"A{char}B"}]})
    assert answer.status_code == 422 and "control character" in answer.text


def test_a_case_name_cap_cannot_carry_is_422_when_drafting(db_engine: Engine, world: World) -> None:
    # A name stored before the boundary checked it (CLI, an older version) reaches CAP as the
    # photo's description: the draft is refused with what to fix, not a 500.
    with session_scope(db_engine) as db:
        case = db.get(Case, world.case_id)
        assert case is not None
        case.children = [
            {"name": "Bad\u0001name", "age": 7, "photo_url": "https://example.org/p.jpg"}
        ]
    answer = _api(world, "coordinator").post(f"/api/v1/cases/{world.case_id}/alerts", json=DRAFT)
    assert answer.status_code == 422 and "U+0001" in answer.text, answer.text


@pytest.mark.parametrize("char", ("\x00", "\x01"))
def test_multipart_console_forms_refuse_control_characters(
    db_engine: Engine, world: World, char: str
) -> None:
    client = _console(db_engine, world, "coordinator")
    answer = client.post(
        f"/console/alerts/{world.alert_id}/cancel",
        data={"reason": f"found{char}safe"},
        files={"unused": ("a.bin", b"\x00\x01", "application/octet-stream")},
    )
    assert answer.status_code == 422 and "reason" in answer.text, answer.text
    answer = client.post(
        f"/console/cases/{world.case_id}/hints",
        data={"hint_kind": "heading", "hint_bearing": "10", "hint_text": f"north{char}"},
        files={"unused": ("a.bin", b"\x00", "application/octet-stream")},
    )
    assert answer.status_code == 422 and "hint_text" in answer.text, answer.text
    with session_scope(db_engine) as db:
        alert = db.get(Alert, world.alert_id)
        assert alert is not None and alert.state == AlertState.ACTIVE


def test_a_unicode_digit_as_child_index_is_422(db_engine: Engine, world: World) -> None:
    client = _console(db_engine, world, "coordinator")
    answer = client.post(
        f"/console/cases/{world.case_id}/photo",
        data={"child_index": "\u00b2"},
        files={"photo": ("p.png", b"\x89PNG", "image/png")},
    )
    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize("body", [b"\xff\xfe", b'{"username": 1e999}', b'{"username": -1e999}'])
def test_validation_errors_json_cannot_echo_are_still_422(world: World, body: bytes) -> None:
    for kind in ("application/json", "text/plain"):
        answer = _api(world, "admin").post(
            "/api/v1/users", content=body, headers={"content-type": kind}
        )
        assert answer.status_code == 422, (kind, answer.text)
        assert answer.json()["detail"]


DEEP = b'{"by": "\\u0041", "t": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"


def test_json_nested_too_deeply_is_refused_not_500(world: World) -> None:
    # The ack link reads its own body (no login); the parser's RecursionError was a 500.
    client = TestClient(create_app(timers=False), raise_server_exceptions=False)
    answer = client.post(
        "/api/v1/dispatch/ack/some-delivery",
        content=DEEP,
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 422 and "JSON" in answer.text, answer.text
    rows, problems = read_posts(DEEP.decode() + "\n", cast(Network, None), source="posts.jsonl")
    assert rows == [] and "nested too deeply" in problems[0].why
    with pytest.raises(ValueError, match="nested too deeply"):
        load_json(DEEP)


def test_the_post_page_names_the_field_not_pydantic(db_engine: Engine, world: World) -> None:
    client = _console(db_engine, world, "post_officer")
    answer = client.post("/post/sighting", data={"case_id": world.case_id, "text": "", "place": ""})
    assert answer.status_code == 422
    assert "text" in answer.text and "validation error for" not in answer.text
    assert "pydantic" not in answer.text


def test_console_values_a_model_refuses_are_422(db_engine: Engine, world: World) -> None:
    client = _console(db_engine, world, "coordinator")
    answer = client.post(
        f"/console/cases/{world.case_id}/alerts",
        data={
            "cap_status": "Actual",
            "en_headline": "Missing child",
            "en_description": "d",
            "en_instruction": "i",
            "area_description": "a",
            "override_reason": "x" * 5000,
        },
    )
    assert answer.status_code == 422 and "override_reason" in answer.text, answer.text[-500:]
    answer = client.post(
        "/console/cases",
        data={
            "child_name": "A child",
            "lat": "39.2",
            "lon": "126.2",
            "time_earliest": "2026-13-45T99:99",
            "time_latest": "2026-04-01T10:00",
        },
    )
    assert answer.status_code == 422 and "time_earliest" in answer.text, answer.text[-500:]
