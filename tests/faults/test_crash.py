"""A check that dies half-way through storing its article leaves no half-stored article, on
SQLite and PostgreSQL: an article row is written with all its claims or not at all.

- a real server process is killed (SIGKILL) between the article's INSERT and its claims'
  INSERT, in a synchronous check and in a worker running an asynchronous one; the job is
  claimed again once its lease has expired, and stored once;
- the claims' INSERT fails inside the database (a trigger raises) while the app runs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text

from service.app import create_app
from service.jobs.worker import Worker
from service.settings import PROJECT_ROOT
from service.store.sql import SqlStore
from service.store.tables import CheckRow, utcnow
from tests.api.test_articles import assert_problem
from tests.conftest import engine_for
from tests.faults.conftest import BOTH, Rows, count_rows, fault_settings

KILLED = "Smirnov said 12 people had been killed in the Kursk region on Monday."
LEASE = 5.0  # the shortest lease the settings allow (FACTCHECK_JOB_LEASE_SECONDS)
START_TIMEOUT = 30.0  # seconds for the server to answer /readyz
DEATH_TIMEOUT = 15.0  # seconds for it to reach the claims' INSERT and die

pytestmark = BOTH


@dataclass
class Server:
    process: asyncio.subprocess.Process
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@asynccontextmanager
async def crashing_server(database_url: str, home: Path) -> AsyncIterator[Server]:
    """`factcheck serve` on this database that kills itself before writing any claims
    (tests/faults/crashing_serve.py); its worker polls often, with the shortest lease."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FACTCHECK_", "OPENAI_"))}
    env |= {
        "FACTCHECK_DATABASE_URL": database_url,
        "FACTCHECK_SEED_DIR": "",
        "FACTCHECK_PORT": str(port),
        "FACTCHECK_LOG_FORMAT": "text",
        "FACTCHECK_JOB_CONCURRENCY": "1",
        "FACTCHECK_JOB_POLL_SECONDS": "0.05",
        "FACTCHECK_JOB_LEASE_SECONDS": str(LEASE),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    log = home / "server.log"
    with log.open("wb") as out:
        # cwd: a temporary folder, so no .env of the checkout leaks in.
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.faults.crashing_serve",
            cwd=home,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        await _wait_until_ready(server)
        yield server
    finally:
        if process.returncode is None:
            process.kill()
        await asyncio.wait_for(process.wait(), DEATH_TIMEOUT)


async def _wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    async with httpx.AsyncClient(base_url=server.url, timeout=2) as client:
        while time.monotonic() < deadline:
            if server.process.returncode is not None:
                pytest.fail(f"server exited {server.process.returncode}:\n{server.output()}")
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    pytest.fail(f"server not ready within {START_TIMEOUT} s:\n{server.output()}")


async def _wait_for_death(server: Server) -> None:
    try:
        returncode = await asyncio.wait_for(server.process.wait(), DEATH_TIMEOUT)
    except TimeoutError:
        pytest.fail(f"the server never reached the claims' INSERT:\n{server.output()}")
    assert returncode == -signal.SIGKILL, server.output()
    assert "SIGKILL before INSERT INTO claims" in server.output()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def next_article_id(database_url: str) -> int | None:
    """PostgreSQL's next article id: sequences do not roll back, so a killed transaction that
    inserted an article leaves a gap. None on SQLite, which reuses the rolled-back id."""
    if "#schema=" not in database_url:
        return None
    engine = engine_for(database_url)
    try:
        async with engine.connect() as conn:
            sequence = await conn.scalar(text("SELECT pg_get_serial_sequence('articles', 'id')"))
            last, called = (
                await conn.execute(text(f"SELECT last_value, is_called FROM {sequence}"))
            ).one()
            return last + 1 if called else last
    finally:
        await engine.dispose()


async def test_a_server_killed_mid_check_stored_nothing(database_url: str, tmp_path: Path) -> None:
    first_id = await next_article_id(database_url)
    async with crashing_server(database_url, tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=DEATH_TIMEOUT) as client:
            with pytest.raises(httpx.TransportError):  # it died without answering
                await client.post("/v1/checks", json={"text": KILLED})
        await _wait_for_death(server)

    assert await count_rows(database_url) == Rows(0, 0, 0, 0, 0)
    if first_id is not None:  # the article's row had been written when the process died
        assert await next_article_id(database_url) == first_id + 1

    # The database is usable as it was left (SQLite recovers its WAL, PostgreSQL has rolled
    # back) and the same article, sent again, is stored whole.
    store = SqlStore(engine_for(database_url))
    async with AsyncTestClient(create_app(fault_settings(), store=store)) as client:
        assert (await client.get("/readyz")).status_code == 200
        response = await client.post("/v1/checks", json={"text": KILLED})
        assert response.status_code == 200, response.text
        report = response.json()
        article = (await client.get(f"/v1/articles/{report['article_id']}")).json()
    assert article["claims"] and [c["id"] for c in article["claims"]] == [
        c["id"] for c in report["claims"]
    ]
    rows = await count_rows(database_url)
    assert (rows.articles, rows.orphan_claims, rows.bare_articles, rows.checks) == (1, 0, 0, 1)


async def test_a_worker_killed_mid_job_stored_nothing_and_the_job_runs_again(
    database_url: str, tmp_path: Path
) -> None:
    async with crashing_server(database_url, tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
            response = await client.post(
                "/v1/checks", json={"text": KILLED}, headers={"Prefer": "respond-async"}
            )
            assert response.status_code == 202, response.text
            check_id = response.json()["id"]
        await _wait_for_death(server)  # its worker claimed the job and died storing it

    assert await count_rows(database_url) == Rows(0, 0, 0, 0, checks=1)
    store = SqlStore(engine_for(database_url))
    async with store.engine.connect() as conn:
        row = (
            await conn.execute(
                select(CheckRow.status, CheckRow.attempts, CheckRow.locked_by).where(
                    CheckRow.id == check_id
                )
            )
        ).one()
    assert (row.status, row.attempts) == ("running", 1)
    assert f":{server.process.pid}:" in row.locked_by  # held by the dead process

    # Another instance: nothing to do while the dead worker's lease lasts, then the job.
    app = create_app(fault_settings(job_lease_seconds=LEASE), store=store)
    worker: Worker = app.state.worker
    async with AsyncTestClient(app) as client:
        now = utcnow()
        worker.clock = lambda: now
        assert await worker.poll_once() is None
        worker.clock = lambda: now + timedelta(seconds=LEASE + 1)
        assert await worker.poll_once() == check_id
        assert await worker.poll_once() is None
        report = (await client.get(f"/v1/checks/{check_id}")).json()
        assert (report["status"], report["error"]) == ("done", None)
        article = (await client.get(f"/v1/articles/{report['article_id']}")).json()
    assert [c["id"] for c in article["claims"]] == [c["id"] for c in report["claims"]]
    assert report["claims"]
    rows = await count_rows(database_url)
    assert (rows.articles, rows.orphan_claims, rows.bare_articles, rows.checks) == (1, 0, 0, 1)


FAILING_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER claims_fail BEFORE INSERT ON claims "
        "BEGIN SELECT RAISE(ABORT, 'injected: claims cannot be written'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION claims_fail() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'injected: claims cannot be written'; END $$",
        "CREATE TRIGGER claims_fail BEFORE INSERT ON claims "
        "FOR EACH ROW EXECUTE FUNCTION claims_fail()",
    ],
}


async def test_claims_that_cannot_be_written_take_their_article_with_them(
    database_url: str,
) -> None:
    store = SqlStore(engine_for(database_url))
    async with store.engine.begin() as conn:
        for statement in FAILING_TRIGGER[store.engine.dialect.name]:
            await conn.execute(text(statement))
    async with AsyncTestClient(create_app(fault_settings(), store=store)) as client:
        for path in ("/v1/articles", "/v1/checks"):
            problem = assert_problem(await client.post(path, json={"text": KILLED}), 500)
            assert "injected" not in problem["detail"]  # the database's words stay in the log
            assert await count_rows(database_url) == Rows(0, 0, 0, 0, 0)
        async with store.engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER claims_fail" + _on_claims(store)))
        response = await client.post("/v1/articles", json={"text": KILLED})
        assert response.status_code == 201, response.text  # not 200: nothing was there
        assert response.json()["claims"]
    rows = await count_rows(database_url)
    assert (rows.articles, rows.orphan_claims, rows.bare_articles) == (1, 0, 0)


def _on_claims(store: SqlStore) -> str:
    return " ON claims" if store.engine.dialect.name == "postgresql" else ""
