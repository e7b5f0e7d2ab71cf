"""The Post table: one row per receiving unit, with the same id the network gives it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bolo.clock import now
from bolo.store.db import Base
from bolo.store.types import UtcDateTime


class Post(Base):
    """A receiving unit. ``channels`` is a list of ``{"kind", "url", ...}`` in escalation order."""

    __tablename__ = "posts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    mode: Mapped[str] = mapped_column(String(16), default="road")
    network: Mapped[str | None] = mapped_column(String(64), nullable=True)
    node: Mapped[int | None] = mapped_column(Integer, nullable=True)
    region: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The language the post's people read (BCP 47, e.g. "ko" or "fr-AD"): its pages and messages.
    language: Mapped[str | None] = mapped_column(String(35), nullable=True)
    supervisor_id: Mapped[str | None] = mapped_column(ForeignKey("posts.id"), nullable=True)
    channels: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)


class PostsVersion(Base):
    """One row (``id`` 1): ``version`` goes up with every post added or deleted and every
    change of a column the search picture reads (database triggers, migration
    0018_posts_version), whichever process or statement makes it."""

    __tablename__ = "posts_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)
