"""Counting event-loop turns: a call that holds the loop leaves the count where it was."""

from __future__ import annotations

import asyncio


class LoopTicker:
    """Counts, in ``ticks``, how often a task got to run every ``period_s`` seconds (0: every
    turn of the loop) since ``start`` or the last ``reset``."""

    def __init__(self, period_s: float = 0.0) -> None:
        self.period_s = period_s
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin counting on the running loop."""
        self._task = asyncio.create_task(self._tick())

    def reset(self) -> None:
        """Count from zero again."""
        self.ticks = 0

    def stop(self) -> None:
        """Stop counting (``ticks`` keeps its value)."""
        if self._task is not None:
            self._task.cancel()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.period_s)
            self.ticks += 1
