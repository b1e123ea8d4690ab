"""The LLM extractor: one chunk in, draft claims out, through instructor and any OpenAI API.

Retries are layered, never stacked (service.llm.calls): tenacity repeats the whole request
on transport errors and 429/5xx; inside it, instructor re-asks up to `llm_max_reasks` times
when the answer does not fit `ClaimList`. Quotes are not checked here: the pipeline grounds
every quote and drops the ungrounded ones, so one bad quote never costs the whole chunk.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from service.llm.base import ArticleContext, DraftClaim, Extraction
from service.llm.calls import LLMBackend, ResponseModel, ask_structured

PROMPT_NAME = "extract_claims"


class ClaimList(ResponseModel):
    """The check-worthy factual claims of the article excerpt, in article order."""

    claims: list[DraftClaim] = Field(description="Empty when the excerpt has no such claims.")


class LLMExtractor(LLMBackend):
    name = "llm/instructor"

    PROMPT_NAME = PROMPT_NAME

    async def extract(self, chunk: str, context: ArticleContext) -> Extraction:
        result, usage = await ask_structured(
            self.client,
            self.settings,
            response_model=ClaimList,
            messages=self.prompt.render(**prompt_variables(chunk, context)),
            schema="claim schema",
            cut_off_hint="lower FACTCHECK_CHUNK_TOKENS",
            sleep=self._sleep,
        )
        return Extraction(claims=result.claims, usage=usage)


def prompt_variables(chunk: str, context: ArticleContext) -> dict[str, str]:
    """The extract_claims placeholders for one chunk."""
    return {
        "published": _published(context.published_at),
        "source": context.source or "unknown",
        "title": context.title or "unknown",
        # An article cannot close the <article> block early and speak as the user.
        "article": chunk.replace("</article>", "</ article>"),
    }


def _published(day: date | None) -> str:
    return f"{day.isoformat()} ({day.strftime('%A')})" if day else "unknown"


__all__ = ["ClaimList", "LLMExtractor", "prompt_variables"]
