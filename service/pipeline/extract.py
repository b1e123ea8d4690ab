"""Extract: chunk the article, run the extractor, ground every quote, normalize figures and dates.

Whatever the extractor (LLM or rules), a claim leaves this stage only with a quote that was
found in the article, and it is stored with the article's own passage at those offsets, so
a quote that is not in its article can never be stored or shown. Claims whose quote cannot be
found are dropped and counted.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from service.llm.base import ArticleContext, DraftClaim, Extraction, Extractor
from service.models import ArticleIn, ClaimData, TimeRef, Usage
from service.pipeline.chunking import Chunk, split
from service.pipeline.grounding import locate
from service.pipeline.quantities import normalize
from service.pipeline.timeref import resolve_time


@dataclass
class ExtractResult:
    claims: list[ClaimData]
    dropped: int = 0  # drafts whose quote is not in the article
    usage: Usage = field(default_factory=Usage)


async def extract_claims(
    article: ArticleIn, extractor: Extractor, *, chunk_tokens: int = 1500, concurrency: int = 4
) -> ExtractResult:
    """All grounded claims of an article, in text order. Any chunk failing fails the whole."""
    context = ArticleContext(
        title=article.title,
        source=article.source,
        published_at=article.published_at.date() if article.published_at else None,
    )
    chunks = split(article.text, chunk_tokens)
    limit = asyncio.Semaphore(concurrency)

    async def extract(chunk: Chunk) -> Extraction:
        async with limit:
            return await extractor.extract(chunk.text, context)

    extractions = await asyncio.gather(*(extract(chunk) for chunk in chunks))

    result = ExtractResult(claims=[])
    seen: set[tuple[object, ...]] = set()
    for chunk, extraction in zip(chunks, extractions, strict=True):
        result.usage.add(extraction.usage)
        for draft in extraction.claims:
            claim = _ground(draft, chunk, article.text, context, extractor)
            if claim is None:
                result.dropped += 1
                continue
            # Overlapping chunks see the same sentence twice; one sentence may still hold
            # several distinct claims, so the statement is part of the identity.
            key = (claim.span, " ".join(claim.statement.casefold().split()))
            if key not in seen:
                seen.add(key)
                result.claims.append(claim)
    result.claims.sort(key=lambda c: c.span)
    return result


def _ground(
    draft: DraftClaim, chunk: Chunk, text: str, context: ArticleContext, extractor: Extractor
) -> ClaimData | None:
    found = locate(draft.quote, chunk.text)
    if found is not None:
        span = (chunk.start + found[0], chunk.start + found[1])
    else:  # the model may quote a neighbouring chunk's overlap
        span = locate(draft.quote, text)
    if span is None or not draft.statement.strip():
        return None
    time = None
    if draft.time_text or draft.event_date:
        when = draft.time_text or draft.event_date.isoformat()  # type: ignore[union-attr]
        time = resolve_time(when, context.published_at, draft.event_date)
    return ClaimData(
        statement=draft.statement.strip(),
        quote=text[span[0] : span[1]],
        span=span,
        claimant=(draft.claimant or "").strip() or None,
        entities=list(dict.fromkeys(e.strip() for e in draft.entities if e.strip())),
        quantities=[q for q in map(normalize, draft.quantities) if q is not None],
        time=time if isinstance(time, TimeRef) else None,
        extractor=extractor.name,
        model=extractor.model,
        prompt_version=extractor.prompt_version,
    )
