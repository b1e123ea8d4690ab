"""Engines and migrations: one async engine per process, schema owned by Alembic."""

from __future__ import annotations

import select
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic_core import from_json, to_json
from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, ExceptionContext, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool, PoolResetState

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same for every instance of the service.
_PG_MIGRATION_LOCK = 7_202_611
# SQLSTATE classes with which PostgreSQL says it cannot serve now, whatever the query:
# 08 connection exception, 53 insufficient resources ("too many connections", disk full),
# 57 operator intervention (shutting down, starting up, session terminated), 58 system error,
# 40 transaction rollback (deadlock, serialization failure): the same request may succeed later.
_PG_UNAVAILABLE = ("08", "40", "53", "57", "58")


# A database that accepts connections but never answers (a network partition) must not hang
# requests: asyncpg would wait 60 s to connect and forever for a query.
CONNECT_TIMEOUT = 10.0
COMMAND_TIMEOUT = 60.0  # one statement; migrations and bulk loads are batched well below it


def _json_text(value: Any) -> str:
    return to_json(value).decode()


# For every engine. JSON columns (reports, cached extractions and judgements, a claim's
# entities and quantities) are written and read through pydantic-core, which does in Rust what
# the json module does in C plus Python-level encoder calls; they hold plain JSON types only
# (model_dump(mode="json")), so the text differs from json.dumps' only in spacing and in
# writing non-ASCII characters as they are.
# The pool's rollback-on-return is replaced by _reset_if_open: every use goes through a
# SQLAlchemy Connection, whose close() already rolls back a transaction left open, so the
# pool's rollback only repeated it after each commit. On SQLite that was one of the six round
# trips to the connection's thread that every session costs (10.8 per check).
_ENGINE_OPTIONS: dict[str, Any] = {
    "pool_reset_on_return": None,
    "json_serializer": _json_text,
    "json_deserializer": from_json,
}


def create_engine(
    url: str,
    *,
    pooled: bool = True,
    connect_timeout: float = CONNECT_TIMEOUT,
    command_timeout: float | None = COMMAND_TIMEOUT,
    **connect_args: Any,
) -> AsyncEngine:
    """pooled=False opens a connection per use: for tests, whose clients run their own loop.
    The timeouts bound PostgreSQL calls (SQLite's own `timeout` is its wait for a lock)."""
    parsed = make_url(url)
    pool: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, connect_args={"timeout": 30, **connect_args}, **pool, **_ENGINE_OPTIONS
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "reset", _reset_if_open)
        return engine
    if pooled:
        pool = {"pool_size": 10, "max_overflow": 10}
    connect_args = {"timeout": connect_timeout, "command_timeout": command_timeout, **connect_args}
    engine = create_async_engine(url, connect_args=connect_args, **pool, **_ENGINE_OPTIONS)
    event.listen(engine.sync_engine, "handle_error", _pg_unavailable_is_operational)
    event.listen(engine.sync_engine, "reset", _reset_if_open)
    if pooled:
        event.listen(engine.sync_engine.pool, "checkout", _drop_if_closed)
    return engine


def _drop_if_closed(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Hand out a pooled PostgreSQL connection only if the server has not ended it while it was
    idle (a restart, an operator's pg_terminate_backend, a proxy or a network that dropped it);
    otherwise the pool opens a new one and the request never sees the dead one.

    In place of pool_pre_ping, which asks the server on every checkout: SQLAlchemy's asyncpg
    adapter pings with BEGIN, an empty query and ROLLBACK, three round trips per session, and a
    check opens about ten sessions. One claim's search on PostgreSQL (bench section e, 10k
    claims, runs in turns) took p50 15.1-16.7 ms with it and 8.7-11.1 ms without. Asking the
    driver and the socket costs no round trip: an idle connection has nothing to read, so a
    readable socket is one the server closed or wrote its goodbye to (57P01) and the event loop
    has not read yet. A connection that hangs without closing (a network partition) is found
    by the command timeout instead, as the ping would have been."""
    driver = record.driver_connection
    if driver is None or driver.is_closed() or _unread(driver):
        raise DisconnectionError("connection closed by the server while idle in the pool")


def _unread(driver: Any) -> bool:
    """Whether the connection's socket has bytes (or an end of stream) nobody has read."""
    transport = getattr(driver, "_transport", None)  # asyncpg keeps its transport here
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return False
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([sock.fileno()], [], [], 0)[0])
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(0))


def insert_for(dialect: str) -> Any:
    """The dialect's INSERT construct, the one with ON CONFLICT (upserts, insert-or-ignore)."""
    return pg_insert if dialect == "postgresql" else sqlite_insert


def _pg_unavailable_is_operational(context: ExceptionContext) -> BaseException | None:
    """PostgreSQL refusing to serve (too many connections, shutting down, ...) becomes an
    OperationalError, as psycopg raises it, so the store answers StoreUnavailable (503).
    SQLAlchemy's asyncpg adapter raises a bare DBAPIError for these, which the store would
    take for a bug in a query (500), on /readyz too."""
    error = context.original_exception
    sqlstate = str(getattr(error, "sqlstate", None) or "")
    if (
        not isinstance(error, Exception)
        or not sqlstate.startswith(_PG_UNAVAILABLE)
        or isinstance(context.sqlalchemy_exception, OperationalError)
    ):
        return None
    return OperationalError(
        context.statement,
        context.parameters,
        error,
        connection_invalidated=context.is_disconnect,
    )


def _reset_if_open(dbapi_connection: Any, record: Any, state: PoolResetState) -> None:
    """A connection going back to the pool still in a transaction is rolled back, and one that
    stays in it is discarded (an error here makes the pool invalidate it): a close() whose own
    rollback failed (a cancelled request, a lost connection) must not hand the next request a
    transaction, which on SQLite would hold the write lock. Asking is free: the driver knows."""
    if not state.asyncio_safe or not _in_transaction(record.driver_connection):
        return
    dbapi_connection.rollback()
    if _in_transaction(record.driver_connection):
        raise RuntimeError("connection still in a transaction after rollback: discarded")


def _in_transaction(driver: Any) -> bool:
    # aiosqlite's in_transaction reads SQLite's autocommit flag; asyncpg's protocol tracks it.
    if hasattr(driver, "is_in_transaction"):
        return bool(driver.is_in_transaction())
    return bool(driver.in_transaction)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; busy_timeout makes writers wait, not fail;
    # foreign_keys makes ON DELETE CASCADE (and the FTS delete trigger) actually happen.
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None, "no migrations found"
    return head


async def migrate(engine: AsyncEngine) -> str:
    """Upgrade the schema to head; safe to run from several processes at once."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        await conn.run_sync(lambda sync: command.upgrade(_alembic_config(sync), "head"))
    return head_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
