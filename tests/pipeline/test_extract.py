"""The extract stage: every claim grounded in its article, both extractors, long articles."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from service.llm.base import ArticleContext, DraftClaim, DraftQuantity, Extraction
from service.llm.llm_extractor import LLMExtractor
from service.llm.offline import OfflineExtractor
from service.models import ArticleIn, Usage
from service.pipeline.extract import extract_claims
from tests.recording import llm_settings, replaying, seed_stems, seed_text

PUBLISHED = datetime(2024, 8, 13, tzinfo=UTC)


async def extract_seed(stem: str, which: str):
    article = ArticleIn(text=seed_text(stem), published_at=PUBLISHED)
    if which == "offline":
        return await extract_claims(article, OfflineExtractor())
    with replaying("extract_claims", label=stem):
        return await extract_claims(article, LLMExtractor(llm_settings()))


@pytest.mark.parametrize("which", ["offline", "llm"])
@pytest.mark.parametrize("stem", seed_stems())
async def test_every_seed_claim_is_grounded(stem: str, which: str) -> None:
    text = seed_text(stem)
    result = await extract_seed(stem, which)
    assert len(result.claims) >= 5
    for claim in result.claims:
        start, end = claim.span
        assert text[start:end] == claim.quote
        assert claim.statement.strip()
    assert [c.span for c in result.claims] == sorted(c.span for c in result.claims)
    extractor = result.claims[0].extractor
    assert extractor.startswith("offline-rules/" if which == "offline" else "llm/instructor")
    if which == "llm":
        assert result.usage.llm_calls == 1
        assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
        assert all(c.prompt_version.startswith("extract_claims@") for c in result.claims)
        assert all(c.model == "gpt-4o-mini" for c in result.claims)


@pytest.mark.parametrize("which", ["offline", "llm"])
@pytest.mark.parametrize("stem", ["001_ffa75115645ef01b", "003_16ac1f2c99ced3be"])
async def test_miles_with_kilometers_is_one_quantity_of_12_km(stem: str, which: str) -> None:
    result = await extract_seed(stem, which)
    claims = [c for c in result.claims if "7.5 miles (12 kilometers)" in c.quote]
    assert claims, [c.quote for c in result.claims]
    lengths = [q for q in claims[0].quantities if q.dimension == "length" and q.value < 20]
    assert len(lengths) == 1
    assert lengths[0].unit == "km"
    assert lengths[0].value == pytest.approx(12, abs=0.1)
    assert lengths[0].qualifier == "about"


@pytest.mark.parametrize("which", ["offline", "llm"])
async def test_weekday_resolves_against_publication(which: str) -> None:
    result = await extract_seed("002_53ffd6e50b0f3c6f", which)
    tuesday = [c for c in result.claims if c.time and c.time.weekday == "Tuesday"]
    assert any("on Tuesday" in c.quote and str(c.time.date) == "2024-08-13" for c in tuesday)


class ScriptedExtractor:
    """A real Extractor: answers each chunk with drafts built from it, counting concurrency."""

    name = "scripted/1"
    model = None
    prompt_version = None

    def __init__(self, hallucinate: bool = False) -> None:
        self.running = 0
        self.peak = 0
        self.chunks: list[str] = []
        self.hallucinate = hallucinate

    async def extract(self, chunk: str, context: ArticleContext) -> Extraction:
        self.running += 1
        self.peak = max(self.peak, self.running)
        await asyncio.sleep(0.01)
        self.running -= 1
        self.chunks.append(chunk)
        drafts = [
            DraftClaim(
                statement=line,
                # Curly quotes and doubled spaces, as models return them: grounding copes.
                quote=line.replace("'", "’").replace(" ", "  ", 1),
                quantities=[DraftQuantity(text="12 km", value=12, unit="km", measure="advance")],
            )
            for line in chunk.split("\n\n")
            if line.strip()
        ]
        if self.hallucinate:
            drafts.append(DraftClaim(statement="Made up.", quote="This sentence is nowhere."))
        return Extraction(drafts, Usage(llm_calls=1, prompt_tokens=10, completion_tokens=2))


async def test_long_article_is_chunked_with_bounded_concurrency_and_deduplicated() -> None:
    paragraphs = [f"Paragraph {n} says troops advanced 12 km on day {n}." for n in range(400)]
    text = "\n\n".join(paragraphs)
    extractor = ScriptedExtractor(hallucinate=True)
    result = await extract_claims(ArticleIn(text=text), extractor, chunk_tokens=300, concurrency=3)
    assert len(extractor.chunks) > 5
    assert extractor.peak <= 3
    # Overlapping chunks repeat paragraphs; each claim is kept once.
    assert [c.quote for c in result.claims] == paragraphs
    assert all(text[c.span[0] : c.span[1]] == c.quote for c in result.claims)
    assert result.dropped == len(extractor.chunks)
    assert result.usage.llm_calls == len(extractor.chunks)
    assert result.claims[0].quantities[0].unit == "km"
