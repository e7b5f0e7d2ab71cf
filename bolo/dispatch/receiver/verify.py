"""The post's side: verify a signed webhook, refuse stale timestamps, drop duplicates.

The smallest use, in any Python web framework::

    from bolo.dispatch.receiver.verify import Deduper, verify_webhook
    seen = Deduper()
    alert = verify_webhook(body, headers, ["whsec_..."], seen=seen)
    # -> the payload dict for a new message, None for a duplicate; raises
    #    WebhookVerificationError for a bad signature or a timestamp outside +-5 minutes.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bolo.dispatch.signing import TOLERANCE_S, Key, key_from_string, verify
from bolo.security.jsonparse import load_json

DEDUPE_TTL_S = 7 * 24 * 3600.0


@dataclass
class Deduper:
    """Remembers ``webhook-id``s for ``ttl_s`` seconds (at most ``max_items``, oldest dropped).

    Retries are re-signed with a fresh timestamp, so the memory must outlast the whole retry
    schedule, not just the +-5 minute timestamp window.
    """

    ttl_s: float = DEDUPE_TTL_S
    max_items: int = 1_000_000
    seen: OrderedDict[str, float] = field(default_factory=OrderedDict)

    def check_and_add(self, msg_id: str, now_s: float | None = None) -> bool:
        """True when ``msg_id`` is new (and remember it), False when it is a duplicate."""
        current = time.monotonic() if now_s is None else now_s
        while self.seen:
            oldest, at = next(iter(self.seen.items()))
            if current - at <= self.ttl_s and len(self.seen) < self.max_items:
                break
            del self.seen[oldest]
        if msg_id in self.seen:
            return False
        self.seen[msg_id] = current
        return True

    def forget(self, msg_id: str) -> None:
        """Drop ``msg_id`` (a message refused after it was checked: a resend must be taken)."""
        self.seen.pop(msg_id, None)


def _keys(secrets: Sequence[str | Key]) -> list[Key]:
    return [key_from_string(s) if isinstance(s, str) else s for s in secrets]


def verify_webhook(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str | Key],
    *,
    seen: Deduper | None = None,
    tolerance_s: int = TOLERANCE_S,
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """Verify a bolo webhook and return its JSON payload, or None when ``seen`` already had its
    ``webhook-id``.

    ``secrets`` are the post's keys (``whsec_`` or ``whpk_``; give two while rotating). Raises
    WebhookVerificationError for a missing header, a bad signature or a timestamp more than
    ``tolerance_s`` seconds (default 300) from now; ValueError for a body that is not JSON.
    """
    msg_id = verify(body, headers, _keys(secrets), tolerance_s=tolerance_s, now=now)
    if seen is not None and not seen.check_and_add(msg_id):
        return None
    data = load_json(body)
    if not isinstance(data, dict):
        raise ValueError("the webhook body is not a JSON object")
    data.setdefault("webhook_id", msg_id)
    return data
