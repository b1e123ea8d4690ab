"""On SQLite, one write transaction at a time per process, queued in the event loop.

SQLite has one write lock per database, and transactions that want it at once do not queue
for it: the one that finds it taken sleeps in SQLite's busy handler, for 1, 2, 5, 10, 15, 20,
25 and up to 100 ms at a time, however soon the lock is free again. A check writes three small
transactions (its judgements, its extraction, its report); in a burst of 64 checks on two
workers, single INSERTs of them took up to 336 ms that way, 8% of them over 10 ms (benchmark
section c, statement times logged), and the last checks of a burst waited on them after their
last LLM answer. So the writers of one process (the store's write methods and the job
queue's) take turns here, on an asyncio lock that hands it to the next at once; SQLite's
handler is left to arbitrate between processes only. PostgreSQL locks rows, not the
database: its writers do not queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from weakref import WeakKeyDictionary


class Writers:
    """The write queue of one store; `serial` is False where the database needs none."""

    def __init__(self, serial: bool) -> None:
        self.serial = serial
        # One lock per event loop: a store may outlive a loop (tests), a lock may not.
        self._locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            WeakKeyDictionary()
        )

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for this process's previous writers, then write (within the block)."""
        if not self.serial:
            yield
            return
        loop = asyncio.get_running_loop()
        if (lock := self._locks.get(loop)) is None:
            lock = self._locks[loop] = asyncio.Lock()
        async with lock:
            yield


__all__ = ["Writers"]
