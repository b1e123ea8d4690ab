"""Writers of one process take turns on SQLite (service.store.writes), and only there."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

from sqlalchemy import func, select

from service.store import db
from service.store.base import CachedJudgement
from service.store.sql import SqlStore
from service.store.tables import JudgementRow
from service.store.writes import Writers


async def _most_at_once(writers: Writers, tasks: int = 5) -> int:
    inside, most = 0, 0

    async def write() -> None:
        nonlocal inside, most
        async with writers.turn():
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)  # a transaction's round trips
            inside -= 1

    await asyncio.gather(*(write() for _ in range(tasks)))
    return most


async def test_serial_writers_take_turns_and_others_do_not() -> None:
    assert await _most_at_once(Writers(serial=True)) == 1
    assert await _most_at_once(Writers(serial=False)) == 5


def test_the_queue_of_a_store_serves_each_event_loop_it_meets() -> None:
    # A store outlives a loop in tests; a lock that waited in one loop must not be reused
    # in the next (asyncio would refuse it: bound to a different event loop).
    writers = Writers(serial=True)
    results: list[int] = []
    for _ in range(2):
        thread = threading.Thread(
            target=lambda: results.append(asyncio.run(_most_at_once(writers)))
        )
        thread.start()
        thread.join(10)
    assert results == [1, 1]


async def test_the_store_queues_writers_on_sqlite_only(store: SqlStore) -> None:
    assert store._writers.serial == (store.engine.dialect.name == "sqlite")


async def test_writers_waiting_behind_another_process_all_land(tmp_path) -> None:
    # Another process holds SQLite's write lock; this one's writers queue behind it, one
    # inside SQLite's busy handler and the rest on the queue, and all land once it is free.
    path = tmp_path / "held.db"
    store = SqlStore.from_url(f"sqlite+aiosqlite:///{path}")
    try:
        await db.migrate(store.engine)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        judged = CachedJudgement("supports", "same figure", "m", "p")
        writes = [
            asyncio.create_task(store.cache_judgements({f"pair-{n}": judged})) for n in range(10)
        ]
        await asyncio.sleep(0.2)
        assert not any(task.done() for task in writes)
        other.execute("COMMIT")
        other.close()
        await asyncio.gather(*writes)
        async with store.engine.connect() as conn:
            stored = await conn.scalar(select(func.count()).select_from(JudgementRow))
        assert stored == 10
    finally:
        await store.close()
