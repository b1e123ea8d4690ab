"""The texts of cited articles, for telling rewrites apart (service.pipeline.independence),
read from the database only the first time this process needs them.

Every check reads the texts of the articles it cites, and the articles of the event a newsroom
is checking are cited check after check: dozens of texts of up to 5,000 words each, read again
and again, then hashed again by the caches of independence, since each read is a new string.
Stored articles never change (one is added or deleted whole), so a check now reads only their
ids and stamps, and the texts of those this process has not read before. The cached string is
the same object every time, so the caches keyed by it find it without hashing it again.
Measured on 500-word checks citing the benchmark's stored event (in process, runs of both taken
in turns): 3.3-4.2 -> 1.7-2.3 ms a check on PostgreSQL, whose server also stops sending the
texts, and 2.5-3.1 -> 1.9-2.2 ms on SQLite.

The key is the id with its created_at stamp, as in service.store.search: SQLite may hand a
deleted article's id to a new one, and another worker process's cache would not know.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from cachetools import LRUCache
from sqlalchemy import bindparam, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.store.tables import ArticleRow

# Bounded by characters, not by texts: an article may be up to max_article_bytes (1 MB by
# default, and settable), so a count of texts would not bound the memory. 16 million characters
# (16 MB of mostly ASCII text) hold about 500 articles of 5,000 words a process.
CACHE_CHARS = 16_000_000

_ARTICLES = ArticleRow.__table__
_STAMP = literal_column("articles.created_at")  # raw, only compared: no type conversion
_IDS = bindparam("ids", expanding=True)


class ArticleTexts:
    """One per store (per process)."""

    def __init__(self) -> None:
        self._texts: LRUCache[tuple[int, Any], str] = LRUCache(CACHE_CHARS, getsizeof=len)
        self._stamps = select(_ARTICLES.c.id, _STAMP).where(_ARTICLES.c.id.in_(_IDS))
        self._read = select(_ARTICLES.c.id, _STAMP, _ARTICLES.c.text).where(
            _ARTICLES.c.id.in_(_IDS)
        )

    async def read(self, session: AsyncSession, article_ids: Collection[int]) -> dict[int, str]:
        """Each stored article's text by id; ids of articles not stored are left out."""
        stamps = (await session.execute(self._stamps, {"ids": list(article_ids)})).all()
        found: dict[int, str] = {}
        missing: list[int] = []
        for article_id, stamp in stamps:
            if (text := self._texts.get((article_id, stamp))) is not None:
                found[article_id] = text
            else:
                missing.append(article_id)
        if missing:
            rows = await session.execute(self._read, {"ids": missing})
            for article_id, stamp, text in rows:
                found[article_id] = text
                if len(text) <= self._texts.maxsize:  # a larger one would not fit at all
                    self._texts[(article_id, stamp)] = text
        return found


__all__ = ["CACHE_CHARS", "ArticleTexts"]
