"""`bolo user ...`: accounts, passwords, API tokens, one-time codes (run on the server).

Whoever can run these commands can reach the database, so they need no sign-in: this is how
the first admin of an empty database is created. ``--as USER`` names the user acting, so the
audit log (and the two-person rule) know who created an account or issued a token, and the
services check that user's role (an admin; a user may set their own password); without it the
actor is the local operator.
"""

from __future__ import annotations

import getpass
import sys
from datetime import datetime, timedelta
from typing import Annotated

import segno
import typer
from sqlalchemy.orm import Session

from bolo.auth import accounts
from bolo.auth.model import Role, User
from bolo.auth.service import create_user, enroll_totp, issue_token, set_password, user_by_name
from bolo.auth.totp import provisioning_uri
from bolo.cli_support import acting_user, console, fail, handle_errors, print_json
from bolo.clock import now
from bolo.errors import Forbidden
from bolo.store.db import session_scope, upgrade_database

app = typer.Typer(help="Users, passwords, API tokens and one-time codes.", no_args_is_help=True)

AS = Annotated[
    str | None, typer.Option("--as", help="The user acting: an admin (kept in the audit).")
]
JSON = Annotated[bool, typer.Option("--json", help="Print JSON.")]
STDIN = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


def read_password() -> str:
    """The password from standard input (a prompt when it is a terminal), without the final
    line break; never from an argument, so it stays out of shell history and `ps`."""
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    text = sys.stdin.read()
    return text[:-1] if text.endswith("\n") else text


def _actor(db: Session, as_: str | None) -> User | None:
    """The user ``--as`` names (None without it: the local operator); the services check its
    role. A disabled account acts for nobody."""
    if as_ is None:
        return None
    actor = acting_user(db, as_)
    if not actor.active:
        raise Forbidden(f"user {as_!r} is disabled")
    return actor


def _days(days: int | None) -> datetime | None:
    if days is None:
        return None
    if days <= 0:
        raise fail("--days must be at least 1")
    return now() + timedelta(days=days)


def _done(as_json: bool, user: User, message: str, **result: object) -> None:
    """Print what a command did: ``message``, or with --json one object (id, username, and
    ``result``)."""
    if as_json:
        print_json({"id": user.id, "username": user.username, **result})
    else:
        console.print(message, highlight=False)


@app.command("add")
@handle_errors
def add(
    username: str,
    role: Role,
    post: Annotated[str | None, typer.Option("--post", help="The post of a post officer.")] = None,
    password_stdin: STDIN = False,
    token: Annotated[bool, typer.Option("--token", help="Also issue an API token.")] = False,
    as_json: JSON = False,
    as_: AS = None,
) -> None:
    """Create a user with a role (the first admin of an empty database too; a fresh database
    is migrated first)."""
    password = read_password() if password_stdin else None
    upgrade_database()
    with session_scope() as db:
        actor = _actor(db, as_)
        user = create_user(
            db, username=username, role=role, post_id=post, password=password, actor=actor
        )
        secret = issue_token(db, user_id=user.id, label="cli", actor=actor) if token else None
    if as_json:
        out: dict[str, object] = {"id": user.id, "username": user.username, "role": user.role}
        if post:
            out["post_id"] = post
        if secret:
            out["token"] = secret
        print_json(out)
        return
    console.print(f"user {username} ({role.value}) created, id {user.id}", highlight=False)
    if password is None:
        console.print(
            f"no password: {username} cannot sign in to the pages until one is set "
            f"('bolo user passwd {username} --password-stdin'); API tokens work without one",
            highlight=False,
        )
    if secret:
        console.print(f"token: {secret}", highlight=False)


@app.command("passwd")
@handle_errors
def passwd(
    username: str, password_stdin: STDIN = False, as_json: JSON = False, as_: AS = None
) -> None:
    """Set a user's password (from standard input); the user's web sessions end."""
    if not password_stdin:
        raise fail("the password is read from standard input: add --password-stdin")
    password = read_password()
    with session_scope() as db:
        user = user_by_name(db, username=username)
        set_password(db, user_id=user.id, password=password, actor=_actor(db, as_))
    _done(as_json, user, f"password of {username} set; their sessions ended", password_set=True)


@app.command("list")
@handle_errors
def list_(as_json: JSON = False, as_: AS = None) -> None:
    """Every user: role, post, active, password and one-time codes set, live tokens."""
    with session_scope() as db:
        users = accounts.list_users(db, actor=_actor(db, as_))
    if as_json:
        print_json([u.as_json() for u in users])
        return
    for u in users:
        flags = [
            f
            for f, on in (
                ("disabled", not u.active),
                ("password", u.has_password),
                ("totp", u.totp),
            )
            if on
        ]
        where = f" post {u.post_id}" if u.post_id else ""
        console.print(
            f"{u.username:<24} {u.role:<13}{where} tokens {u.live_tokens} {' '.join(flags)}",
            highlight=False,
        )


@app.command("disable")
@handle_errors
def disable(username: str, as_json: JSON = False, as_: AS = None) -> None:
    """Disable a user: no more sign-ins; their sessions and tokens end at once."""
    with session_scope() as db:
        user = user_by_name(db, username=username)
        accounts.disable_user(db, user_id=user.id, actor=_actor(db, as_))
    _done(as_json, user, f"{username} disabled; sessions ended and tokens revoked", active=False)


@app.command("enable")
@handle_errors
def enable(username: str, as_json: JSON = False, as_: AS = None) -> None:
    """Let a disabled user sign in again (old tokens stay revoked)."""
    with session_scope() as db:
        user = user_by_name(db, username=username)
        accounts.enable_user(db, user_id=user.id, actor=_actor(db, as_))
    _done(as_json, user, f"{username} enabled", active=True)


@app.command("end-sessions")
@handle_errors
def end_sessions(username: str, as_json: JSON = False, as_: AS = None) -> None:
    """Sign a user out everywhere now (their web sessions end; tokens stay)."""
    with session_scope() as db:
        user = user_by_name(db, username=username)
        ended = accounts.end_sessions(db, user_id=user.id, actor=_actor(db, as_))
    _done(as_json, user, f"{ended} session(s) of {username} ended", sessions_ended=ended)


@app.command("token")
@handle_errors
def token(
    username: str,
    days: Annotated[
        int | None, typer.Option(help="Expire after this many days (default: BOLO_TOKEN_DAYS).")
    ] = None,
    as_json: JSON = False,
    as_: AS = None,
) -> None:
    """Issue a new API token for a user (shown once)."""
    with session_scope() as db:
        user: User = user_by_name(db, username=username)
        secret = issue_token(
            db, user_id=user.id, label="cli", actor=_actor(db, as_), expires_at=_days(days)
        )
    if as_json:
        print_json({"id": user.id, "username": user.username, "token": secret})
    else:
        console.print(f"token: {secret}", highlight=False)


@app.command("totp")
@handle_errors
def totp(
    username: str,
    remove: Annotated[
        bool, typer.Option("--remove", help="Remove the one-time codes (a lost phone).")
    ] = False,
    as_json: JSON = False,
    as_: AS = None,
) -> None:
    """Enrol one-time codes for a user: prints the otpauth URI and a QR code for the phone.
    From now on the user's sign-ins and approvals need a code."""
    with session_scope() as db:
        user = user_by_name(db, username=username)
        actor = _actor(db, as_)
        if remove:
            accounts.remove_totp(db, user_id=user.id, actor=actor)
            _done(as_json, user, f"one-time codes of {username} removed", totp=False)
            return
        secret = enroll_totp(db, user_id=user.id, actor=actor)
    uri = provisioning_uri(secret, username=username)
    if as_json:
        print_json({"id": user.id, "username": username, "otpauth_uri": uri})
        return
    console.print(f"Scan with the authenticator app of {username}:", highlight=False)
    segno.make(uri, error="m").terminal(out=sys.stdout, compact=True)
    console.print(uri, highlight=False, soft_wrap=True)
