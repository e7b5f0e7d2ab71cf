"""The group-commit tip writer on SQLite and PostgreSQL: every answered tip is stored, once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from bolo.audit.service import verify
from bolo.clock import now
from bolo.reports.intake import TipIn
from bolo.reports.model import Report, ReportContact
from bolo.reports.pipeline import TipWriter
from bolo.reports.service import DuplicateSubmission, tip_row
from bolo.store.db import session_scope


def _row(i: int) -> dict[str, object]:
    tip = TipIn(
        what=f"couple with a boy, report {i}", place="Kilju", seen_at=now() - timedelta(hours=1)
    )
    return tip_row(tip)


def test_concurrent_tips_are_batched_stored_and_deduplicated(db_engine: Engine) -> None:
    writer = TipWriter(batch_max=16, engine=db_engine)
    rows = [_row(i) for i in range(60)]

    async def main() -> list[object]:
        jobs = [writer.submit(r, "me@example.org" if i % 2 else None) for i, r in enumerate(rows)]
        jobs.append(writer.submit(dict(rows[0], id="other-id", receipt="T-AAAA-AAAA"), None))
        return await asyncio.gather(*jobs, return_exceptions=True)

    results = asyncio.run(main())
    receipts = results[:60]
    assert receipts == [r["receipt"] for r in rows]
    duplicate = results[60]
    assert isinstance(duplicate, DuplicateSubmission) and duplicate.receipt == rows[0]["receipt"]
    assert 4 <= writer.batches < 60
    with session_scope(db_engine) as s:
        assert s.execute(select(func.count()).select_from(Report)).scalar_one() == 60
        assert s.execute(select(func.count()).select_from(ReportContact)).scalar_one() == 30
        assert verify(s).ok
    # Another process (its own writer, its own memory) sends the same tip: the database's
    # unique key catches it, and the answer names the first receipt.
    again = dict(rows[1], id="another-id", receipt="T-BBBB-BBBB")
    with pytest.raises(DuplicateSubmission) as caught:
        asyncio.run(TipWriter(engine=db_engine).submit(again, None))
    assert caught.value.receipt == rows[1]["receipt"]
