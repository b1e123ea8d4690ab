"""Liveness, readiness and the offline API docs."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient
from sqlalchemy import text

from service.app import create_app
from service.store import db
from service.store.sql import SqlStore
from tests.conftest import make_settings


async def test_healthz(client: AsyncTestClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_readyz_reports_current_migration(client: AsyncTestClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ok",
        "detail": None,
        "database": "reachable",
        "migration": db.head_revision(),
    }


async def test_readyz_fails_when_schema_is_behind(store: SqlStore) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    async with AsyncTestClient(create_app(make_settings(), store=store)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert "factcheck migrate" in response.json()["detail"]


async def test_readyz_and_requests_fail_cleanly_without_database() -> None:
    store = SqlStore.from_url("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    async with AsyncTestClient(create_app(make_settings(), store=store)) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"
        posted = await client.post("/v1/articles", json={"text": "12 people died."})
        assert posted.status_code == 503
        assert posted.headers["content-type"].startswith("application/problem+json")
        assert "database unavailable" in posted.json()["detail"]
        assert (await client.get("/healthz")).status_code == 200


async def test_openapi_docs_work_offline(client: AsyncTestClient) -> None:
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/v1/articles", "/v1/articles/{article_id}", "/healthz", "/readyz"} <= paths.keys()
    page = await client.get("/schema")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets, page.text
    for asset in assets:
        assert asset.startswith("/"), f"docs page loads {asset} from the network"
        assert (await client.get(asset)).status_code == 200, asset
