"""The account services check the acting user's role themselves: a caller that forgets the
route's ``allow(ADMIN)`` (a new page, a script, a job) still cannot create users, set another
user's password or issue tokens for a non-admin."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import bolo
from bolo.auth import accounts, service
from bolo.auth.model import Role, Scope, User
from bolo.auth.service import (
    create_user,
    enroll_totp,
    issue_token,
    revoke_token,
    set_password,
    token_for_secret,
)
from bolo.cli import app
from bolo.errors import Forbidden
from bolo.posts.model import Post
from bolo.store.db import session_scope

PASSWORD = "a long enough pass phrase"
NON_ADMINS = [r for r in Role if r != Role.ADMIN]


@pytest.fixture()
def db(sqlite_engine: Engine) -> Iterator[Session]:
    with session_scope(sqlite_engine) as session:
        session.add(Post(id="gate-1", kind="police", name="Gate 1", lat=42.5, lon=1.5))
        session.flush()
        yield session


def _user(db: Session, role: Role, name: str | None = None) -> User:
    post = "gate-1" if role == Role.POST_OFFICER else None
    return create_user(db, username=name or role.value, role=role, post_id=post, actor=None)


@pytest.mark.parametrize("role", NON_ADMINS)
def test_only_an_admin_creates_users(db: Session, role: Role) -> None:
    actor = _user(db, role)
    with pytest.raises(Forbidden):
        create_user(db, username="sneaky", role=Role.ADMIN, actor=actor)
    admin = _user(db, Role.ADMIN, "root")
    made = create_user(db, username="fine", role=Role.VIEWER, actor=admin)
    assert made.created_by == admin.id


@pytest.mark.parametrize("role", NON_ADMINS)
def test_a_user_sets_their_own_password_but_not_anothers(db: Session, role: Role) -> None:
    actor, other = _user(db, role), _user(db, Role.ADMIN, "root")
    with pytest.raises(Forbidden):
        set_password(db, user_id=other.id, password=PASSWORD, actor=actor)
    assert other.password_hash is None
    set_password(db, user_id=actor.id, password=PASSWORD, actor=actor)
    assert actor.password_hash is not None and actor.password_set_by is None
    set_password(db, user_id=actor.id, password=PASSWORD + "!", actor=other)
    assert actor.password_set_by == other.id


@pytest.mark.parametrize("role", NON_ADMINS)
def test_a_non_admin_issues_no_token_of_any_scope(db: Session, role: Role) -> None:
    actor = _user(db, role)
    officer = actor if role == Role.POST_OFFICER else _user(db, Role.POST_OFFICER, "officer")
    with pytest.raises(Forbidden):
        issue_token(db, user_id=actor.id, actor=actor)
    with pytest.raises(Forbidden):
        issue_token(db, user_id=officer.id, scope=Scope.POST, post_id="gate-1", actor=actor)


def test_a_token_has_only_a_scope_the_actor_may_grant(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A role allowed to grant post tokens only (as an organisation could configure for the
    # supervisors who set up the posts' devices) cannot mint a full one.
    monkeypatch.setitem(service.GRANTABLE_SCOPES, Role.SUPERVISOR.value, frozenset({Scope.POST}))
    supervisor, officer = _user(db, Role.SUPERVISOR), _user(db, Role.POST_OFFICER)
    with pytest.raises(Forbidden, match="'full' token"):
        issue_token(db, user_id=officer.id, actor=supervisor)
    secret = issue_token(db, user_id=officer.id, scope="post", post_id="gate-1", actor=supervisor)
    assert token_for_secret(db, token=secret).issued_by == supervisor.id


def test_a_token_is_revoked_by_its_user_or_an_admin_only(db: Session) -> None:
    owner, other = _user(db, Role.COORDINATOR), _user(db, Role.SUPERVISOR)
    row = token_for_secret(db, token=issue_token(db, user_id=owner.id, actor=None))
    with pytest.raises(Forbidden):
        revoke_token(db, token_id=row.id, actor=other)
    assert row.revoked_at is None
    revoke_token(db, token_id=row.id, actor=owner)
    assert row.revoked_at is not None


AdminOnly = Callable[[Session, User, User], object]
ADMIN_ONLY: dict[str, AdminOnly] = {
    "disable": lambda db, t, a: accounts.disable_user(db, user_id=t.id, actor=a),
    "enable": lambda db, t, a: accounts.enable_user(db, user_id=t.id, actor=a),
    "remove_totp": lambda db, t, a: accounts.remove_totp(db, user_id=t.id, actor=a),
    "end_sessions": lambda db, t, a: accounts.end_sessions(db, user_id=t.id, actor=a),
    "enroll_totp": lambda db, t, a: enroll_totp(db, user_id=t.id, actor=a),
    "list_users": lambda db, t, a: accounts.list_users(db, actor=a),
}


@pytest.mark.parametrize("action", sorted(ADMIN_ONLY))
@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.SUPERVISOR, Role.VIEWER])
def test_managing_another_account_needs_an_admin(db: Session, action: str, role: Role) -> None:
    actor, target = _user(db, role), _user(db, Role.APPROVER, "target")
    with pytest.raises(Forbidden):
        ADMIN_ONLY[action](db, target, actor)


def test_a_user_ends_their_own_sessions_and_enrols_their_own_codes(db: Session) -> None:
    viewer = _user(db, Role.VIEWER)
    assert accounts.end_sessions(db, user_id=viewer.id, actor=viewer) == 0
    assert enroll_totp(db, user_id=viewer.id, actor=viewer) == viewer.totp_secret


ROOT = Path(bolo.__file__).parent


def _request_handlers() -> list[Path]:
    """The modules that act for a signed-in caller: the API routes and the web pages."""
    return sorted({*ROOT.glob("*/routes.py"), *ROOT.glob("web/*.py"), ROOT / "api.py"})


def test_no_route_or_page_acts_as_the_local_operator() -> None:
    # None as the actor (or the reader) is the local operator at the server's command line, who
    # passes every role check: a request handler always passes the signed-in user.
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in _request_handlers()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.keyword)
        and node.arg in ("actor", "reader")
        and isinstance(node.value, ast.Constant)
        and node.value.value is None
    ]
    assert len(_request_handlers()) > 10 and found == []


def _cli(*args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


def test_the_cli_bootstraps_the_first_admin_and_refuses_a_non_admin_actor(
    sqlite_engine: Engine,
) -> None:
    assert _cli("user", "add", "root", "admin")[0] == 0  # the local operator, no --as
    assert _cli("user", "add", "ana", "viewer", "--as", "root")[0] == 0
    code, out = _cli("user", "add", "eve", "admin", "--as", "ana")
    assert code == 1 and "may not" in out
    code, out = _cli("user", "token", "root", "--as", "ana")
    assert code == 1 and "may not" in out
    code, out = _cli("user", "passwd", "ana", "--password-stdin", "--as", "ana", stdin=PASSWORD)
    assert code == 0, out
    code, out = _cli("user", "passwd", "root", "--password-stdin", "--as", "ana", stdin=PASSWORD)
    assert code == 1 and "may not" in out


def test_the_cli_says_when_an_account_has_no_password(sqlite_engine: Engine) -> None:
    """`bolo user add NAME ROLE` without --password-stdin makes an account that cannot sign in:
    the command says so and how to set one (a stranger forgot the pipe and could not sign in)."""
    code, out = _cli("user", "add", "ana", "coordinator")
    assert code == 0, out
    assert "no password: ana cannot sign in" in " ".join(out.split())
    assert "bolo user passwd ana --password-stdin" in " ".join(out.split())
    code, out = _cli("user", "add", "pak", "approver", "--password-stdin", stdin=PASSWORD)
    assert code == 0 and "no password" not in out
