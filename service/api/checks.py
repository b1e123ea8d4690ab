"""Checks: cross-check an article against other outlets and read the report again."""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from service.api.async_checks import (
    ACCEPTED,
    IdempotencyKeyHeader,
    PreferHeader,
    prefers_async,
    submitted_response,
)
from service.api.guards import require_json_body
from service.api.problems import RowId, problem_responses
from service.claimreview import JsonLd, load_claim_reviews
from service.jobs.submit import CheckService
from service.models import CheckIn, CheckReport
from service.settings import Settings
from service.store.base import Store


class CheckController(Controller):
    path = "/v1/checks"
    tags: ClassVar[list[str]] = ["checks"]

    @post(
        "/",
        before_request=require_json_body,
        status_code=200,
        summary="Check an article: per-claim verdicts with citations from other outlets",
        responses={**ACCEPTED, **problem_responses(400, 413, 415, 422)},
    )
    async def create(
        self,
        data: JSONBody[CheckIn],
        checks: NamedDependency[CheckService],
        prefer: PreferHeader = None,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[CheckReport]:
        async_ = prefers_async(prefer)
        submitted = await checks.submit(data, respond_async=async_, idempotency_key=idempotency_key)
        return submitted_response(submitted, prefer)

    @get("/{check_id:int}", summary="A check's report", responses=problem_responses(400, 404))
    async def read(self, check_id: RowId, storage: NamedDependency[Store]) -> CheckReport:
        return await storage.get_check(check_id)

    @get(
        "/{check_id:int}/claimreview",
        summary="A check as schema.org ClaimReview JSON-LD, one review per claim",
        media_type="application/ld+json",
        responses=problem_responses(400, 404),
    )
    async def claimreview(
        self,
        check_id: RowId,
        storage: NamedDependency[Store],
        settings: NamedDependency[Settings],
    ) -> Response[list[JsonLd]]:
        reviews = await load_claim_reviews(storage, check_id, settings)
        return Response(reviews, media_type="application/ld+json")
