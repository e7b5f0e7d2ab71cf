"""A post's webhook secret must be one bolo can sign with: a whpk_ ed25519 public key (or an
unreadable secret) is refused at registration, over the API (422) and the CLI (exit 1), instead
of being stored and failing every send to the post later ("cannot sign")."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from bolo.api import create_app
from bolo.auth.model import Role
from bolo.auth.service import create_user, issue_token
from bolo.cli import app as cli_app
from bolo.dispatch.signing import Ed25519Key, new_secret
from bolo.posts.model import Post
from bolo.store.db import session_scope

PAIR = Ed25519Key.generate()
# A public IP literal: the route's SSRF check passes without a DNS lookup.
URL = "https://93.184.216.34/hook"


def _post(secret: str | None) -> dict[str, Any]:
    channel: dict[str, Any] = {"kind": "webhook", "url": URL}
    if secret is not None:
        channel["secret"] = secret
    return {
        "id": "cp-1",
        "kind": "checkpoint",
        "name": "Checkpoint 1",
        "lat": 40.0,
        "lon": 127.0,
        "channels": [channel],
    }


@pytest.fixture()
def api(sqlite_engine: Engine) -> tuple[TestClient, dict[str, str]]:
    with session_scope(sqlite_engine) as db:
        user = create_user(db, username="ri", role=Role.COORDINATOR, actor=None)
        headers = {"Authorization": f"Bearer {issue_token(db, user_id=user.id, actor=None)}"}
    return TestClient(create_app(timers=False)), headers


def _stored(engine: Engine) -> Post | None:
    with session_scope(engine) as db:
        return db.get(Post, "cp-1")


@pytest.mark.parametrize(
    "secret",
    [
        PAIR.public,  # whpk_: verifies only
        "whsk_" + base64.b64encode(b"short").decode(),  # an ed25519 seed must be 32 bytes
    ],
)
def test_api_refuses_a_secret_bolo_cannot_sign_with(
    api: tuple[TestClient, dict[str, str]], sqlite_engine: Engine, secret: str
) -> None:
    client, headers = api
    answer = client.put("/api/v1/posts/cp-1", json=_post(secret), headers=headers)
    assert answer.status_code == 422, answer.text
    message = " ".join(e["message"] for e in answer.json()["errors"])
    assert "whsec_" in message and "whsk_" in message  # what is accepted
    if secret.startswith("whpk_"):
        assert "public key" in message and "cannot sign" in message  # what is wrong
    assert _stored(sqlite_engine) is None


@pytest.mark.parametrize("secret", [new_secret(), PAIR.private, "plain text secret", None])
def test_api_accepts_secrets_that_sign(
    api: tuple[TestClient, dict[str, str]], sqlite_engine: Engine, secret: str | None
) -> None:
    client, headers = api
    answer = client.put("/api/v1/posts/cp-1", json=_post(secret), headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["channels"][0]["has_secret"] is (secret is not None)


def test_a_public_key_on_a_channel_that_is_not_a_webhook_is_not_refused(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    # Only webhook channels are signed; other kinds never use the secret.
    client, headers = api
    body = _post(None)
    body["channels"] = [
        {
            "kind": "apprise",
            "url": "tgram://123456789:abcdefg_hijklmnop/123/",
            "secret": PAIR.public,
        }
    ]
    assert client.put("/api/v1/posts/cp-1", json=body, headers=headers).status_code == 200


def test_cli_refuses_a_public_key_with_the_same_message(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    file = tmp_path / "post.json"
    file.write_text(json.dumps(_post(PAIR.public)), encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["post", "add", str(file)])
    assert result.exit_code != 0
    printed = " ".join(result.output.split())  # rich wraps lines at the terminal width
    assert "whpk_ ed25519 public key" in printed and "cannot sign" in printed
    assert "whsec_" in printed and "whsk_" in printed
    assert _stored(sqlite_engine) is None
    file.write_text(json.dumps(_post(PAIR.private)), encoding="utf-8")
    assert CliRunner().invoke(cli_app, ["post", "add", str(file)]).exit_code == 0
    assert _stored(sqlite_engine) is not None
