"""What a checkout from the PostgreSQL pool costs: nothing the server sees.

The pool hands out a connection only if the server has not ended it while it was idle, and
finds that out from the driver and the socket, not with a ping (service.store.db). The dead
connections themselves are tested through the app: a blip between requests and backends the
server terminated go unnoticed (tests/faults/test_database_down.py); each of those fails
without one of the two checks.
"""

from __future__ import annotations

from sqlalchemy import text

from service.store import db
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
