"""The worker on both databases: expired leases, restarts, several workers, stopping."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from service.app import create_app
from service.jobs import worker as worker_module
from service.jobs.worker import Worker
from service.models import CheckIn, CheckReport
from service.pipeline.run import Pipeline
from service.settings import Settings
from service.store.jobs import SqlJobs
from service.store.sql import SqlStore
from service.store.tables import CheckRow, utcnow
from tests.api.test_async_checks import ARTICLE, GatedExtractor
from tests.conftest import engine_for, make_settings
from tests.store.test_jobs import placeholder

LEASE = 300.0


class CountingPipeline(Pipeline):
    """The real pipeline, counting how often each check is run."""

    runs: Counter[int | None]

    async def check(self, request: CheckIn, check_id: int | None = None) -> CheckReport:
        self.runs[check_id] += 1
        await asyncio.sleep(0.005)  # let the other workers claim meanwhile
        return await super().check(request, check_id)


def settings(**overrides: object) -> Settings:
    values = {"job_concurrency": 0, "job_lease_seconds": LEASE, **overrides}
    return make_settings(**values)


def make_worker(store: SqlStore, extractor=None, owner: str = "w", **overrides) -> Worker:
    config = settings(**overrides)
    pipeline = CountingPipeline(
        store=store, extractor=extractor or GatedExtractor(), judge=None, settings=config
    )
    pipeline.runs = Counter()
    if extractor is None:
        pipeline.extractor.gate.set()  # type: ignore[attr-defined]
    return Worker(pipeline, SqlJobs(store), config, owner=owner)


async def enqueue(store: SqlStore, text: str = ARTICLE["text"]) -> int:
    check_id, _ = await SqlJobs(store).add(
        placeholder(), CheckIn(text=text), idempotency_key=None, owner=None, now=utcnow()
    )
    return check_id


async def attempts(store: SqlStore) -> dict[int, int]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(CheckRow.id, CheckRow.attempts))
        return dict(rows.all())


async def test_a_job_whose_worker_died_is_run_again_after_its_lease(store: SqlStore) -> None:
    check_id = await enqueue(store)
    start = utcnow()
    assert await SqlJobs(store).claim("dead-worker", start, LEASE) is not None

    worker = make_worker(store)
    worker.clock = lambda: start + timedelta(seconds=LEASE / 2)
    assert await worker.poll_once() is None  # the lease still holds
    worker.clock = lambda: start + timedelta(seconds=LEASE + 1)
    assert await worker.poll_once() == check_id
    assert (await store.get_check(check_id)).status == "done"
    assert await attempts(store) == {check_id: 2}


async def test_a_job_that_keeps_killing_workers_fails(store: SqlStore) -> None:
    check_id = await enqueue(store)
    start = utcnow()
    await SqlJobs(store).claim("dead-worker", start, LEASE)
    worker = make_worker(store, job_max_attempts=1)
    worker.clock = lambda: start + timedelta(seconds=LEASE + 1)
    assert await worker.poll_once() == check_id
    failed = await store.get_check(check_id)
    assert failed.status == "failed" and "gave up after 1 attempts" in (failed.error or "")
    assert worker.pipeline.runs == Counter()  # type: ignore[attr-defined]


async def test_workers_polling_concurrently_never_run_a_job_twice(database_url: str) -> None:
    # Separate engines, as separate instances of the service would have.
    stores = [SqlStore(engine_for(database_url)) for _ in range(3)]
    try:
        expected = [await enqueue(stores[0], f"{n} people were evacuated.") for n in range(12)]
        workers = [make_worker(s, owner=f"instance-{n}") for n, s in enumerate(stores)]

        async def drain(worker: Worker) -> None:
            while await worker.poll_once() is not None:
                pass

        await asyncio.gather(*(drain(w) for w in workers))
        runs: Counter[int | None] = Counter()
        for worker in workers:
            runs.update(worker.pipeline.runs)  # type: ignore[attr-defined]
        assert runs == Counter(dict.fromkeys(expected, 1))
        assert await attempts(stores[0]) == dict.fromkeys(expected, 1)
        assert sum(1 for w in workers if w.pipeline.runs) > 1  # type: ignore[attr-defined]
        for check_id in expected:
            assert (await stores[0].get_check(check_id)).status == "done"
    finally:
        for store in stores:
            await store.close()


async def test_jobs_survive_a_restart(database_url: str) -> None:
    before = SqlStore(engine_for(database_url))
    app = create_app(settings(), store=before)
    async with AsyncTestClient(app) as client:
        response = await client.post(
            "/v1/checks", json=ARTICLE, headers={"Prefer": "respond-async"}
        )
        check_id = response.json()["id"]
    # That app is gone (its store closed); a new process finds the job in the database.
    after = SqlStore(engine_for(database_url))
    try:
        assert await make_worker(after).poll_once() == check_id
        assert (await after.get_check(check_id)).status == "done"
    finally:
        await after.close()


async def test_stopping_puts_a_running_job_back(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker_module, "STOP_GRACE", 0.05)
    check_id = await enqueue(store)
    extractor = GatedExtractor()  # never opened: the job is still running at stop()
    worker = make_worker(store, extractor, job_concurrency=1, job_poll_seconds=0.01)
    await worker.start()
    await asyncio.wait_for(extractor.entered.wait(), 10)
    assert (await store.get_check(check_id)).status == "running"
    await worker.stop()

    assert (await store.get_check(check_id)).status == "queued"
    assert await attempts(store) == {check_id: 0}  # the interrupted attempt does not count
    assert await make_worker(store).poll_once() == check_id


async def test_the_loop_runs_jobs_up_to_its_concurrency(store: SqlStore) -> None:
    ids = [await enqueue(store, f"{n} homes were destroyed.") for n in range(3)]
    extractor = GatedExtractor()
    worker = make_worker(store, extractor, job_concurrency=2, job_poll_seconds=0.01)
    await worker.start()
    try:
        await asyncio.wait_for(extractor.entered.wait(), 10)
        await asyncio.sleep(0.2)
        statuses = [(await store.get_check(i)).status for i in ids]
        assert statuses.count("running") == 2 and statuses.count("queued") == 1
        extractor.gate.set()
        for _ in range(500):
            if [(await store.get_check(i)).status for i in ids] == ["done"] * 3:
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("the worker did not finish the jobs")
    finally:
        await worker.stop()
