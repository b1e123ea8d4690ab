"""What a process's checks do first under a burst: the work between their two LLM rounds.

A check waits on the LLM twice: for its extraction, then for its judge call. Under a burst the
extraction answers come back at about the same time, and what a batch of checks takes is the
moment its last judge call leaves plus one LLM round. So the work that sends judge calls
(retrieve and the rules) goes first, a few checks at a time, and the work after a judge answer
(the report, the stores) waits while checks are queued for it: done meanwhile, it would only
delay the judge calls still to leave. A check alone never waits here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from weakref import WeakKeyDictionary

# Checks in retrieve + rules at once, per process (per event loop). Let in together, a burst's
# checks would share the CPU and all send their judge calls late, at once. 64 checks at once
# (1 s LLM latency, 2 workers on 2 cores, three batches each) took 1.58-1.84x one check's time
# instead of 1.82-1.94x on SQLite, and 1.77-1.99x instead of 1.85-2.06x on PostgreSQL (Intel
# Xeon, 2 cores). Two rather than one: one check's database round trips then leave the CPU to
# the other; three measured the same as two (AMD EPYC, runs taken in turns). The cost: a single
# worker on PostgreSQL was about 4% slower, since its CPU then idles during those round trips
# (no other worker takes it).
BETWEEN_ROUNDS = 2
# How long a check's report work yields to queued checks at most: under a load that never lets
# the queue empty, reports are late by this much, not starved. The wait itself (with the
# extraction cache write moved after the judge round), in runs of the two versions taken in
# turns, 8 batches each, 64 at once, SQLite, 2 workers, AMD EPYC with 2 cores: median 1.96x one
# check's time without it, 1.83x with it. The report work then runs while the last judge
# answers are awaited, which is idle time otherwise.
REPORT_PATIENCE = 1.0


class Rounds:
    """One per event loop: the admission between the rounds, and the reports' wait for it."""

    def __init__(self, slots: int) -> None:
        self._slots = asyncio.Semaphore(slots)
        self._queued = 0
        self._drained = asyncio.Event()
        self._drained.set()

    @contextlib.asynccontextmanager
    async def between(self) -> AsyncIterator[None]:
        """Hold one of the slots for retrieve and the rules."""
        self._queued += 1
        self._drained.clear()
        try:
            await self._slots.acquire()
        finally:
            self._queued -= 1
            if not self._queued:
                self._drained.set()
        try:
            yield
        finally:
            self._slots.release()

    async def after(self, patience: float = REPORT_PATIENCE) -> None:
        """Return once no check is queued for a slot, or after `patience` seconds."""
        if self._queued:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(patience):
                    await self._drained.wait()

    @property
    def queued(self) -> int:
        return self._queued


_rounds: WeakKeyDictionary[asyncio.AbstractEventLoop, Rounds] = WeakKeyDictionary()


def rounds() -> Rounds:
    """This event loop's Rounds (each uvicorn worker, each test, has its own loop)."""
    loop = asyncio.get_running_loop()
    if (found := _rounds.get(loop)) is None:
        found = _rounds[loop] = Rounds(BETWEEN_ROUNDS)
    return found


__all__ = ["BETWEEN_ROUNDS", "REPORT_PATIENCE", "Rounds", "rounds"]
