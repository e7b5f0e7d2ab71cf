"""Accounts from the command line, then signing in with them to a real `bolo serve`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from bolo.audit.model import AuditEntry
from bolo.auth.model import ApiToken, User
from bolo.auth.totp import code_at
from bolo.cli import app
from bolo.store.db import session_scope
from tests.security.live_server import bolo, environment, serving

PASSWORD = "a long enough pass phrase"
POST = {"id": "gate-7", "kind": "police", "name": "Gate 7", "lat": 42.5, "lon": 1.52}


def _run(*args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


def test_user_add_json_password_token_and_list(sqlite_engine: Engine) -> None:
    code, out = _run(
        "user", "add", "root", "admin", "--password-stdin", "--json", stdin=PASSWORD + "\n"
    )
    assert code == 0, out
    root = json.loads(out)
    assert set(root) == {"id", "username", "role"} and root["role"] == "admin"
    code, out = _run("user", "add", "ana", "coordinator", "--token", "--json", "--as", "root")
    assert code == 0, out
    ana = json.loads(out)
    assert ana["token"].startswith("bolo_")
    with session_scope(sqlite_engine) as db:
        stored = db.get(User, root["id"])
        assert (
            stored is not None
            and stored.password_hash
            and PASSWORD not in str(stored.password_hash)
        )
        made = db.get(User, ana["id"])
        assert made is not None and made.created_by == root["id"]
        token = db.execute(select(ApiToken)).scalar_one()
        assert token.issued_by == root["id"] and token.expires_at is not None
        issued = db.execute(
            select(AuditEntry).where(AuditEntry.action == "token.issued")
        ).scalar_one()
        assert issued.actor_id == root["id"]  # the admin who issued it, not the new user
    code, out = _run("user", "list", "--json")
    listed = {u["username"]: u for u in json.loads(out)}
    assert listed["root"]["has_password"] and not listed["ana"]["has_password"]
    assert listed["ana"]["live_tokens"] == 1


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        (("user", "add", "bo", "coordinator", "--password-stdin"), "short\n", "at least"),
        (("user", "add", "bad name", "viewer"), "", "username"),
        (("user", "add", "officer", "post_officer"), "", "--post"),
        (("user", "add", "officer", "post_officer", "--post", "nowhere"), "", "no post"),
        (("user", "add", "bo", "viewer", "--post", "gate-7"), "", "only a post officer"),
        (("user", "add", "bo", "wizard"), "", "wizard"),
        (("user", "passwd", "nobody", "--password-stdin"), PASSWORD, "no user"),
        (("user", "passwd", "root"), "", "--password-stdin"),
        (("user", "disable", "nobody"), "", "no user"),
        (("user", "add", "bo", "viewer", "--as", "nobody"), "", "no user"),
    ],
)
def test_bad_input_is_a_clear_error(
    sqlite_engine: Engine, args: tuple[str, ...], stdin: str, says: str
) -> None:
    assert _run("user", "add", "root", "admin")[0] == 0
    code, out = _run(*args, stdin=stdin)
    assert code != 0 and says in out and "Traceback" not in out, out


def test_disable_and_totp_from_the_cli(sqlite_engine: Engine) -> None:
    assert (
        _run("user", "add", "ana", "approver", "--token", "--password-stdin", stdin=PASSWORD)[0]
        == 0
    )
    code, out = _run("user", "totp", "ana")
    assert code == 0, out
    uri = re.search(r"otpauth://\S+", out)
    assert uri is not None and "secret=" in uri.group(0)
    assert "\u2588" in out or "\u2580" in out  # the QR code drawn with block characters
    code, out = _run(
        "user", "passwd", "ana", "--password-stdin", "--json", stdin=PASSWORD + " two\n"
    )
    assert code == 0 and json.loads(out)["password_set"] is True, out
    code, out = _run("user", "disable", "ana", "--json")
    assert code == 0 and json.loads(out)["active"] is False, out
    assert _run("user", "disable", "ana")[0] == 1  # already disabled: said, not ignored
    with session_scope(sqlite_engine) as db:
        user = db.execute(select(User).where(User.username == "ana")).scalar_one()
        assert not user.active and user.totp_secret
        assert all(t.revoked_at is not None for t in db.execute(select(ApiToken)).scalars())


def _sign_in(
    client: httpx.Client, base: str, username: str, code: str | None = None
) -> httpx.Response:
    form = {"username": username, "password": PASSWORD, "next": ""}
    if code:
        form["code"] = code
    assert client.get(f"{base}/login").status_code == 200
    return client.post(f"{base}/login", data=form, headers={"Origin": base})


def test_cli_users_sign_in_to_a_real_server(tmp_path: Path) -> None:
    env = environment(tmp_path / "data")
    assert bolo(env, "db", "upgrade").returncode == 0
    added = bolo(env, "post", "add", "-", stdin=json.dumps(POST))
    assert added.returncode == 0, added.stderr
    for name, role, extra in (
        ("root", "admin", []),
        ("ana", "coordinator", []),
        ("gate", "post_officer", ["--post", "gate-7"]),
    ):
        made = bolo(
            env,
            "user",
            "add",
            name,
            role,
            "--password-stdin",
            "--json",
            *extra,
            stdin=PASSWORD + "\n",
        )
        assert made.returncode == 0, made.stderr
    tokened = bolo(env, "user", "token", "ana", "--json")
    token = json.loads(tokened.stdout)["token"]
    with (
        serving(env) as base,
        httpx.Client(
            follow_redirects=False, timeout=30, headers={"Accept": "text/html"}
        ) as console,
    ):
        answer = _sign_in(console, base, "ana")
        assert answer.status_code == 303 and answer.headers["location"] == "/console"
        assert console.get(f"{base}/console").status_code == 200
        with httpx.Client(
            follow_redirects=False, timeout=30, headers={"Accept": "text/html"}
        ) as phone:
            answer = _sign_in(phone, base, "gate")
            assert answer.status_code == 303 and answer.headers["location"] == "/post"
            assert phone.get(f"{base}/post").status_code == 200
        bearer = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        assert httpx.get(f"{base}/api/v1/me", headers=bearer).json()["username"] == "ana"
        # Disabling ends the running session and the token at once.
        assert bolo(env, "user", "disable", "ana").returncode == 0
        assert console.get(f"{base}/console").status_code == 303
        assert httpx.get(f"{base}/api/v1/me", headers=bearer).status_code == 401
        # One-time codes enrolled from the CLI are needed from now on, and work.
        uri = json.loads(bolo(env, "user", "totp", "root", "--json").stdout)["otpauth_uri"]
        secret = re.search(r"secret=([A-Z2-7]+)", uri)
        assert secret is not None
        with httpx.Client(follow_redirects=False, timeout=30) as admin:
            assert _sign_in(admin, base, "root").status_code == 401
            answer = _sign_in(admin, base, "root", code_at(secret.group(1)))
            assert answer.status_code == 303, answer.text
