"""The console's delivery board shows each post's best channel, in words a coordinator reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bolo import i18n
from bolo.dispatch.model import Delivery, DeliveryStatus, Phase
from bolo.dispatch.outbox import enqueue_version
from bolo.store.db import session_scope
from bolo.web.boards import _lines
from bolo.web.words import word
from tests.dispatch.factories import make_alert, make_post, make_version

TWO = [{"kind": "webhook", "url": "http://h/a"}, {"kind": "webhook", "url": "http://h/a2"}]


def test_board_lines(sqlite_engine: Any) -> None:
    with session_scope(sqlite_engine) as s:
        make_post(s, "fallback", TWO)
        make_post(s, "waiting", TWO)
        make_post(s, "acked", TWO)
        nothing = make_post(s, "nochannel")
        nothing.channels = []
        alert = make_alert(s)
        version = make_version(s, alert, 1, "Alert", ["acked", "fallback", "nochannel", "waiting"])
        enqueue_version(s, version_id=version.id)
        rows = {(d.post_id, d.channel_index): d for d in s.scalars(select(Delivery))}
        # The first channel failed for good, the second got through.
        rows[("fallback", 0)].status = DeliveryStatus.FAILED_PERMANENT
        rows[("fallback", 1)].phase, rows[("fallback", 1)].status = (
            Phase.ACTIVE,
            DeliveryStatus.DELIVERED,
        )
        rows[("acked", 0)].status = DeliveryStatus.DELIVERED
        rows[("acked", 0)].acknowledged_at = version.sent
        rows[("acked", 0)].acknowledged_by = "Sgt. Ri"
        board = _lines(s, alert)
        lines = {line.post_id: line for line in board}
    assert lines["fallback"].status == "delivered"
    assert lines["waiting"].status == "pending"
    assert word(lines["nochannel"].status) == "unreachable: no channel"
    assert lines["acked"].acknowledged_by == "Sgt. Ri"
    assert board[-1].post_id == "acked"  # who has not acknowledged comes first
    with i18n.use("ko"):  # every state of the board in the reader's language
        shown = [word(line.status) for line in board]
    assert shown and not any(c.isascii() and c.isalpha() for text in shown for c in text), shown
