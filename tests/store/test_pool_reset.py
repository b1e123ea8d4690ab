"""What the pool hands out: never a connection still inside a transaction.

The pool's own rollback-on-return is off (service.store.db: every use goes through a
SQLAlchemy Connection, whose close() rolls back what it left open). What remains is a close()
whose own rollback failed; a transaction opened behind SQLAlchemy's back stands in for it here.
"""

from __future__ import annotations

from service.store import db
from tests.conftest import PG_URL


def pooled_engine(database_url: str):
    if "#schema=" in database_url:
        schema = database_url.split("#schema=")[1]
        return db.create_engine(PG_URL, server_settings={"search_path": schema})
    return db.create_engine(database_url)


async def test_a_connection_returned_inside_a_transaction_is_not_handed_out_so(
    database_url: str,
) -> None:
    engine = pooled_engine(database_url)
    try:
        async with engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            await driver.execute("BEGIN")
            assert db._in_transaction(driver)
        async with engine.connect() as conn:
            again = (await conn.get_raw_connection()).driver_connection
            assert not db._in_transaction(again)
            if engine.dialect.name == "sqlite":
                assert again is driver  # rolled back and reused
            else:
                # asyncpg's adapter rolls back only what it began itself: the connection stays
                # in the transaction, so the pool discards it and opens another.
                assert again is not driver
    finally:
        await engine.dispose()


async def test_a_committed_connection_costs_no_rollback(database_url: str, monkeypatch) -> None:
    """On SQLite each rollback is a round trip to the connection's thread."""
    engine = pooled_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("SELECT 1")
            adapter = (await conn.get_raw_connection()).dbapi_connection
        rollbacks: list[object] = []
        original = type(adapter).rollback
        monkeypatch.setattr(
            type(adapter), "rollback", lambda self: (rollbacks.append(self), original(self))[1]
        )
        async with engine.begin() as conn:
            await conn.exec_driver_sql("SELECT 1")
        async with engine.connect() as conn:  # a transaction left open: rolled back by close()
            await conn.exec_driver_sql("SELECT 1")
        assert len(rollbacks) == 1
    finally:
        await engine.dispose()
