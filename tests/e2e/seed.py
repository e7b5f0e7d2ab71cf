"""The fixed cast of the browser journey: posts from the DPRK network and four staff users."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from bolo.auth.model import Role
from bolo.auth.service import create_user
from bolo.network import load
from bolo.posts.model import Post
from bolo.posts.service import import_network_posts
from bolo.store.db import session_scope, upgrade_database

OFFICER_POST = "station-songchon"
# Deliveries exist only for posts with a channel; nothing listens here (no dispatcher runs).
UNREACHABLE_HOOK = "http://127.0.0.1:9/bolo-e2e-hook"


@dataclass(frozen=True)
class Login:
    """A staff user's sign-in: username and password."""

    username: str
    password: str


@dataclass(frozen=True)
class Cast:
    """Who plays the journey."""

    coordinator: Login
    approver: Login
    officer: Login


def seed() -> Cast:
    """Migrate the database of BOLO_DATA_DIR and create posts and users; return their logins."""
    upgrade_database()
    with session_scope() as db:
        import_network_posts(db, network=load("dprk"), actor_id=None)
        post = db.get(Post, OFFICER_POST)
        assert post is not None
        post.channels = [{"kind": "webhook", "url": UNREACHABLE_HOOK}]
        logins = []
        for name, role, post_id in (
            ("alice", Role.COORDINATOR, None),
            ("bob", Role.APPROVER, None),
            ("songchon-officer", Role.POST_OFFICER, OFFICER_POST),
        ):
            password = secrets.token_urlsafe(12)
            create_user(
                db, username=name, role=role, post_id=post_id, password=password, actor=None
            )
            logins.append(Login(name, password))
    return Cast(*logins)
