"""User and token administration (admins)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from bolo.auth.deps import DB, CurrentUser, allow
from bolo.auth.model import Role, Scope
from bolo.auth.service import create_user, issue_token, revoke_token

router = APIRouter(prefix="/api/v1", tags=["users"])
ADMIN = [allow(Role.ADMIN)]


class UserIn(BaseModel):
    """A user to create."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    role: Role
    post_id: str | None = None


class UserOut(BaseModel):
    """A user."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    username: str
    role: str
    post_id: str | None


class TokenIn(BaseModel):
    """What a new token may do: ``full`` (the user's role) or ``post`` (one post only)."""

    model_config = ConfigDict(extra="forbid")
    scope: Scope = Scope.FULL
    post_id: str | None = Field(default=None, min_length=1, max_length=64)


class TokenOut(BaseModel):
    """A new API token: shown once."""

    token: str


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    """The calling user."""
    return UserOut.model_validate(user)


@router.post("/users", response_model=UserOut, status_code=201, dependencies=ADMIN)
def add_user(body: UserIn, db: DB, user: CurrentUser) -> UserOut:
    """Create a user (admins only)."""
    created = create_user(
        db, username=body.username, role=body.role, post_id=body.post_id, actor=user
    )
    db.commit()
    return UserOut.model_validate(created)


@router.post(
    "/users/{user_id}/tokens", response_model=TokenOut, status_code=201, dependencies=ADMIN
)
def add_token(user_id: str, db: DB, user: CurrentUser, body: TokenIn | None = None) -> TokenOut:
    """Issue an API token for a user (admins only); ``scope: post`` makes a post token that acts
    only for the user's own post."""
    request = body or TokenIn()
    token = issue_token(
        db,
        user_id=user_id,
        label=f"issued by {user.id}",
        scope=request.scope,
        post_id=request.post_id,
        actor=user,
    )
    db.commit()
    return TokenOut(token=token)


@router.delete("/tokens/{token_id}", status_code=204, dependencies=ADMIN)
def delete_token(token_id: str, db: DB, user: CurrentUser) -> None:
    """Revoke an API token at once (admins only)."""
    revoke_token(db, token_id=token_id, actor=user)
    db.commit()
