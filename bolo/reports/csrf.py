"""CSRF protection for the public tip form: a signed token in the form, its nonce in a cookie.

The token is ``<unix time>.<nonce>.<HMAC>``; a POST is accepted when the HMAC matches, the token is
younger than ``MAX_AGE_S`` and the nonce equals the cookie set with the form (double submit: a
foreign site can neither read the cookie nor forge the HMAC). No server-side session is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import lru_cache

from bolo.clock import now
from bolo.i18n import N_
from bolo.settings import get_settings

COOKIE = "bolo_tip_csrf"
FIELD = "csrf_token"
MAX_AGE_S = 4 * 3600


class CsrfError(ValueError):
    """The form's CSRF token is missing, forged, stale or does not match the cookie."""


@lru_cache(maxsize=1)
def _secret() -> bytes:
    # A file in the data folder, so every worker process shares it and restarts keep forms valid.
    path = get_settings().data_dir / "secrets" / "tip-csrf.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(secrets.token_bytes(32))
        temporary.chmod(0o600)
        temporary.replace(path)
    return path.read_bytes()


def reset_secret() -> None:
    """Forget the cached secret (tests switch data folders)."""
    _secret.cache_clear()


def _mac(payload: str) -> str:
    return hmac.new(_secret(), payload.encode("ascii"), hashlib.sha256).hexdigest()[:32]


def issue() -> tuple[str, str]:
    """A fresh (token for the form, nonce for the cookie) pair."""
    nonce = secrets.token_urlsafe(18)
    payload = f"{int(now().timestamp())}.{nonce}"
    return f"{payload}.{_mac(payload)}", nonce


def check(token: str | None, cookie: str | None) -> None:
    """Accept the pair or raise CsrfError saying what is wrong."""
    if not token:
        raise CsrfError(N_("missing CSRF token: reload the form and send it again"))
    if not cookie:
        raise CsrfError(N_("missing CSRF cookie: allow cookies for this site and reload the form"))
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        raise CsrfError(N_("malformed CSRF token: reload the form"))
    stamp, nonce, mac = parts
    if not hmac.compare_digest(mac, _mac(f"{stamp}.{nonce}")):
        raise CsrfError(N_("invalid CSRF token: reload the form"))
    if now().timestamp() - int(stamp) > MAX_AGE_S:
        raise CsrfError(N_("the form has expired: reload it and send it again"))
    if not hmac.compare_digest(nonce, cookie):
        raise CsrfError(N_("CSRF token does not match the cookie: reload the form"))
