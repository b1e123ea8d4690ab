"""Runs the pipeline stages in order, and nothing else."""

from __future__ import annotations

from service.models import ArticleIn, ArticleOut
from service.pipeline.ingest import content_hash
from service.store.base import Store


async def store_article(article: ArticleIn, store: Store) -> tuple[ArticleOut, bool]:
    """Ingest one article: (stored article, created). A known text is returned as it is."""
    digest = content_hash(article.text)
    existing = await store.find_article(digest)
    if existing is not None:
        return existing, False
    return await store.add_article(article, digest, claims=[])
