"""Users made with `bolo user add` sign in through the login form in Chromium, against a real
`bolo serve`; the users page and the one-time-code page pass axe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.e2e.pages import Offline, accessibility_problems, sign_in
from tests.e2e.seed import Login
from tests.security.live_server import bolo, environment, serving

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough pass phrase"
POST = {"id": "gate-7", "kind": "police", "name": "Gate 7", "lat": 42.5, "lon": 1.52}


def test_cli_users_sign_in_with_chromium(browser: Browser, tmp_path: Path) -> None:
    env = environment(tmp_path / "data")
    for name, role, extra in (
        ("root", "admin", []),
        ("ana", "coordinator", []),
        ("gate", "post_officer", ["--post", "gate-7"]),
    ):
        if name == "gate":
            assert bolo(env, "post", "add", "-", stdin=json.dumps(POST)).returncode == 0
        made = bolo(
            env, "user", "add", name, role, "--password-stdin", *extra, stdin=PASSWORD + "\n"
        )
        assert made.returncode == 0, made.stderr
    with serving(env) as base:
        contexts = [Offline(browser, base) for _ in range(3)]
        try:
            page, phone, admin = (c.page() for c in contexts)
            sign_in(page, Login("ana", PASSWORD), "/console")
            assert "ana" in page.locator(".who").inner_text()
            sign_in(phone, Login("gate", PASSWORD), "/post")
            sign_in(admin, Login("root", PASSWORD), "/console/users")
            assert admin.locator("#user-gate").count() == 1
            assert accessibility_problems(admin) == []
            admin.goto("/account/totp")
            assert admin.locator("figure.qr svg").count() == 1
            assert accessibility_problems(admin) == []
            assert [c.outside for c in contexts] == [[], [], []]
        finally:
            for context in contexts:
                context.close()
