"""Checks: cross-check an article against other outlets and read the report again."""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from service.api.guards import require_json_body
from service.models import CheckIn, CheckReport
from service.pipeline.run import Pipeline
from service.store.base import Store


class CheckController(Controller):
    path = "/v1/checks"
    tags: ClassVar[list[str]] = ["checks"]

    @post(
        "/",
        before_request=require_json_body,
        status_code=200,
        summary="Check an article: per-claim verdicts with citations from other outlets",
    )
    async def create(
        self, data: JSONBody[CheckIn], pipeline: NamedDependency[Pipeline]
    ) -> CheckReport:
        return await pipeline.check(data)

    @get("/{check_id:int}", summary="A check's report")
    async def read(self, check_id: FromPath[int], storage: NamedDependency[Store]) -> CheckReport:
        return await storage.get_check(check_id)
