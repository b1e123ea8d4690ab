"""The SQL store on SQLite and PostgreSQL: dedup, transactions, cascade, full-text index."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from service.errors import NotFound
from service.models import ArticleIn, ClaimData, Quantity, TimeRef
from service.pipeline.ingest import content_hash
from service.store.sql import SqlStore


def claim(quote: str, start: int, **extra: object) -> ClaimData:
    return ClaimData(
        statement=extra.pop("statement", quote),  # type: ignore[arg-type]
        quote=quote,
        span=(start, start + len(quote)),
        extractor="test",
        **extra,  # type: ignore[arg-type]
    )


TEXT = "Smirnov said 12 people were killed. Troops advanced 12 km into Kursk on Monday."


async def store_text(store: SqlStore, text_: str = TEXT, claims=None):
    return await store.add_article(ArticleIn(text=text_), content_hash(text_), claims or [])


async def test_article_and_claims_round_trip(store: SqlStore) -> None:
    quantity = Quantity(
        text="12 km", value=12, unit="km", dimension="length", measure="advance", qualifier="exact"
    )
    when = TimeRef(text="on Monday", weekday="Monday")
    claims = [
        claim("Smirnov said 12 people were killed.", 0, claimant="Alexei Smirnov"),
        claim("Troops advanced 12 km into Kursk on Monday.", 36, quantities=[quantity], time=when),
    ]
    article, created = await store_text(store, claims=claims)
    assert created
    assert [c.quote for c in article.claims] == [c.quote for c in claims]
    for stored in article.claims:
        assert TEXT[stored.span[0] : stored.span[1]] == stored.quote
        assert stored.article_id == article.id
    second = article.claims[1]
    assert second.quantities == [quantity]
    assert second.time == when
    assert article.claims[0].claimant == "Alexei Smirnov"


async def test_duplicate_hash_writes_nothing(store: SqlStore) -> None:
    first, created = await store_text(store, claims=[claim("Smirnov said", 0)])
    again, created_again = await store_text(store, claims=[claim("Troops", 36)])
    assert created and not created_again
    assert again.id == first.id
    assert [c.quote for c in again.claims] == ["Smirnov said"]


async def test_concurrent_adds_keep_one_article_and_one_claim_set(store: SqlStore) -> None:
    results = await asyncio.gather(
        *(store_text(store, claims=[claim("Smirnov said", 0)]) for _ in range(10))
    )
    assert sum(created for _, created in results) == 1
    async with store.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM articles"))).scalar() == 1
        assert (await conn.execute(text("SELECT count(*) FROM claims"))).scalar() == 1


async def test_delete_removes_claims_and_their_index_entries(store: SqlStore) -> None:
    article, _ = await store_text(store, claims=[claim("Smirnov said 12 people were killed.", 0)])
    assert await search(store, "killed") == 1
    await store.delete_article(article.id)
    with pytest.raises(NotFound):
        await store.get_article(article.id)
    async with store.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM claims"))).scalar() == 0
    assert await search(store, "killed") == 0


async def test_full_text_index_finds_claims_by_stemmed_word(store: SqlStore) -> None:
    await store_text(
        store, claims=[claim("Troops took control of 28 settlements.", 0, entities=["Kursk"])]
    )
    assert await search(store, "settlement") == 1
    assert await search(store, "evacuated") == 0


async def search(store: SqlStore, word: str) -> int:
    """Count claims the backend's full-text index matches (the index retrieval will use)."""
    if store.engine.dialect.name == "sqlite":
        query = text("SELECT count(*) FROM claims_fts WHERE claims_fts MATCH :q")
    else:
        query = text("SELECT count(*) FROM claims WHERE search @@ plainto_tsquery('english', :q)")
    async with store.engine.connect() as conn:
        return (await conn.execute(query, {"q": word})).scalar_one()


async def test_full_text_query_uses_the_index(store: SqlStore) -> None:
    if store.engine.dialect.name == "sqlite":
        plan_sql = "EXPLAIN QUERY PLAN SELECT rowid FROM claims_fts WHERE claims_fts MATCH 'x'"
        expect = "VIRTUAL TABLE INDEX"
    else:
        plan_sql = "EXPLAIN SELECT id FROM claims WHERE search @@ plainto_tsquery('english', 'x')"
        expect = "ix_claims_search"
    async with store.engine.connect() as conn:
        if store.engine.dialect.name == "postgresql":
            await conn.execute(text("SET enable_seqscan = off"))
        plan = " ".join(str(row) for row in (await conn.execute(text(plan_sql))).all())
    assert expect in plan, plan


async def test_unknown_ids_raise_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        await store.get_article(424242)
    with pytest.raises(NotFound):
        await store.delete_article(424242)


async def test_migrations_are_current_and_idempotent(store: SqlStore) -> None:
    from service.store import db

    current, head = await store.ready()
    assert current == head == db.head_revision()
    assert await db.migrate(store.engine) == head


async def test_article_id_finds_a_stored_text_by_its_hash(store: SqlStore) -> None:
    article, _ = await store_text(store, claims=[claim("Smirnov said", 0)])
    assert await store.article_id(content_hash(TEXT)) == article.id
    assert await store.article_id(content_hash("Some other text.")) is None
