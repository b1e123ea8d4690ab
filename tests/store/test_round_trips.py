"""What the PostgreSQL store sends the server besides its statements: nothing when it takes a
connection from the pool, and no BEGIN and ROLLBACK around what only reads.

The pool hands out a connection only if the server has not ended it while it was idle, and
finds that out from the driver and the socket, not with a ping (service.store.db). The
driver's side is tested through the app: a blip between requests goes unnoticed
(tests/faults/test_database_down.py) and fails without it. The socket's side is tested here,
with a goodbye that reached the socket before the event loop read it: it fails without it.
"""

from __future__ import annotations

import asyncio
import select
import threading

from sqlalchemy import text

from service.models import ArticleIn
from service.store import db
from service.store.sql import SqlStore
from tests.conftest import PG_URL
from tests.faults.conftest import POSTGRES_ONLY


@POSTGRES_ONLY
async def test_a_checkout_sends_the_server_nothing(database_url: str) -> None:
    engine = db.create_engine(PG_URL)
    sent: list[str] = []
    try:
        async with engine.connect() as conn:  # opens the pool's connection
            driver = (await conn.get_raw_connection()).driver_connection
        driver.add_query_logger(lambda record: sent.append(record.query))
        for _ in range(3):
            async with engine.connect() as conn:
                assert (await conn.get_raw_connection()).driver_connection is driver
                assert (await conn.execute(text("SELECT 41 + 1"))).scalar() == 42
        # Each use is its own transaction; SQLAlchemy's ping would add BEGIN, ";" and ROLLBACK
        # before each. (Statements SQLAlchemy prepares do not reach asyncpg's query loggers.)
        assert sent == ["BEGIN;", "ROLLBACK;"] * 3
    finally:
        await engine.dispose()


@POSTGRES_ONLY
async def test_reads_run_without_a_transaction_and_writes_in_one(database_url: str) -> None:
    schema = database_url.split("#schema=")[1]
    store = SqlStore(db.create_engine(PG_URL, server_settings={"search_path": schema}))
    sent: list[str] = []
    try:
        assert await store.find_article("0" * 64) is None  # opens the pool's connection
        async with store.engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
        driver.add_query_logger(lambda record: sent.append(record.query))
        stored, created = await store.add_article(ArticleIn(text="Smirnov said so."), "a" * 64, [])
        # The write in a transaction (its BEGIN names the default level once the connection has
        # served reads), then get_article's reads without one.
        assert created and [query.split()[0] for query in sent] == ["BEGIN", "COMMIT;"]
        sent.clear()
        assert (await store.find_article("a" * 64)).id == stored.id
        assert await store.article_id("a" * 64) == stored.id
        assert await store.article_texts({stored.id}) == {stored.id: "Smirnov said so."}
        assert sent == []  # at READ COMMITTED each statement has its own snapshot anyway
    finally:
        await store.close()


@POSTGRES_ONLY
async def test_a_goodbye_not_yet_read_keeps_the_connection_from_being_handed_out(
    database_url: str,
) -> None:
    # The server ends a pooled connection and its goodbye (57P01, then end of stream) reaches
    # the socket just before the next checkout, before the event loop has read it: the driver
    # still thinks it open, and only the socket says otherwise (service.store.db._unread).
    engine = db.create_engine(PG_URL)
    try:
        async with engine.connect() as conn:  # opens the pool's connection
            driver = (await conn.get_raw_connection()).driver_connection
        pid = driver.get_server_pid()
        # Terminated from another thread with its own loop, and waited for without letting
        # this loop run: nothing reads the goodbye before the checkout below.
        ender = threading.Thread(target=lambda: asyncio.run(_terminate(pid)))
        ender.start()
        ender.join(10)
        sock = driver._transport.get_extra_info("socket")
        assert select.select([sock.fileno()], [], [], 10)[0], "the server never hung up"
        assert not driver.is_closed()
        async with engine.connect() as conn:
            assert (await conn.get_raw_connection()).driver_connection is not driver
            assert (await conn.execute(text("SELECT 41 + 1"))).scalar() == 42
    finally:
        await engine.dispose()


async def _terminate(pid: int) -> None:
    admin = db.create_engine(PG_URL, pooled=False)
    try:
        async with admin.connect() as conn:
            ended = await conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            assert ended
    finally:
        await admin.dispose()
