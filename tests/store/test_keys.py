"""API keys in the store, on both databases: hashed at rest, one indexed lookup per request."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from service.errors import InvalidInput, NotFound
from service.store.keys import KeyStore
from service.store.sql import SqlStore
from service.store.tables import ApiKeyRow, utcnow


@pytest.fixture
def keys(store: SqlStore) -> KeyStore:
    return KeyStore(store.engine)


async def test_create_returns_the_key_once_and_stores_only_its_hash(
    keys: KeyStore, store: SqlStore
) -> None:
    record, plain = await keys.create("  cms  ")
    assert len(plain) >= 43  # 32 random bytes, URL-safe base64
    assert (record.name, record.prefix, record.active) == ("cms", plain[:8], True)
    async with store.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM api_keys"))).mappings().all()
    assert len(rows) == 1
    assert rows[0]["key_hash"] == hashlib.sha256(plain.encode()).hexdigest()
    stored = " ".join(str(value) for value in rows[0].values())
    assert plain not in stored
    assert plain[8:] not in stored  # nothing past the display prefix


async def test_each_key_is_different(keys: KeyStore) -> None:
    plains = {(await keys.create(f"k{n}"))[1] for n in range(5)}
    assert len(plains) == 5


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
async def test_a_key_needs_a_name(keys: KeyStore, name: str) -> None:
    with pytest.raises(InvalidInput):
        await keys.create(name)


async def test_verify_accepts_only_active_keys(keys: KeyStore) -> None:
    first, first_plain = await keys.create("first")
    second, second_plain = await keys.create("second")
    assert await keys.verify(first_plain) == first.id
    assert await keys.verify(second_plain) == second.id
    assert await keys.verify(first_plain[:-1]) is None
    assert await keys.verify("") is None
    await keys.revoke(first.id)
    assert await keys.verify(first_plain) is None
    assert await keys.verify(second_plain) == second.id


async def test_list_and_revoke(keys: KeyStore) -> None:
    assert await keys.list() == []
    assert not await keys.any_keys()
    first, _ = await keys.create("first")
    second, _ = await keys.create("second")
    revoked = await keys.revoke(first.id)
    assert revoked.revoked_at is not None and not revoked.active
    again = await keys.revoke(first.id)
    assert again.revoked_at == revoked.revoked_at  # revoking twice keeps the first time
    listed = await keys.list()
    assert [(k.id, k.name, k.active) for k in listed] == [
        (first.id, "first", False),
        (second.id, "second", True),
    ]
    assert await keys.any_keys()  # revoked keys still count


async def test_revoking_an_unknown_key_is_not_found(keys: KeyStore) -> None:
    with pytest.raises(NotFound):
        await keys.revoke(424242)


async def test_last_used_is_written_at_most_once_a_minute(keys: KeyStore, store: SqlStore) -> None:
    record, plain = await keys.create("cms")
    assert record.last_used_at is None
    await keys.verify(plain)
    [first] = await keys.list()
    assert first.last_used_at is not None
    await keys.verify(plain)
    [second] = await keys.list()
    assert second.last_used_at == first.last_used_at  # no write within the minute
    async with store.engine.begin() as conn:
        await conn.execute(update(ApiKeyRow).values(last_used_at=utcnow() - timedelta(minutes=2)))
    await keys.verify(plain)
    [third] = await keys.list()
    assert third.last_used_at is not None and third.last_used_at > first.last_used_at


async def test_key_lookup_uses_the_unique_index(store: SqlStore) -> None:
    query = "SELECT id FROM api_keys WHERE key_hash = 'x'"
    if store.engine.dialect.name == "sqlite":
        plan_sql, expect = f"EXPLAIN QUERY PLAN {query}", "INDEX sqlite_autoindex_api_keys"
    else:
        plan_sql, expect = f"EXPLAIN {query}", "uq_api_keys_key_hash"
    async with store.engine.connect() as conn:
        if store.engine.dialect.name == "postgresql":
            await conn.execute(text("SET enable_seqscan = off"))
        plan = " ".join(str(row) for row in (await conn.execute(text(plan_sql))).all())
    assert expect in plan, plan
