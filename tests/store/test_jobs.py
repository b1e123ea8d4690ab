"""The job queue in the checks table, on both databases: claims, leases, retries, keys."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from service.errors import IdempotencyKeyReused
from service.models import CheckIn, CheckReport
from service.store.jobs import SqlJobs
from service.store.sql import SqlStore
from service.store.tables import CheckRow

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LEASE = 300.0
CALLBACK = "https://cms.example.org/hooks/factcheck"


def placeholder(status: str = "queued") -> CheckReport:
    return CheckReport(
        id=0,
        article_id=None,
        status=status,  # type: ignore[arg-type]
        extractor="offline-rules",
        model=None,
        prompt_version=None,
        created_at=NOW,
    )


def request(text: str = "Smirnov said 12 people had been killed.", **fields) -> CheckIn:
    return CheckIn(text=text, **fields)


async def add(jobs: SqlJobs, text: str = "a", key: str | None = None, **fields) -> int:
    check_id, _ = await jobs.add(
        placeholder(), request(text, **fields), idempotency_key=key, owner=None, now=NOW
    )
    return check_id


async def count_rows(store: SqlStore) -> int:
    async with store.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(CheckRow))).scalar_one()


async def test_claims_the_oldest_due_job_and_counts_the_attempt(store: SqlStore) -> None:
    jobs = SqlJobs(store)
    first, second = await add(jobs, "first"), await add(jobs, "second")
    queued = await store.get_check(first)
    assert (queued.status, queued.claims, queued.delivery) == ("queued", [], None)

    job = await jobs.claim("w1", NOW, LEASE)
    assert job is not None
    assert (job.id, job.attempts, job.request) == (first, 1, request("first"))
    assert (await store.get_check(first)).status == "running"
    assert (await jobs.claim("w1", NOW, LEASE)).id == second  # type: ignore[union-attr]
    assert await jobs.claim("w1", NOW, LEASE) is None


async def test_a_requeued_job_waits_for_its_backoff(store: SqlStore) -> None:
    jobs = SqlJobs(store)
    check_id = await add(jobs)
    await jobs.claim("w1", NOW, LEASE)
    due = NOW + timedelta(seconds=20)
    assert await jobs.retry_later(check_id, "w1", "LLM unavailable", due)

    report = await store.get_check(check_id)
    assert (report.status, report.error) == ("queued", "LLM unavailable")
    assert await jobs.claim("w1", due - timedelta(seconds=1), LEASE) is None
    again = await jobs.claim("w2", due, LEASE)
    assert again is not None and again.attempts == 2


async def test_an_expired_lease_is_claimed_again(store: SqlStore) -> None:
    jobs = SqlJobs(store)
    check_id = await add(jobs)
    await jobs.claim("dead", NOW, LEASE)
    assert await jobs.claim("w2", NOW + timedelta(seconds=LEASE - 1), LEASE) is None

    later = NOW + timedelta(seconds=LEASE + 1)
    job = await jobs.claim("w2", later, LEASE)
    assert job is not None and (job.id, job.attempts) == (check_id, 2)
    # The first worker, should it wake up, owns nothing any more.
    assert not await jobs.renew(check_id, "dead", later)
    assert not await jobs.retry_later(check_id, "dead", "late", later)
    assert await jobs.renew(check_id, "w2", later)


async def test_a_renewed_lease_does_not_expire(store: SqlStore) -> None:
    jobs = SqlJobs(store)
    await add(jobs)
    job = await jobs.claim("w1", NOW, LEASE)
    assert job is not None
    assert await jobs.renew(job.id, "w1", NOW + timedelta(seconds=LEASE - 10))
    assert await jobs.claim("w2", NOW + timedelta(seconds=LEASE + 1), LEASE) is None


async def test_release_puts_the_job_back_without_counting_it(store: SqlStore) -> None:
    jobs = SqlJobs(store)
    await add(jobs)
    job = await jobs.claim("w1", NOW, LEASE)
    assert job is not None and await jobs.release(job.id, "w1", NOW)
    again = await jobs.claim("w1", NOW, LEASE)
    assert again is not None and again.attempts == 1


async def test_failed_job_keeps_its_reason_and_its_delivery_is_pending(store: SqlStore) -> None:
    jobs = SqlJobs(store)
    check_id = await add(jobs, callback_url=CALLBACK)
    job = await jobs.claim("w1", NOW, LEASE)
    assert job is not None and job.callback_url == CALLBACK
    assert not await jobs.fail(check_id, "w2", "not mine", NOW)
    assert await jobs.fail(check_id, "w1", "LLM unavailable (gave up)", NOW)

    report = await store.get_check(check_id)
    assert (report.status, report.error, report.finished_at) == (
        "failed",
        "LLM unavailable (gave up)",
        NOW,
    )
    assert report.delivery is not None
    assert (report.delivery.status, report.delivery.attempts) == ("pending", 0)
    # w1 still holds the lease: it delivers. Once that lease expires, anyone may.
    assert await jobs.claim_delivery("w2", NOW, LEASE) is None
    later = NOW + timedelta(seconds=LEASE + 1)
    assert await jobs.claim_delivery("w2", later, LEASE) == (check_id, CALLBACK)
    assert await jobs.claim("w3", later + timedelta(seconds=LEASE * 2), LEASE) is None

    await jobs.record_delivery(check_id, status="pending", attempts=1, error="HTTP 500")
    await jobs.record_delivery(
        check_id, status="delivered", attempts=2, error=None, delivered_at=later
    )
    delivery = (await store.get_check(check_id)).delivery
    assert delivery is not None
    assert delivery.model_dump() == {
        "status": "delivered",
        "attempts": 2,
        "last_error": "HTTP 500",
        "delivered_at": later,
    }
    assert await jobs.claim_delivery("w2", later + timedelta(days=1), LEASE) is None


async def test_finish_check_stores_the_report_under_the_job(store: SqlStore) -> None:
    jobs = SqlJobs(store)
    check_id = await add(jobs)
    await jobs.claim("w1", NOW, LEASE)
    done = placeholder("done").model_copy(
        update={"created_at": NOW + timedelta(hours=1), "finished_at": NOW + timedelta(hours=1)}
    )
    saved = await store.finish_check(check_id, done)
    assert (saved.id, saved.created_at, saved.status) == (check_id, NOW, "done")
    assert await store.get_check(check_id) == saved
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(CheckRow).where(CheckRow.id == check_id))).one()
    assert row.request is None and row.locked_by is None  # the request goes once it has run


async def test_one_idempotency_key_one_check(store: SqlStore) -> None:
    jobs = SqlJobs(store)
    first = await add(jobs, "same", key="key-1")
    assert await jobs.add(
        placeholder(), request("same"), idempotency_key="key-1", owner=None, now=NOW
    ) == (first, False)
    with pytest.raises(IdempotencyKeyReused) as error:
        await add(jobs, "another text", key="key-1")
    assert error.value.extra["check_id"] == first
    assert await count_rows(store) == 1


async def test_concurrent_posts_with_one_key_make_one_check(store: SqlStore) -> None:
    jobs = SqlJobs(store)
    ids = await asyncio.gather(*(add(jobs, "same", key="race") for _ in range(8)))
    assert len(set(ids)) == 1
    assert await count_rows(store) == 1


async def test_a_discarded_reservation_frees_its_key(store: SqlStore) -> None:
    jobs = SqlJobs(store)
    args = {"idempotency_key": "k", "owner": "w1", "now": NOW}
    check_id, created = await jobs.add(placeholder("running"), request(), **args)
    assert created and (await store.get_check(check_id)).status == "running"
    await jobs.discard(check_id, "w2")  # not its reservation: kept
    assert await count_rows(store) == 1
    await jobs.discard(check_id, "w1")
    assert await count_rows(store) == 0
    _, created = await jobs.add(placeholder("running"), request(), **args)
    assert created


async def test_concurrent_claims_take_every_job_exactly_once(store: SqlStore) -> None:
    jobs = SqlJobs(store)
    expected = [await add(jobs, f"article {n}") for n in range(16)]
    claimed: list[int] = []

    async def claimer(owner: str) -> None:
        while (job := await jobs.claim(owner, NOW, LEASE)) is not None:
            claimed.append(job.id)
            await asyncio.sleep(0)

    await asyncio.gather(*(claimer(f"w{n}") for n in range(6)))
    assert sorted(claimed) == expected
