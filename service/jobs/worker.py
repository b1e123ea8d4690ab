"""The in-process worker: claims due check jobs, runs the pipeline on them, delivers webhooks.

Every instance of the service runs one (FACTCHECK_JOB_CONCURRENCY jobs at once; 0: none). The
database is the queue (service.store.jobs), so jobs survive restarts and instances share them.

    LLMUnavailable, StoreUnavailable    back to the queue, due after an exponential backoff;
                                        failed after FACTCHECK_JOB_MAX_ATTEMPTS attempts
    any other error                     failed at once (bad output, a bug: retrying won't help)
    the service stops mid-job           the job goes back to the queue, its attempt uncounted
    the process dies mid-job            its lease expires and another worker claims it
    the database goes away mid-job      the same: nothing can be written, not even the retry
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

from service.errors import FactcheckError, LLMUnavailable, StoreUnavailable
from service.jobs import webhooks
from service.jobs.destinations import CallbackPolicy
from service.pipeline.run import Pipeline
from service.settings import Settings
from service.store.jobs import Job, SqlJobs
from service.store.tables import utcnow

log = logging.getLogger(__name__)

BACKOFF_INITIAL = 10.0  # seconds before a job's second attempt; doubles with each attempt
BACKOFF_CAP = 600.0
STOP_GRACE = 10.0  # seconds running jobs get to finish when the service stops
TRANSIENT = (LLMUnavailable, StoreUnavailable)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


def instance_id() -> str:
    """Names this process in leases: host, pid and a random part (pids repeat in containers)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff(attempts: int) -> timedelta:
    """How long a job waits after its attempt number `attempts` failed transiently."""
    return timedelta(seconds=min(BACKOFF_CAP, BACKOFF_INITIAL * 2 ** max(attempts - 1, 0)))


class Worker:
    def __init__(
        self,
        pipeline: Pipeline,
        jobs: SqlJobs,
        settings: Settings,
        *,
        owner: str | None = None,
        clock: Clock = utcnow,
        sleep: Sleep = asyncio.sleep,
        callbacks: CallbackPolicy | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.jobs = jobs
        self.settings = settings
        self.owner = owner or instance_id()
        self.clock = clock
        self.sleep = sleep  # between webhook attempts; tests hand in one that returns at once
        self.callbacks = callbacks or CallbackPolicy.of(settings)  # what webhooks may reach
        self._stopping = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._outage = False  # the last claim failed for want of the database

    async def poll_once(self) -> int | None:
        """Claim one due job, or else one orphaned delivery, and see it through. Returns the
        check's id, or None when nothing was due. The background loop is made of these."""
        work = await self._claim()
        if work is None:
            return None
        await self._work(work)
        return work.id if isinstance(work, Job) else work[0]

    async def start(self) -> None:
        if self.settings.job_concurrency > 0 and self._loop is None:
            self._stopping.clear()
            self._loop = asyncio.create_task(self._run(), name=f"check-worker {self.owner}")

    async def stop(self) -> None:
        """Stop claiming; give running jobs STOP_GRACE seconds, then put them back."""
        self._stopping.set()
        await self._drain()  # first, as the loop may be waiting for a slot they hold
        if self._loop is not None:
            await self._loop  # it stops between claims, never inside a database call
            self._loop = None
        await self._drain()  # a job claimed just before the stop

    async def _drain(self) -> None:
        if self._running:
            _, late = await asyncio.wait(set(self._running), timeout=STOP_GRACE)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _run(self) -> None:
        slots = asyncio.Semaphore(self.settings.job_concurrency)
        while not self._stopping.is_set():
            await slots.acquire()
            try:
                work = None if self._stopping.is_set() else await self._claim()
                if self._outage:
                    log.info("claiming check jobs works again")
                    self._outage = False
            except StoreUnavailable as exc:  # expected while the database is away: no trace
                # Once per outage, not once per poll (every second, per instance).
                log.log(
                    logging.DEBUG if self._outage else logging.WARNING,
                    "claiming a check job failed: %s",
                    exc.detail,
                )
                self._outage = True
                work = None
            except Exception:
                log.exception("claiming a check job failed")
                work = None
            if work is None:
                slots.release()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.settings.job_poll_seconds)
                continue
            task = asyncio.create_task(self._guarded(work))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            task.add_done_callback(lambda _: slots.release())

    async def _guarded(self, work: Job | tuple[int, str]) -> None:
        check_id = work.id if isinstance(work, Job) else work[0]
        try:
            await self._work(work)
        except StoreUnavailable as exc:
            # The database went away mid-job, so not even a retry could be recorded: an
            # outage, not a bug. The lease expires and another attempt follows.
            log.warning(
                "check %s interrupted (the job, or the delivery of its report), taken up again "
                "once its lease expires: %s",
                check_id,
                exc.detail,
            )
        except Exception:
            # Its lease expires and another attempt follows; nothing to do here but tell.
            log.exception("check job %s failed unexpectedly", check_id)

    async def _claim(self) -> Job | tuple[int, str] | None:
        lease = self.settings.job_lease_seconds
        job = await self.jobs.claim(self.owner, self.clock(), lease)
        if job is not None:
            return job
        return await self.jobs.claim_delivery(self.owner, self.clock(), lease)

    async def _work(self, work: Job | tuple[int, str]) -> None:
        check_id = work.id if isinstance(work, Job) else work[0]
        lease = self.settings.job_lease_seconds
        async with keep_lease(self.jobs, check_id, self.owner, lease, self.clock):
            if isinstance(work, Job):
                finished = await self._run_job(work)
                if finished and work.callback_url:
                    await self._deliver(work.id, work.callback_url)
            else:
                await self._deliver(*work)

    async def _run_job(self, job: Job) -> bool:
        """Run the pipeline on a claimed job; True when it ended (done or failed)."""
        limit = self.settings.job_max_attempts
        if job.attempts > limit:  # its workers kept dying: do not let it take down another
            error = f"gave up after {limit} attempts: the check never finished"
            return await self.jobs.fail(job.id, self.owner, error, self.clock())
        try:
            await self.pipeline.check(job.request, check_id=job.id)
            return True
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.jobs.release(job.id, self.owner, self.clock()))
            raise
        except TRANSIENT as exc:
            if job.attempts >= limit:
                error = f"{exc.detail} (gave up after {job.attempts} attempts)"
                return await self.jobs.fail(job.id, self.owner, error, self.clock())
            due = self.clock() + backoff(job.attempts)
            error = f"{exc.detail} (attempt {job.attempts} of {limit}; next at {due:%H:%M:%S}Z)"
            log.warning("check %s: %s", job.id, error)
            await self.jobs.retry_later(job.id, self.owner, error, due)
            return False
        except FactcheckError as exc:
            return await self.jobs.fail(job.id, self.owner, exc.detail, self.clock())
        except Exception:
            log.exception("check job %s failed", job.id)
            error = "the service failed to run this check; it has been logged"
            return await self.jobs.fail(job.id, self.owner, error, self.clock())

    async def _deliver(self, check_id: int, url: str) -> None:
        report = await self.pipeline.store.get_check(check_id)
        done_before = report.delivery.attempts if report.delivery else 0
        secret = self.settings.webhook_secret
        if secret is None:
            error = "FACTCHECK_WEBHOOK_SECRET is not configured: the report cannot be signed"
            await self.jobs.record_delivery(
                check_id, status="failed", attempts=done_before, error=error
            )
            return

        async def failed_attempt(number: int, error: str) -> None:
            attempts = done_before + number
            await self.jobs.record_delivery(
                check_id, status="pending", attempts=attempts, error=error
            )

        body = report.model_dump_json(exclude={"delivery"}).encode()
        outcome = await webhooks.deliver(
            url,
            check_id,
            body,
            secret.get_secret_value(),
            max_attempts=max(self.settings.webhook_max_attempts - done_before, 1),
            on_failure=failed_attempt,
            sleep=self.sleep,
            transport=self.callbacks.transport(),
        )
        await self.jobs.record_delivery(
            check_id,
            status="delivered" if outcome.delivered else "failed",
            attempts=done_before + outcome.attempts,
            error=outcome.error,
            delivered_at=self.clock() if outcome.delivered else None,
        )


@contextlib.asynccontextmanager
async def keep_lease(
    jobs: SqlJobs, check_id: int, owner: str, lease_seconds: float, clock: Clock
) -> AsyncIterator[None]:
    """Renew owner's lease on check_id every third of a lease while the work inside runs."""
    done = asyncio.Event()

    async def renew() -> None:
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), lease_seconds / 3)
                return
            try:
                if not await jobs.renew(check_id, owner, clock()):
                    log.warning("check %s: lease lost to another worker", check_id)
                    return
            except StoreUnavailable as exc:
                log.warning("check %s: lease not renewed: %s", check_id, exc.detail)

    # Stopped by an event, not cancelled, so a renewal is never cut off inside the database.
    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        done.set()
        await renewing
