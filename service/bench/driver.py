"""The benchmark's two HTTP clients: checks to the service, counters and settings of the fake
LLM; one measured check is a reset of the counters, the POST, and a read of the counters."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from service.bench.articles import BenchArticle
from service.bench.processes import BenchError
from service.llm.transport import OneConnectionEach


@dataclass
class LLMCount:
    """What the fake LLM served: calls and tokens of one kind."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @classmethod
    def of(cls, stats: dict[str, Any], kind: str) -> LLMCount:
        own = stats[kind]
        return cls(own["calls"], own["prompt_tokens"], own["completion_tokens"])


class BothKinds:
    """Totals over extraction and judge calls, for anything that counts both."""

    extraction: LLMCount
    judge: LLMCount

    @property
    def calls(self) -> int:
        return self.extraction.calls + self.judge.calls

    @property
    def tokens(self) -> int:
        return self.extraction.tokens + self.judge.tokens


@dataclass
class Measured(BothKinds):
    """One check: its wall time as the client saw it, and what the LLM served for it."""

    words: int
    wall: float
    llm_busy: float  # the fake server's own handling time (union of its intervals)
    claims: int
    extraction: LLMCount
    judge: LLMCount
    article_id: int | None

    @property
    def overhead(self) -> float:
        return self.wall - self.llm_busy


# How long the benchmark waits for one check's answer. The slowest check it makes (5,000 words,
# LLM latency 0) takes well under a second, and one of a burst of 64 with 1 s latency about 6 s;
# a check not answered in this time is a fault to report, not a figure.
CHECK_PATIENCE = 120.0


class Driver:
    def __init__(self, service_url: str, llm_url: str) -> None:
        self.service = httpx.AsyncClient(base_url=service_url, timeout=900)
        # A connection per check in flight, as that many newsroom users would have, pooled
        # without httpcore's scan of every connection (service.llm.transport): with one
        # connection pool of 64, that scan cost this process about 0.5 s of CPU per batch of
        # 64 checks, on the cores the service needs. One TLS context, loaded once.
        self.checks = httpx.AsyncClient(
            base_url=service_url, timeout=CHECK_PATIENCE, transport=OneConnectionEach()
        )
        self.llm = httpx.AsyncClient(base_url=llm_url, timeout=30)

    async def close(self) -> None:
        await self.service.aclose()
        await self.checks.aclose()
        await self.llm.aclose()

    async def configure_llm(self, **config: Any) -> None:
        (await self.llm.post("/config", json=config)).raise_for_status()

    async def reset_llm(self) -> None:
        (await self.llm.post("/reset")).raise_for_status()

    async def llm_stats(self) -> dict[str, Any]:
        answer = await self.llm.get("/stats")
        answer.raise_for_status()
        return answer.json()

    async def stored_articles(self) -> int:
        answer = await self.service.get("/v1/articles", params={"limit": 1})
        answer.raise_for_status()
        return answer.json()["total"]

    async def check(
        self, article: BenchArticle, *, store: bool = True
    ) -> tuple[float, dict[str, Any]]:
        """(seconds, report) of one synchronous POST /v1/checks."""
        started = time.perf_counter()
        try:
            # httpx's timeout bounds each read and write; this bounds the whole exchange
            # (a run once hung with two answers unread in the client's socket buffers).
            async with asyncio.timeout(CHECK_PATIENCE):
                answer = await self.checks.post("/v1/checks", json=article.request(store=store))
        except (TimeoutError, httpx.HTTPError) as exc:
            raise BenchError(
                f"check {article.serial} got no answer: {type(exc).__name__}: {exc} "
                f"(the service log says whether it answered)"
            ) from None
        wall = time.perf_counter() - started
        if answer.status_code != 200:
            raise BenchError(f"check {article.serial} failed: {answer.status_code} {answer.text}")
        return wall, answer.json()

    async def measured_check(self, article: BenchArticle) -> Measured:
        """One check on its own (nothing else running), with the LLM's share of it."""
        await self.reset_llm()
        wall, report = await self.check(article)
        stats = await self.llm_stats()
        return Measured(
            words=article.words,
            wall=wall,
            llm_busy=stats["busy_seconds"],
            claims=report["summary"]["claims"],
            extraction=LLMCount.of(stats, "extraction"),
            judge=LLMCount.of(stats, "judge"),
            article_id=report.get("article_id"),
        )


__all__ = ["Driver", "LLMCount", "Measured"]
