"""Submitting a check: run it now, or queue it as a job; an Idempotency-Key makes a retried
POST return the first check instead of running a second one.

    no key, synchronous       the pipeline runs; the report is saved at the end (as before)
    asynchronous              a queued row; the worker runs it (202, Location)
    key, synchronous          a row reserved under this instance's lease, then the pipeline
                              finishes it; if the pipeline fails the row goes, freeing the key
    key seen before           same request: the first check (409 while a synchronous one still
                              runs); another request: IdempotencyKeyReused (422)
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import cached_property

from service.errors import CheckInProgress, WebhookNotConfigured
from service.jobs.destinations import CallbackPolicy
from service.jobs.worker import Clock, keep_lease
from service.models import CheckIn, CheckReport, CheckStatus
from service.pipeline.run import Pipeline
from service.settings import Settings
from service.store.jobs import SqlJobs
from service.store.tables import utcnow

RETRY_AFTER = 5  # seconds a client is told to wait before asking again about a running check


@dataclass(frozen=True)
class Submitted:
    report: CheckReport
    accepted: bool  # True: queued or replayed as a job (202); False: the finished report


@dataclass
class CheckService:
    pipeline: Pipeline
    jobs: SqlJobs
    settings: Settings
    owner: str  # this instance, as named in leases (the worker's name)
    clock: Clock = utcnow

    @cached_property
    def callbacks(self) -> CallbackPolicy:
        """What a callback_url may reach, parsed from the settings once, not per POST. A
        property, not a field: Litestar type-checks this dependency's fields, and msgspec
        refuses the policy's IPv4/IPv6 network union."""
        return CallbackPolicy.of(self.settings)

    async def submit(
        self, request: CheckIn, *, respond_async: bool, idempotency_key: str | None
    ) -> Submitted:
        if request.callback_url is not None and self.settings.webhook_secret is None:
            raise WebhookNotConfigured(
                "callback_url needs a webhook secret to sign deliveries with, and this server "
                "has none: set FACTCHECK_WEBHOOK_SECRET, or poll GET /v1/checks/{id} instead"
            )
        if request.callback_url is not None:
            self.callbacks.check_url(str(request.callback_url))
        if respond_async or request.callback_url is not None:
            check_id, _ = await self._add(request, "queued", idempotency_key, owner=None)
            return Submitted(await self.pipeline.store.get_check(check_id), accepted=True)
        if idempotency_key is None:
            return Submitted(await self.pipeline.check(request), accepted=False)

        check_id, created = await self._add(request, "running", idempotency_key, self.owner)
        if not created:
            first = await self.pipeline.store.get_check(check_id)
            if first.status in ("queued", "running"):
                raise CheckInProgress(
                    f"check {check_id}, first posted with this Idempotency-Key, is still "
                    f"{first.status}: retry later, or GET /v1/checks/{check_id}",
                    check_id=check_id,
                    retry_after=RETRY_AFTER,
                )
            return Submitted(first, accepted=False)
        try:
            lease = self.settings.job_lease_seconds
            async with keep_lease(self.jobs, check_id, self.owner, lease, self.clock):
                report = await self.pipeline.check(request, check_id=check_id)
        except BaseException:
            # Nothing half-stored: a retry with this key runs the check again. (If even this
            # fails, the lease expires and a worker finishes the check.)
            with contextlib.suppress(Exception):
                await self.jobs.discard(check_id, self.owner)
            raise
        return Submitted(report, accepted=False)

    async def _add(
        self, request: CheckIn, status: CheckStatus, key: str | None, owner: str | None
    ) -> tuple[int, bool]:
        now = self.clock()
        extractor, judge = self.pipeline.extractor, self.pipeline.judge
        placeholder = CheckReport(
            id=0,
            article_id=None,
            status=status,
            extractor=extractor.name,
            model=extractor.model,
            prompt_version=extractor.prompt_version,
            judge_prompt_version=judge.prompt_version if judge else None,
            created_at=now,
        )
        return await self.jobs.add(placeholder, request, idempotency_key=key, owner=owner, now=now)
