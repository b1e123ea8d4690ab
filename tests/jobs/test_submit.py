"""CheckService.submit under real concurrency (one event loop, the database for real)."""

from __future__ import annotations

import asyncio

import pytest

from service.errors import CheckInProgress
from service.jobs import build_jobs
from service.models import CheckIn
from service.pipeline.run import Pipeline
from service.store.sql import SqlStore
from tests.api.test_async_checks import ARTICLE, GatedExtractor
from tests.conftest import make_settings
from tests.store.test_jobs import count_rows


def service(store: SqlStore, extractor=None):
    settings = make_settings(job_concurrency=0, webhook_secret="s" * 32)
    pipeline = Pipeline(
        store=store, extractor=extractor or GatedExtractor(), judge=None, settings=settings
    )
    return build_jobs(pipeline, settings)


async def test_concurrent_async_submissions_with_one_key_make_one_check(store: SqlStore) -> None:
    checks, _ = service(store)
    request = CheckIn.model_validate(ARTICLE)
    submitted = await asyncio.gather(
        *(checks.submit(request, respond_async=True, idempotency_key="burst") for _ in range(8))
    )
    assert len({s.report.id for s in submitted}) == 1
    assert all(s.accepted and s.report.status == "queued" for s in submitted)
    assert await count_rows(store) == 1


async def test_concurrent_sync_submissions_with_one_key_run_one_check(store: SqlStore) -> None:
    extractor = GatedExtractor()
    checks, _ = service(store, extractor)
    request = CheckIn.model_validate(ARTICLE)

    def submit():
        return checks.submit(request, respond_async=False, idempotency_key="sync-burst")

    first = asyncio.create_task(submit())
    await extractor.entered.wait()
    retries = await asyncio.gather(*(submit() for _ in range(4)), return_exceptions=True)
    assert all(isinstance(r, CheckInProgress) for r in retries), retries
    extractor.gate.set()
    done = (await first).report
    assert done.status == "done" and done.claims
    assert {r.extra["check_id"] for r in retries} == {done.id}  # type: ignore[union-attr]
    assert (await submit()).report == done
    assert await count_rows(store) == 1


async def test_sync_submissions_with_different_keys_are_different_checks(store: SqlStore) -> None:
    extractor = GatedExtractor()
    extractor.gate.set()
    checks, _ = service(store, extractor)
    request = CheckIn.model_validate(ARTICLE)
    a, b = await asyncio.gather(
        checks.submit(request, respond_async=False, idempotency_key="a"),
        checks.submit(request, respond_async=False, idempotency_key="b"),
    )
    assert a.report.id != b.report.id
    assert await count_rows(store) == 2


@pytest.mark.parametrize("respond_async", [False, True])
async def test_without_a_key_every_submission_is_a_new_check(
    store: SqlStore, respond_async: bool
) -> None:
    extractor = GatedExtractor()
    extractor.gate.set()
    checks, _ = service(store, extractor)
    request = CheckIn.model_validate(ARTICLE)
    for _ in range(2):
        await checks.submit(request, respond_async=respond_async, idempotency_key=None)
    assert await count_rows(store) == 2
