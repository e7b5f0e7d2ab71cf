"""Post routes under /api/v1/posts."""

from __future__ import annotations

from fastapi import APIRouter

from bolo.auth.deps import DB, CurrentUser
from bolo.auth.model import Role
from bolo.auth.service import require_role
from bolo.posts import service
from bolo.posts.schemas import PostIn, PostOut

router = APIRouter(prefix="/api/v1/posts", tags=["posts"])


@router.get("", response_model=list[PostOut])
def list_posts(db: DB, user: CurrentUser) -> list[PostOut]:
    """Every active post."""
    require_role(user, Role.COORDINATOR, Role.APPROVER, Role.SUPERVISOR, Role.VIEWER)
    return [PostOut.model_validate(p) for p in service.list_posts(db)]


@router.get("/{post_id}", response_model=PostOut)
def get_post(post_id: str, db: DB, user: CurrentUser) -> PostOut:
    """One post."""
    require_role(user, Role.COORDINATOR, Role.APPROVER, Role.SUPERVISOR, Role.VIEWER)
    return PostOut.model_validate(service.get_post(db, post_id=post_id))


@router.put("/{post_id}", response_model=PostOut)
def put_post(post_id: str, body: PostIn, db: DB, user: CurrentUser) -> PostOut:
    """Create or update a post (its id in the path and body must agree)."""
    require_role(user, Role.COORDINATOR, Role.SUPERVISOR)
    if body.id != post_id:
        from bolo.errors import InvalidInput

        raise InvalidInput(f"the body's id {body.id!r} differs from the path's {post_id!r}")
    post = service.upsert_post(db, data=body, actor_id=user.id)
    db.commit()
    return PostOut.model_validate(post)
