"""The store interface: everything the API and pipeline need from persistence, nothing more."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from service.models import ArticleIn, ArticleOut, CheckReport, ClaimData, ClaimOut, Page


@dataclass(frozen=True)
class ExtractionKey:
    """What makes an extraction reusable: the same text through the same extractor, model and
    prompt. Changing the prompt file or the model changes the key."""

    content_hash: str
    extractor: str
    model: str | None
    prompt_version: str | None


@dataclass(frozen=True)
class CachedJudgement:
    """The judge's answer about one pair, as the cache keeps it (the key names the pair)."""

    relation: str
    explanation: str
    model: str | None
    prompt_version: str | None


@dataclass(frozen=True)
class Candidate:
    """A stored claim retrieved as possible evidence, with the article it comes from."""

    claim: ClaimOut
    source: str | None
    url: str | None
    title: str | None
    rank: float  # higher is more relevant


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

    async def article_id(self, content_hash: str) -> int | None:
        """The id of the article with this content hash, without loading it."""
        ...

    async def cached_extraction(self, key: ExtractionKey) -> tuple[list[ClaimData], int] | None:
        """(claims, dropped) this text gave this extractor/model/prompt before, if any."""
        ...

    async def cache_extraction(
        self, key: ExtractionKey, claims: list[ClaimData], dropped: int
    ) -> None:
        """Remember an extraction; a concurrent duplicate is ignored."""
        ...

    async def cached_judgements(self, keys: Collection[str]) -> dict[str, CachedJudgement]:
        """The judge's earlier answers for these pair keys (service.llm.judge_cache)."""
        ...

    async def cache_judgements(self, judgements: dict[str, CachedJudgement]) -> None:
        """Remember judge answers by pair key; a key already there is kept as it is."""
        ...

    async def get_article(self, article_id: int) -> ArticleOut:
        """Raises NotFound."""
        ...

    async def list_articles(self, limit: int, offset: int) -> Page: ...

    async def delete_article(self, article_id: int) -> None:
        """Delete an article and its claims (they stop being evidence). Raises NotFound."""
        ...

    async def search_claims(
        self, queries: Sequence[list[str]], exclude_articles: Collection[int], limit: int
    ) -> list[list[Candidate]]:
        """For each query (a claim's search terms), the claims matching any of its terms, best
        first, through the full-text index only. One call serves a whole article's claims."""
        ...

    async def article_texts(self, article_ids: Collection[int]) -> dict[int, str]: ...

    async def save_check(self, report: CheckReport) -> CheckReport:
        """Store a report as a new check; returns it with its id."""
        ...

    async def finish_check(self, check_id: int, report: CheckReport) -> CheckReport:
        """Store the report of a queued or reserved check (service.store.jobs) under its id;
        a callback_url makes its webhook delivery pending. Raises NotFound."""
        ...

    async def get_check(self, check_id: int) -> CheckReport:
        """Raises NotFound."""
        ...

    async def count_checks(self, status: str) -> int:
        """How many checks have this status (`queued`: the job queue depth, for /metrics)."""
        ...

    async def ready(self) -> tuple[str | None, str]:
        """(current migration, head migration); raises StoreUnavailable when unreachable."""
        ...

    async def close(self) -> None: ...
