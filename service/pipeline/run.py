"""Runs the pipeline stages in order, and nothing else: ingest → extract → retrieve → compare
→ verdict → report. Under a burst, service.pipeline.rounds orders the work between a check's
two LLM rounds before the work after them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from service import metrics
from service.llm.base import Extractor, Judge
from service.llm.judge_cache import CachingJudge
from service.models import ArticleIn, ArticleOut, CheckIn, CheckReport, ClaimData, Usage
from service.pipeline.evidence import judge_open, settle
from service.pipeline.extract import ExtractResult, extract_claims
from service.pipeline.independence import group_near_duplicates
from service.pipeline.ingest import content_hash
from service.pipeline.report import CHECKED_ARTICLE, Provenance, build_report
from service.pipeline.retrieve import retrieve
from service.pipeline.rounds import rounds
from service.settings import Settings
from service.store.base import ExtractionKey, Store


@dataclass
class Pipeline:
    """The stages with their backends; built once per process (service.llm.factory)."""

    store: Store
    extractor: Extractor
    judge: Judge | None
    settings: Settings

    async def ingest(self, article: ArticleIn) -> tuple[ArticleOut, bool]:
        """Store an article with its claims: (article, created). A known text comes back as is."""
        digest = content_hash(article.text)
        existing = await self.store.find_article(digest)
        if existing is not None:
            return existing, False
        extracted, new = await self._extract(article)
        await self._remember(new, extracted)
        stored, created = await self.store.add_article(article, digest, extracted.claims)
        return stored.model_copy(update={"usage": extracted.usage}), created

    async def check(self, request: CheckIn, check_id: int | None = None) -> CheckReport:
        """Check an article; with check_id, finish that queued or reserved check instead of
        saving a new one. Nothing is stored before every stage has succeeded."""
        article = ArticleIn.model_validate(request.model_dump(include=set(ArticleIn.model_fields)))
        digest = content_hash(article.text)
        existing = await self.store.find_article(digest)
        extracted, new = await self._extract(article)
        claims = extracted.claims
        # Evidence comes only from other articles; the same text stored earlier is this one.
        exclude = {existing.id} if existing else set()
        order = rounds()
        async with order.between():
            candidates = await retrieve(claims, self.store, exclude)
            settled = settle(claims, candidates)
        # Pairs judged before are answered from the store: a repeated check costs no LLM call.
        judge = CachingJudge(self.judge, self.store) if self.judge else None
        try:
            assessment = await judge_open(
                claims,
                settled,
                judge,
                batch_claims=self.settings.judge_batch_claims,
                concurrency=self.settings.llm_concurrency,
            )
        except Exception:
            # Kept when the judge fails too: the retry of an async job extracts no more.
            await self._remember(new, extracted)
            raise
        await order.after()
        await self._remember(new, extracted)
        if existing is None and (same := await self.store.article_id(digest)) is not None:
            # Stored while we checked (a concurrent ingest of this text): still this one.
            assessment.per_claim = [
                [a for a in items if a.candidate.claim.article_id != same]
                for items in assessment.per_claim
            ]
        cited = {a.candidate.claim.article_id for items in assessment.per_claim for a in items}
        texts = await self.store.article_texts(cited)
        groups = group_near_duplicates({**texts, CHECKED_ARTICLE: article.text})

        stored = existing
        if stored is None and request.store:
            stored, _ = await self.store.add_article(article, digest, claims)
        usage = Usage()
        usage.add(extracted.usage)
        usage.add(assessment.usage)
        report = build_report(
            claims,
            _claim_ids(claims, stored),
            assessment.per_claim,
            groups,
            article_id=stored.id if stored else None,
            provenance=Provenance(
                extractor=self.extractor.name,
                model=self.extractor.model,
                prompt_version=self.extractor.prompt_version,
                judge_prompt_version=self.judge.prompt_version if self.judge else None,
            ),
            usage=usage,
            dropped=extracted.dropped,
        )
        metrics.count_check(report)
        if check_id is not None:
            return await self.store.finish_check(check_id, report)
        return await self.store.save_check(report)

    async def _extract(self, article: ArticleIn) -> tuple[ExtractResult, ExtractionKey | None]:
        """The article's grounded claims, and the key to cache them under when they are new
        (see _remember). A text this extractor, model and prompt have seen before is answered
        from the cache, with no LLM call (usage stays zero), and with no key."""
        extractor = self.extractor
        key = ExtractionKey(
            _extraction_basis(article), extractor.name, extractor.model, extractor.prompt_version
        )
        cached = await self.store.cached_extraction(key)
        if cached is not None:
            claims, dropped = cached
            return ExtractResult(claims=claims, dropped=dropped), None
        extracted = await extract_claims(
            article,
            extractor,
            chunk_tokens=self.settings.chunk_tokens,
            concurrency=self.settings.llm_concurrency,
        )
        return extracted, key

    async def _remember(self, key: ExtractionKey | None, extracted: ExtractResult) -> None:
        """Cache a new extraction. A check does it once its judge calls have left: under a
        burst, that write would otherwise delay them (service.pipeline.rounds)."""
        if key is not None:
            await self.store.cache_extraction(key, extracted.claims, extracted.dropped)


def _extraction_basis(article: ArticleIn) -> str:
    """What an extraction depends on besides the extractor, hashed: the exact text, not
    `digest` (spans are offsets into the copy extracted, and another wrapping of the same
    words has other offsets), and the publication day, which "yesterday" and "on Monday"
    resolve against (in the prompt and in timeref)."""
    basis = article.text
    if article.published_at is not None:
        basis = f"published {article.published_at.date().isoformat()}\n{basis}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()


def _claim_ids(claims: list[ClaimData], article: ArticleOut | None) -> list[int | None]:
    if article is None:
        return [None] * len(claims)
    ids = {(c.span, c.statement): c.id for c in article.claims}
    return [ids.get((c.span, c.statement)) for c in claims]
