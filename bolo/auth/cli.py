"""`bolo user ...`: create users and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from bolo.auth.model import Role
from bolo.auth.service import create_user, issue_token, user_by_name
from bolo.cli_support import console, handle_errors
from bolo.store.db import session_scope

app = typer.Typer(help="Users and API tokens.", no_args_is_help=True)


@app.command("add")
@handle_errors
def add(username: str, role: Role,
        token: Annotated[bool, typer.Option(help="Also print a new API token.")] = False) -> None:
    """Create a user with a role."""
    with session_scope() as db:
        user = create_user(db, username=username, role=role)
        secret = issue_token(db, user_id=user.id, label="cli") if token else None
    console.print(f"user {username} ({role.value}) created")
    if secret:
        console.print(f"token: {secret}", highlight=False)


@app.command("token")
@handle_errors
def token(username: str) -> None:
    """Issue a new API token for a user."""
    with session_scope() as db:
        secret = issue_token(db, user_id=user_by_name(db, username=username).id, label="cli")
    console.print(f"token: {secret}", highlight=False)
