"""Per-post webhook secrets: one secret per post, rotation signs with both for a grace period."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bolo import clock
from bolo.dispatch.model import PostKey
from bolo.dispatch.signing import Ed25519Key, Key, key_from_string, new_secret

ROTATION_GRACE_S = 24 * 3600.0
log = logging.getLogger(__name__)


def ensure_post_keys(session: Session, wanted: Mapping[str, str | None]) -> None:
    """Give every post in ``wanted`` (post id -> the secret set on its webhook channel, if any)
    a signing secret: the channel's secret when given (a changed one is rotated in, the old one
    signing on during the grace period), else a fresh random one."""
    ids = sorted(wanted)
    have: dict[str, PostKey] = {}
    for start in range(0, len(ids), 500):
        have.update(
            (k.post_id, k)
            for k in session.scalars(
                select(PostKey).where(PostKey.post_id.in_(ids[start : start + 500]))
            )
        )
    when = clock.now()
    missing = [
        {"post_id": p, "secret": wanted[p] or new_secret(), "rotated_at": when}
        for p in ids
        if p not in have
    ]
    for start in range(0, len(missing), 1000):
        session.execute(insert(PostKey), missing[start : start + 1000])
    for post_id, key in have.items():
        given = wanted[post_id]
        if given and given not in (key.secret, key.previous_secret):
            rotate_post_secret(session, post_id=post_id, secret=given)


def set_post_secret(session: Session, *, post_id: str, secret: str) -> None:
    """Set a post's secret outright (registration, tests), without a rotation period."""
    key = session.get(PostKey, post_id)
    if key is None:
        session.add(PostKey(post_id=post_id, secret=secret, rotated_at=clock.now()))
    else:
        key.secret, key.previous_secret, key.previous_until = secret, None, None


def rotate_post_secret(
    session: Session, *, post_id: str, grace_s: float = ROTATION_GRACE_S, secret: str = ""
) -> str:
    """Give the post a new secret; the old one keeps signing for ``grace_s`` seconds so the post
    can switch over. Returns the new secret (hand it to the post over a trusted path)."""
    key = session.get(PostKey, post_id)
    fresh = secret or new_secret()
    now = clock.now()
    if key is None:
        session.add(PostKey(post_id=post_id, secret=fresh, rotated_at=now))
        return fresh
    key.previous_secret, key.previous_until = key.secret, now + timedelta(seconds=grace_s)
    key.secret, key.rotated_at = fresh, now
    return fresh


class KeyRow(Protocol):
    """A post's secrets as stored (a PostKey row, or a plain tuple of its columns)."""

    @property
    def secret(self) -> str: ...
    @property
    def previous_secret(self) -> str | None: ...
    @property
    def previous_until(self) -> datetime | None: ...


@lru_cache(maxsize=65536)
def parsed_key(secret: str) -> Key | None:
    """The key of a stored secret, parsed once per process (an ed25519 seed takes a
    public-key derivation); None, logged, when it cannot be read."""
    try:
        return key_from_string(secret)
    except ValueError as exc:
        # One unreadable secret must not stop a whole claimed batch: the post's sends fail
        # for good with a reason instead (see keys_that_sign).
        log.warning("unreadable webhook secret (%s): the post's webhooks cannot be signed", exc)
        return None


def live_secrets(key: KeyRow | None) -> list[str]:
    """The post's secrets in force now: the current one, plus the previous one until the
    rotation's ``previous_until`` (webhooks are signed, and ack links accepted, with these)."""
    if key is None:
        return []
    if key.previous_secret and key.previous_until and key.previous_until > clock.now():
        return [key.secret, key.previous_secret]
    return [key.secret]


def signing_keys(key: KeyRow | None) -> tuple[Key, ...]:
    """The post's keys now (``live_secrets``). Unreadable secrets are left out (and logged)."""
    keys = [parsed_key(secret) for secret in live_secrets(key)]
    return tuple(k for k in keys if k is not None)


def keys_that_sign(keys: tuple[Key, ...]) -> tuple[Key, ...]:
    """Those of ``keys`` bolo can sign with: an ed25519 public key (``whpk_``) only verifies.
    With none left the webhook send fails for good ("no usable signing key"), not retried."""
    usable = tuple(k for k in keys if not (isinstance(k, Ed25519Key) and not k.private))
    if len(usable) < len(keys):
        log.warning(
            "a post's webhook secret is an ed25519 public key (whpk_): bolo signs v1a "
            "only with the private seed (whsk_)"
        )
    return usable
