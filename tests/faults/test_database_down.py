"""PostgreSQL goes away and comes back under a running app (through tests/faults/proxy.py).

While it is away the readiness probe says so (503), every request that needs it gets a 503
problem+json, never a 500 and never a hang, and nothing is half-written. Once it is back the
same app, not restarted, answers again from its first request: its pool drops the dead
connections (service.store.db._drop_if_closed) instead of handing them out.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

from service.app import create_app
from service.llm.base import ArticleContext, Extraction
from service.llm.offline import OfflineExtractor
from service.store import db
from service.store.sql import SqlStore
from service.store.tables import CheckRow, utcnow
from tests.api.test_articles import assert_problem
from tests.conftest import PG_URL, engine_for
from tests.faults.conftest import (
    POSTGRES_ONLY,
    Clock,
    Rows,
    Served,
    count_rows,
    eventually,
    fault_settings,
    proxied_store,
)
from tests.faults.proxy import TcpProxy

KILLED = "Smirnov said 12 people had been killed in the Kursk region on Monday."
EVACUATED = "Gladkov said 11,000 people had been evacuated from the Belgorod region."
INJURED = "Smirnov said 121 people had been injured in the Kursk region on Monday."
ASYNC = {"Prefer": "respond-async"}
OUTAGE_BUDGET = 5.0  # seconds all the requests made while the database is down may take

pytestmark = POSTGRES_ONLY


def requests_needing_the_database(article_id: int, check_id: int) -> list[tuple[Any, ...]]:
    """(method, path, json body, headers): every kind of request that reads or writes."""
    return [
        ("POST", "/v1/articles", {"text": EVACUATED}, {}),
        ("GET", "/v1/articles", None, {}),
        ("GET", f"/v1/articles/{article_id}", None, {}),
        ("DELETE", f"/v1/articles/{article_id}", None, {}),
        ("POST", "/v1/checks", {"text": INJURED}, {}),
        ("POST", "/v1/checks", {"text": INJURED}, ASYNC),
        ("POST", "/v1/checks", {"text": INJURED}, {"Idempotency-Key": "during-outage"}),
        ("GET", f"/v1/checks/{check_id}", None, {}),
        ("GET", f"/v1/checks/{check_id}/claimreview", None, {}),
    ]


async def test_while_down_requests_get_503_and_once_back_the_same_app_serves(
    served: Served, database_url: str
) -> None:
    client, proxy = served.client, served.proxy
    article = await client.post("/v1/articles", json={"text": KILLED})
    assert article.status_code == 201, article.text
    check = await client.post("/v1/checks", json={"text": INJURED, "store": False})
    assert check.status_code == 200, check.text
    article_id, check_id = article.json()["id"], check.json()["id"]
    assert (await client.get("/readyz")).status_code == 200
    before = await count_rows(database_url)
    assert proxy.open_connections >= 1  # the pool holds connections that are about to die

    proxy.cut()
    started = time.monotonic()
    ready = await client.get("/readyz")
    assert ready.status_code == 503, ready.text
    assert ready.json()["status"] == "unavailable"
    assert "database unavailable" in ready.json()["detail"]
    for method, path, body, headers in requests_needing_the_database(article_id, check_id):
        response = await client.request(method, path, json=body, headers=headers)
        problem = assert_problem(response, 503)  # never a 500
        assert problem["type"].endswith("store-unavailable"), (method, path, problem)
    assert (await client.get("/healthz")).status_code == 200  # alive, only not ready
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert "factcheck_job_queue_depth " not in metrics.text  # left out while unreachable
    assert time.monotonic() - started < OUTAGE_BUDGET  # refused fast, not waited on
    assert await count_rows(database_url) == before  # nothing was written, or half-written

    proxy.restore()
    ready = await client.get("/readyz")  # the very first request after the outage
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": "ok",
        "detail": None,
        "database": "reachable",
        "migration": db.head_revision(),
    }
    stored = await client.get(f"/v1/articles/{article_id}")
    assert stored.status_code == 200
    assert stored.json() == article.json() | {"usage": None}
    assert (await client.get(f"/v1/checks/{check_id}")).json() == check.json()
    posted = await client.post("/v1/articles", json={"text": EVACUATED})
    assert posted.status_code == 201, posted.text  # created now: the outage stored nothing
    keyed = {"Idempotency-Key": "during-outage"}
    rerun = await client.post("/v1/checks", json={"text": INJURED}, headers=keyed)
    assert rerun.status_code == 200 and rerun.json()["status"] == "done"  # the key was free
    assert (await client.delete(f"/v1/articles/{article_id}")).status_code == 204
    after = await count_rows(database_url)
    assert (after.orphan_claims, after.bare_articles) == (0, 0)
    assert (before.articles, after.articles) == (1, 2)  # EVACUATED, INJURED in; KILLED out


async def test_a_silent_database_answers_503_in_bounded_time(
    database_url: str, proxy: TcpProxy
) -> None:
    """A partition: connections stay open and new ones are accepted, but nothing answers.
    The engine's timeouts (service.store.db) turn that into 503s instead of hung requests."""
    store = proxied_store(database_url, proxy, connect_timeout=1.0, command_timeout=1.0)
    app = create_app(fault_settings(), store=store)
    async with AsyncTestClient(app, timeout=30) as client:
        assert (await client.get("/readyz")).status_code == 200
        before = await count_rows(database_url)
        proxy.partition()
        started = time.monotonic()
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and "no answer within the timeout" in ready.text
        assert_problem(await client.post("/v1/articles", json={"text": KILLED}), 503)
        assert_problem(await client.get("/v1/articles"), 503)
        # Each is bounded by a timeout or two (a statement, then a new connection), not by luck.
        assert time.monotonic() - started < 10
        proxy.cut()  # the partition ends: the connections it swallowed bytes of are gone
        proxy.restore()
        await eventually(lambda: client.get("/readyz"), lambda r: r.status_code == 200)
        assert (await client.post("/v1/articles", json={"text": KILLED})).status_code == 201
    await store.close()
    assert (await count_rows(database_url)).articles == before.articles + 1


async def test_a_blip_between_requests_goes_unnoticed(served: Served) -> None:
    """The pool's connections die while idle; the next requests get fresh ones, no 503."""
    client, proxy = served.client, served.proxy
    for article in (KILLED, EVACUATED):
        assert (await client.post("/v1/articles", json={"text": article})).status_code == 201
    connected = proxy.accepted
    proxy.cut()
    proxy.restore()
    for _ in range(3):
        assert (await client.get("/readyz")).status_code == 200
        listed = await client.get("/v1/articles")
        assert listed.status_code == 200, listed.text
        assert listed.json()["total"] == 2
    assert proxy.accepted > connected  # it reconnected rather than reuse a dead connection


async def test_down_again_and_again_then_back(served: Served, database_url: str) -> None:
    """Repeated outages do not wear the pool out (no leaked connections, no stuck state)."""
    client, proxy = served.client, served.proxy
    for n in range(4):
        text = f"Smirnov said {n + 20} people had been killed in the Kursk region on Monday."
        proxy.cut()
        assert_problem(await client.post("/v1/articles", json={"text": text}), 503)
        assert (await client.get("/readyz")).status_code == 503
        proxy.restore()
        response = await client.post("/v1/articles", json={"text": text})
        assert response.status_code == 201, response.text
    rows = await count_rows(database_url)
    assert (rows.articles, rows.orphan_claims, rows.bare_articles) == (4, 0, 0)
    assert proxy.open_connections <= 20  # pool_size + max_overflow (service.store.db)


async def test_the_database_lost_mid_transaction_stores_no_half_article(
    served: Served, database_url: str
) -> None:
    """The connection dies between the article's INSERT and its claims' INSERT, inside the
    one transaction that writes both: the client gets a 503, PostgreSQL rolls back, and the
    same POST once the database is back stores the article whole."""
    cuts: list[str] = []

    def cut_before_claims(_conn, _cursor, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO CLAIMS") and not cuts:
            cuts.append(statement)
            served.proxy.cut()  # called on the app's thread, mid-transaction

    event.listen(served.store.engine.sync_engine, "before_cursor_execute", cut_before_claims)
    for path in ("/v1/articles", "/v1/checks"):
        cuts.clear()
        served.proxy.restore()
        problem = assert_problem(await served.client.post(path, json={"text": KILLED}), 503)
        assert cuts, "the claims were never written: the fault was not injected"
        assert problem["type"].endswith("store-unavailable")
        assert await count_rows(database_url) == Rows(0, 0, 0, 0, 0)
    event.remove(served.store.engine.sync_engine, "before_cursor_execute", cut_before_claims)

    served.proxy.restore()
    response = await served.client.post("/v1/checks", json={"text": KILLED})
    assert response.status_code == 200, response.text
    report = response.json()
    stored = (await served.client.get(f"/v1/articles/{report['article_id']}")).json()
    assert [c["id"] for c in stored["claims"]] == [c["id"] for c in report["claims"]]
    rows = await count_rows(database_url)
    assert (rows.articles, rows.orphan_claims, rows.bare_articles, rows.checks) == (1, 0, 0, 1)


async def test_backends_terminated_by_the_server_go_unnoticed(
    served: Served, database_url: str
) -> None:
    """PostgreSQL ends the app's sessions itself (57P01, as a restart or an operator does):
    the pool finds them dead on checkout and opens new ones."""
    client = served.client
    assert (await client.post("/v1/articles", json={"text": KILLED})).status_code == 201
    schema = database_url.split("#schema=")[1]
    assert await terminate_backends(schema) >= 1

    # pg_terminate_backend only signals the backends: their goodbyes reach the app a moment
    # later (the proxy closes a connection once it has passed its goodbye on), and a checkout
    # before that cannot know without a round trip. The goodbye that arrives just before a
    # checkout, still unread, is tested in tests/store/test_round_trips.py.
    async def still_open() -> int:
        return served.proxy.open_connections

    await eventually(still_open, lambda n: n == 0)
    for path in ("/readyz", "/v1/articles", "/v1/articles/1"):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text)
    assert (await client.post("/v1/articles", json={"text": EVACUATED})).status_code == 201


async def test_postgresql_refusing_connections_is_503_then_recovers(database_url: str) -> None:
    """The server is up but turns the service away ("too many connections": every instance's
    pool counts against max_connections). That is the database being unavailable (503),
    not a bug in the service (500); once it accepts connections again, so does the app."""
    schema = database_url.split("#schema=")[1]
    role = f"faults_{uuid.uuid4().hex[:12]}"
    admin = db.create_engine(PG_URL, pooled=False)
    async with admin.begin() as conn:
        for statement in (
            f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0',
            f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
            f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"',
            f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"',
        ):
            await conn.execute(text(statement))
    try:
        url = make_url(PG_URL).set(username=role, password=None)
        engine = db.create_engine(
            url.render_as_string(hide_password=False), server_settings={"search_path": schema}
        )
        app = create_app(fault_settings(), store=SqlStore(engine))
        async with AsyncTestClient(app) as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 503, ready.text
            assert "too many connections" in ready.json()["detail"]
            for method, path in (("POST", "/v1/articles"), ("GET", "/v1/articles")):
                body = {"text": KILLED} if method == "POST" else None
                problem = assert_problem(await client.request(method, path, json=body), 503)
                assert problem["type"].endswith("store-unavailable")
                assert "too many connections" in problem["detail"]
            assert (await client.get("/metrics")).status_code == 200

            async with admin.begin() as conn:
                await conn.execute(text(f'ALTER ROLE "{role}" CONNECTION LIMIT -1'))
            assert (await client.get("/readyz")).status_code == 200
            assert (await client.post("/v1/articles", json={"text": KILLED})).status_code == 201
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP OWNED BY "{role}"'))
            await conn.execute(text(f'DROP ROLE "{role}"'))
        await admin.dispose()


async def terminate_backends(application_name: str) -> int:
    """Ends the server processes of these connections, as PostgreSQL's fast shutdown does."""
    admin = db.create_engine(PG_URL, pooled=False)
    try:
        async with admin.begin() as conn:
            ended = await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": application_name},
            )
            return sum(1 for (done,) in ended if done)
    finally:
        await admin.dispose()


class CuttingExtractor(OfflineExtractor):
    """The offline extractor, cutting the database away on its first call: a job is then
    half-way, its article extracted and nothing of it stored."""

    def __init__(self, proxy: TcpProxy) -> None:
        self.proxy = proxy
        self.calls = 0

    async def extract(self, chunk: str, context: ArticleContext) -> Extraction:
        self.calls += 1
        if self.calls == 1:
            self.proxy.cut()
        return await super().extract(chunk, context)


async def test_the_database_lost_mid_job_loses_no_job(
    database_url: str, proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker loop (as every instance runs it) is in the middle of a job when the
    database goes: it can neither store the result nor put the job back. The job stays
    claimed by the attempt that died, and once the database is back and that attempt's lease
    has expired, it runs again and is stored once. The outage is logged as one, not as a
    crash with a traceback."""
    lease = 5.0
    settings = fault_settings(job_concurrency=1, job_poll_seconds=0.02, job_lease_seconds=lease)
    extractor = CuttingExtractor(proxy)
    store = proxied_store(database_url, proxy)
    app = create_app(settings, store=store, backends=(extractor, None))
    clock = app.state.worker.clock = Clock()
    caplog.set_level(logging.WARNING, logger="service.jobs")
    async with AsyncTestClient(app) as client:
        accepted = await client.post(
            "/v1/checks", json={"text": KILLED}, headers={"Prefer": "respond-async"}
        )
        assert accepted.status_code == 202, accepted.text
        check_id, location = accepted.json()["id"], accepted.headers["location"]
        clock.now = utcnow()  # the job is due from now on

        for _ in range(500):  # the loop claims it and cuts the database mid-job
            if extractor.calls and not proxy.up:
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("the worker never ran the job")
        await asyncio.sleep(0.3)  # the attempt fails; the loop polls on through the outage
        assert_problem(await client.get(location), 503)
        assert (await client.get("/readyz")).status_code == 503

        proxy.restore()
        stuck = (await client.get(location)).json()
        assert (stuck["status"], stuck["claims"]) == ("running", [])
        await asyncio.sleep(0.3)  # the dead attempt's lease still holds: nobody takes it
        assert extractor.calls == 1
        assert (await count_rows(database_url)).articles == 0

        clock.advance(timedelta(seconds=lease + 1))
        done = await eventually(lambda: _json(client, location), lambda r: r["status"] == "done")
        stored = (await client.get(f"/v1/articles/{done['article_id']}")).json()

    assert extractor.calls == 2
    assert done["error"] is None and done["claims"]
    assert [c["id"] for c in stored["claims"]] == [c["id"] for c in done["claims"]]
    rows = await count_rows(database_url)
    assert (rows.articles, rows.orphan_claims, rows.bare_articles, rows.checks) == (1, 0, 0, 1)
    engine = engine_for(database_url)
    try:
        async with engine.connect() as conn:
            attempts = await conn.scalar(select(CheckRow.attempts).where(CheckRow.id == check_id))
    finally:
        await engine.dispose()
    assert attempts == 2
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    assert any("database" in r.getMessage() for r in caplog.records)


async def _json(client: AsyncTestClient, path: str) -> Any:
    return (await client.get(path)).json()
