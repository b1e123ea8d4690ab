"""The store interface: everything the API and pipeline need from persistence, nothing more."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from service.models import ArticleIn, ArticleOut, ClaimData, Page


@runtime_checkable
class Store(Protocol):
    async def add_article(
        self, article: ArticleIn, content_hash: str, claims: list[ClaimData]
    ) -> tuple[ArticleOut, bool]:
        """Store an article with its claims in one transaction.

        Returns (article, created). When an article with the same content hash exists, nothing
        is written and the existing one comes back with created=False.
        """
        ...

    async def find_article(self, content_hash: str) -> ArticleOut | None: ...

    async def get_article(self, article_id: int) -> ArticleOut:
        """Raises NotFound."""
        ...

    async def list_articles(self, limit: int, offset: int) -> Page: ...

    async def delete_article(self, article_id: int) -> None:
        """Delete an article and its claims (they stop being evidence). Raises NotFound."""
        ...

    async def ready(self) -> tuple[str | None, str]:
        """(current migration, head migration); raises StoreUnavailable when unreachable."""
        ...

    async def close(self) -> None: ...
