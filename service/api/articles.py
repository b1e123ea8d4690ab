"""Articles: ingest, list, read, delete."""

from __future__ import annotations

from typing import Annotated, ClassVar

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, QueryParameter

from service.api.guards import require_json_body
from service.api.problems import RowId, problem_responses
from service.models import ArticleIn, ArticleOut, Page
from service.pipeline.run import Pipeline
from service.store.base import Store

StoreDep = NamedDependency[Store]


class ArticleController(Controller):
    path = "/v1/articles"
    tags: ClassVar[list[str]] = ["articles"]

    @post(
        "/",
        before_request=require_json_body,
        summary="Store an article (201), or return the stored copy of the same text (200)",
        responses={
            200: ResponseSpec(ArticleOut, description="The same text was already stored"),
            **problem_responses(400, 413, 415, 422),
        },
    )
    async def create(
        self, data: JSONBody[ArticleIn], pipeline: NamedDependency[Pipeline]
    ) -> Response[ArticleOut]:
        article, created = await pipeline.ingest(data)
        return Response(article, status_code=201 if created else 200)

    @get("/", summary="Stored articles, newest first", responses=problem_responses(400))
    async def list(
        self,
        storage: StoreDep,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        # Bounded: a larger offset overflowed the database's integer (a 500).
        offset: Annotated[int, QueryParameter(ge=0, le=2**31 - 1)] = 0,
    ) -> Page:
        return await storage.list_articles(limit=limit, offset=offset)

    @get(
        "/{article_id:int}",
        summary="One article with its claims",
        responses=problem_responses(400, 404),
    )
    async def read(self, article_id: RowId, storage: StoreDep) -> ArticleOut:
        return await storage.get_article(article_id)

    @delete(
        "/{article_id:int}",
        summary="Delete an article; its claims stop being evidence",
        responses=problem_responses(400, 404),
    )
    async def remove(self, article_id: RowId, storage: StoreDep) -> None:
        await storage.delete_article(article_id)
