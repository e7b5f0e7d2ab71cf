"""DbRunner.aclose waits for the operation under way without blocking the event loop."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bolo.dispatch.config import DispatchSettings
from bolo.dispatch.runner.database import DbOp, DbRunner, OutboxStore
from tests.dispatch.ticks import LoopTicker


class SlowStore(OutboxStore):
    """An escalation round that takes 0.4 s of a database thread."""

    def call(self, op: DbOp, *args: Any) -> Any:
        time.sleep(0.4)
        return 0


async def test_aclose_lets_the_loop_run_while_the_last_operation_finishes(
    sqlite_engine: Any,
) -> None:
    runner = DbRunner(SlowStore(engine=sqlite_engine, settings=DispatchSettings(), name="t"))
    ticker = LoopTicker(period_s=0.01)
    ticker.start()
    operation = asyncio.create_task(runner(DbOp.ESCALATE))
    await asyncio.sleep(0.05)  # the operation is under way on the thread
    ticker.reset()
    await runner.aclose()
    ticker.stop()
    assert await operation == 0
    assert ticker.ticks >= 10  # close() would have held the loop for the remaining ~0.35 s
