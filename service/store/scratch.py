"""A fresh, migrated store that is gone afterwards: for the benchmark and the recording builders.

SQLite: a file in a temporary folder. PostgreSQL: a throwaway schema on the server given, dropped
on the way out (the tests' `database_url` fixture does the same per test, within pytest).
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.errors import StoreUnavailable
from service.store import db
from service.store.sql import SqlStore


@asynccontextmanager
async def scratch_store(
    backend: str, postgres_url: str | None = None, *, prefix: str = "scratch"
) -> AsyncIterator[SqlStore]:
    """Raises StoreUnavailable, naming the URL, when PostgreSQL cannot be reached."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            store = SqlStore(db.create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'store.db'}"))
            try:
                await db.migrate(store.engine)
                yield store
            finally:
                await store.close()
        return
    if not postgres_url:
        raise ValueError("a PostgreSQL scratch store needs postgres_url")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = db.create_engine(postgres_url, pooled=False)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except (OSError, SQLAlchemyError) as exc:
        await admin.dispose()
        raise StoreUnavailable(f"PostgreSQL unreachable at {postgres_url} ({exc})") from exc
    store = SqlStore(db.create_engine(postgres_url, server_settings={"search_path": schema}))
    try:
        await db.migrate(store.engine)
        yield store
    finally:
        await store.close()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
