"""The store under concurrent writers: SQLite in WAL mode with a busy timeout, and an insert of
a known text that waits for the uncommitted first one instead of failing or doubling it."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import func, insert, select, text

from service.models import ArticleIn, ClaimData
from service.pipeline.ingest import content_hash
from service.store import db
from service.store.sql import SqlStore
from service.store.tables import ArticleRow, ClaimRow, utcnow
from tests.conftest import engine_for

TEXT = "Smirnov said 12 people were killed. Troops advanced 12 km into Kursk on Monday."


def claim(quote: str) -> ClaimData:
    start = TEXT.index(quote)
    return ClaimData(
        statement=quote, quote=quote, span=(start, start + len(quote)), extractor="test"
    )


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    store = SqlStore.from_url(f"sqlite+aiosqlite:///{path}")  # as the service builds it
    try:
        await db.migrate(store.engine)
        # Two pooled connections at once: each one gets the pragmas, not only the first.
        async with store.engine.connect() as first, store.engine.connect() as second:
            for conn in (first, second):
                assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
                assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 30_000
                assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    finally:
        await store.close()
    # WAL is a property of the file: any later connection, the service's or not, reads it.
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_insert_of_a_text_being_stored_waits_and_returns_the_first(
    database_url: str,
) -> None:
    """Writer A has inserted the article (and its claims) but not committed; B stores the same
    text from another engine. B must wait (PostgreSQL: on the unique index; SQLite: for the
    write lock, through busy_timeout), then answer A's article with A's claims."""
    digest = content_hash(TEXT)
    first, late = SqlStore(engine_for(database_url)), SqlStore(engine_for(database_url))
    try:
        async with first.engine.begin() as conn:
            article_id = (
                await conn.execute(
                    insert(ArticleRow)
                    .values(text=TEXT, content_hash=digest, created_at=utcnow())
                    .returning(ArticleRow.id)
                )
            ).scalar_one()
            quote = "Smirnov said 12 people were killed."
            await conn.execute(
                insert(ClaimRow).values(
                    article_id=article_id,
                    statement=quote,
                    quote=quote,
                    span_start=0,
                    span_end=len(quote),
                    extractor="test",
                )
            )
            second = asyncio.create_task(
                late.add_article(
                    ArticleIn(text=TEXT), digest, [claim("Troops advanced 12 km into Kursk")]
                )
            )
            await asyncio.sleep(0.5)
            assert not second.done(), "the second writer did not wait for the first"
        stored, created = await asyncio.wait_for(second, 10)
        assert not created
        assert stored.id == article_id
        assert [c.quote for c in stored.claims] == [quote]
        async with late.engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(ArticleRow))).scalar() == 1
            claims = (await conn.execute(select(ClaimRow.quote))).scalars().all()
            assert claims == [quote]
            if conn.dialect.name == "sqlite":
                assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
    finally:
        await first.close()
        await late.close()
