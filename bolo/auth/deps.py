"""FastAPI dependencies: a database session per request and the calling user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header
from sqlalchemy.orm import Session

from bolo.auth.model import User
from bolo.auth.service import user_for_token
from bolo.errors import Unauthorized
from bolo.store.db import session_scope


def db_session() -> Iterator[Session]:
    """A session for one request; routes that write call ``commit()`` before answering."""
    with session_scope() as session:
        yield session


DB = Annotated[Session, Depends(db_session)]


def current_user(db: DB, authorization: Annotated[str | None, Header()] = None) -> User:
    """The user of the ``Authorization: Bearer <token>`` header, or 401."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("send an API token: 'Authorization: Bearer <token>'")
    return user_for_token(db, token=authorization.split(" ", 1)[1].strip())


CurrentUser = Annotated[User, Depends(current_user)]
