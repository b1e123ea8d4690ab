"""The naive design the benchmark compares with: one LLM judge call per claim–candidate pair.

Run in this process against the same fake LLM and the same database as the service, with the
service's own stages: the same extraction (one call per chunk, no cache), the same retrieve()
(the candidates the service's rules see, up to KEEP_PER_CLAIM per claim), then LLMJudge with a
single pair per call, every pair: no rules first, no batching, no judge cache.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from service.bench.articles import BenchArticle
from service.bench.driver import BothKinds, Driver, LLMCount
from service.llm.base import JudgePair
from service.llm.client import build_client
from service.llm.judge import LLMJudge
from service.llm.llm_extractor import LLMExtractor
from service.models import ArticleIn
from service.pipeline.extract import extract_claims
from service.pipeline.retrieve import retrieve
from service.settings import Settings
from service.store.sql import SqlStore

CONCURRENT_CALLS = 16  # only how fast the bench gets through it; the counts do not depend on it


@dataclass
class NaiveRun(BothKinds):
    claims: int
    pairs: int
    extraction: LLMCount
    judge: LLMCount


class NaiveDesign:
    def __init__(self, database_url: str, llm_url: str) -> None:
        # The service's own settings (FACTCHECK_* of this shell), on its database and LLM.
        self.settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url,
            llm_base_url=f"{llm_url}/v1",
            llm_api_key="bench",
            seed_dir=None,
        )
        client = build_client(self.settings)
        self.extractor = LLMExtractor(self.settings, client=client)
        self.judge = LLMJudge(self.settings, client=client)
        self.store = SqlStore.from_url(database_url)

    async def close(self) -> None:
        await self.store.close()

    async def run(self, article: BenchArticle, exclude: set[int], driver: Driver) -> NaiveRun:
        """Check `article` the naive way; `exclude`: its own stored copy, if any."""
        await driver.reset_llm()
        body = article.request()
        request = ArticleIn(
            text=body["text"],
            title=body["title"],
            source=body["source"],
            published_at=datetime.fromisoformat(body["published_at"]),
        )
        extracted = await extract_claims(
            request,
            self.extractor,
            chunk_tokens=self.settings.chunk_tokens,
            concurrency=self.settings.llm_concurrency,
        )
        claims = extracted.claims
        candidates = await retrieve(claims, self.store, exclude)
        pairs = [
            JudgePair(
                pair_id="p1",
                claim=claim.statement,
                claim_quote=claim.quote,
                evidence=candidate.claim.statement,
                evidence_quote=candidate.claim.quote,
                evidence_source=candidate.source,
            )
            for claim, found in zip(claims, candidates, strict=True)
            for candidate in found
        ]
        limit = asyncio.Semaphore(CONCURRENT_CALLS)

        async def one(pair: JudgePair) -> None:
            async with limit:
                await self.judge.judge([pair])

        await asyncio.gather(*(one(pair) for pair in pairs))
        stats = await driver.llm_stats()
        return NaiveRun(
            claims=len(claims),
            pairs=len(pairs),
            extraction=LLMCount.of(stats, "extraction"),
            judge=LLMCount.of(stats, "judge"),
        )


__all__ = ["NaiveDesign", "NaiveRun"]
