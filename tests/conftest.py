"""Shared fixtures: every store and API test runs on SQLite and on the real PostgreSQL.

PostgreSQL: FACTCHECK_TEST_POSTGRES_URL (default the local server at 127.0.0.1:5432, database
`test`). Without a server the PostgreSQL leg skips with the reason, unless
FACTCHECK_REQUIRE_POSTGRES=1 (CI sets it), which turns the skip into a failure. Each test gets
its own schema, so runs never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from service.app import create_app
from service.settings import Settings
from service.store import db
from service.store.sql import SqlStore

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
PG_URL = os.environ.get(
    "FACTCHECK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REQUIRE_PG = os.environ.get("FACTCHECK_REQUIRE_POSTGRES") == "1"

_pg_reason: list[str | None] = []


async def _probe_postgres() -> str | None:
    engine = db.create_engine(PG_URL)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}: {exc}"
    finally:
        await engine.dispose()


async def _postgres_unavailable() -> str | None:
    if not _pg_reason:
        _pg_reason.append(await _probe_postgres())
    return _pg_reason[0]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated database per test; the value is its URL (with search_path for PG)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        engine = db.create_engine(url)
        await db.migrate(engine)
        await engine.dispose()
        yield url
        return
    reason = await _postgres_unavailable()
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"{reason} (FACTCHECK_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = db.create_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    request.node.pg_schema = schema
    try:
        engine = _pg_engine(schema)
        await db.migrate(engine)
        await engine.dispose()
        yield f"{PG_URL}#schema={schema}"
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


def _pg_engine(schema: str):
    return db.create_engine(PG_URL, pooled=False, server_settings={"search_path": schema})


def engine_for(url: str):
    """An engine for a database_url fixture value (PG URLs carry their schema after '#')."""
    if "#schema=" in url:
        return _pg_engine(url.split("#schema=")[1])
    return db.create_engine(url, pooled=False)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    store = SqlStore(engine_for(database_url))
    yield store
    await store.close()


def make_settings(**overrides: object) -> Settings:
    defaults: dict[str, object] = {
        "database_url": "sqlite+aiosqlite:///:memory:",
        "seed_dir": None,
        "llm_base_url": None,
        "llm_api_key": None,
    }
    return Settings(_env_file=None, **{**defaults, **overrides})  # type: ignore[call-arg]


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
async def client(store: SqlStore, settings: Settings) -> AsyncIterator[AsyncTestClient]:
    app = create_app(settings, store=store)
    async with AsyncTestClient(app) as test_client:
        yield test_client


@pytest.fixture
def seed_texts() -> dict[str, str]:
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))}
