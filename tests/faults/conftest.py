"""Fixtures and helpers of the fault suite.

The real app on PostgreSQL reached through a TCP proxy that a test cuts and restores
(tests/faults/proxy.py), so the database really goes away and comes back while the server
other tests share keeps running; what the database holds, read around the app; the worker's
clock, moved by hand.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from service.app import create_app
from service.settings import Settings
from service.store import db
from service.store.sql import SqlStore
from service.store.tables import ArticleRow, CheckRow, ClaimRow, utcnow
from tests.conftest import PG_URL, engine_for, make_settings
from tests.faults.proxy import TcpProxy

# Every parameter the database_url fixture (tests/conftest.py) knows, or PostgreSQL alone.
BOTH = pytest.mark.parametrize(
    "database_url",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    target = make_url(PG_URL)
    with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as running:
        yield running


def proxied_store(database_url: str, proxy: TcpProxy, **engine_options: Any) -> SqlStore:
    """The store a production instance would have (pooled engine, dead connections dropped at
    checkout), reaching the test's PostgreSQL schema through the proxy."""
    url, schema = database_url.split("#schema=")
    via_proxy = make_url(url).set(host="127.0.0.1", port=proxy.port)
    engine = db.create_engine(
        via_proxy.render_as_string(hide_password=False),
        # The schema names the app's connections, so a test can find their server processes.
        server_settings={"search_path": schema, "application_name": schema},
        **engine_options,
    )
    return SqlStore(engine)


@dataclass
class Served:
    client: AsyncTestClient
    store: SqlStore  # the app's own, through the proxy
    proxy: TcpProxy


@pytest.fixture
async def served(database_url: str, proxy: TcpProxy) -> AsyncIterator[Served]:
    """The real app (no background worker: tests drive it) on PostgreSQL through the proxy."""
    store = proxied_store(database_url, proxy)
    app = create_app(fault_settings(), store=store)
    async with AsyncTestClient(app) as client:
        yield Served(client, store, proxy)


def fault_settings(**overrides: object) -> Settings:
    return make_settings(**{"job_concurrency": 0, "rate_limit_per_minute": 0, **overrides})


@dataclass(frozen=True)
class Rows:
    articles: int
    claims: int
    orphan_claims: int  # claims whose article is not there
    bare_articles: int  # articles stored without a single claim
    checks: int


async def count_rows(database_url: str) -> Rows:
    """What is in the database, read directly (not through the proxy, not through the app)."""
    rows = select(func.count())
    engine = engine_for(database_url)
    try:
        async with engine.connect() as conn:

            async def count(query: Any) -> int:
                return (await conn.scalar(query)) or 0

            return Rows(
                articles=await count(rows.select_from(ArticleRow)),
                claims=await count(rows.select_from(ClaimRow)),
                orphan_claims=await count(
                    rows.select_from(ClaimRow).where(
                        ClaimRow.article_id.not_in(select(ArticleRow.id))
                    )
                ),
                bare_articles=await count(
                    rows.select_from(ArticleRow).where(
                        ArticleRow.id.not_in(select(ClaimRow.article_id))
                    )
                ),
                checks=await count(rows.select_from(CheckRow)),
            )
    finally:
        await engine.dispose()


class Clock:
    """The worker's clock, moved by the test: backoffs pass without waiting for them."""

    def __init__(self) -> None:
        self.now = utcnow() - timedelta(hours=1)  # before anything is due

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


async def eventually(
    read: Callable[[], Any], condition: Callable[[Any], bool], within: float = 10.0
) -> Any:
    """The first value `read` gives that meets `condition`, within `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = await read()
        if condition(value):
            return value
        assert time.monotonic() < deadline, f"still {value} after {within} s"
        await asyncio.sleep(0.02)
