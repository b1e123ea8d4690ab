"""The LLM extractor: one chunk in, draft claims out, through instructor and any OpenAI API.

Retries are layered, never stacked: tenacity (service.llm.retry) repeats the whole request
on transport errors and 429/5xx; inside it, instructor re-asks up to `llm_max_reasks` times
when the answer does not fit `ClaimList`. Quotes are not checked here: the pipeline grounds
every quote and drops the ungrounded ones, so one bad quote never costs the whole chunk.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import instructor
import openai
from instructor.core import Hooks, IncompleteOutputException, InstructorRetryException
from pydantic import BaseModel, Field, ValidationError

from service.errors import LLMBadOutput, LLMError
from service.llm.base import ArticleContext, DraftClaim, Extraction
from service.llm.client import build_client
from service.llm.prompts import Prompt, load_prompt
from service.llm.retry import Sleep, api_error, describe, llm_error, llm_retrying
from service.models import Usage
from service.settings import Settings

PROMPT_NAME = "extract_claims"


class ClaimList(BaseModel):
    """The check-worthy factual claims of the article excerpt, in article order."""

    claims: list[DraftClaim] = Field(description="Empty when the excerpt has no such claims.")


class LLMExtractor:
    name = "llm/instructor"

    def __init__(
        self,
        settings: Settings,
        *,
        client: instructor.AsyncInstructor | None = None,
        prompt: Prompt | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.settings = settings
        self.client = client or build_client(settings)
        self.prompt = prompt or load_prompt(PROMPT_NAME, settings.prompts_dir)
        self.model: str | None = settings.llm_model
        self.prompt_version: str | None = self.prompt.version
        self._sleep = sleep

    async def extract(self, chunk: str, context: ArticleContext) -> Extraction:
        messages = self.prompt.render(**prompt_variables(chunk, context))
        usage = Usage()
        retrying = llm_retrying(self.settings, sleep=self._sleep)
        try:
            result = await retrying(self._ask, messages, _counting(usage))
        except LLMError:
            raise
        except IncompleteOutputException as exc:
            raise LLMBadOutput(
                "LLM output was cut off at its token limit; lower FACTCHECK_CHUNK_TOKENS",
                usage=usage.model_dump(),
            ) from exc
        except (InstructorRetryException, openai.APIError) as exc:
            if (cause := api_error(exc)) is not None:
                error = llm_error(cause) or LLMError(f"LLM call failed: {describe(cause)}")
                raise error from cause
            attempts = getattr(exc, "n_attempts", 1)
            raise LLMBadOutput(
                f"LLM output did not match the claim schema after {attempts} "
                f"attempt{'s' if attempts != 1 else ''}: {_summary(exc.__cause__)}",
                usage=usage.model_dump(),
            ) from exc
        return Extraction(claims=result.claims, usage=usage)

    async def _ask(self, messages: list[dict[str, str]], hooks: Hooks) -> ClaimList:
        # No per-call `timeout=` here: instructor would also stop its re-asks after that
        # many seconds (retry_async_v2 adds stop_after_delay(timeout)); the client has it.
        result, _completion = await self.client.chat.completions.create_with_completion(
            response_model=ClaimList,
            messages=messages,  # type: ignore[arg-type]
            model=self.settings.llm_model,
            max_retries=self.settings.llm_max_reasks,
            temperature=0,
            hooks=hooks,
        )
        return result


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


def _counting(usage: Usage) -> Hooks:
    """Per-call hooks (the client is shared by concurrent chunks) that add up usage.

    instructor emits `completion:kwargs` before every request, re-asks included, and
    `completion:response` for every completion it receives (retry_async_v2).
    """
    hooks = Hooks()

    def on_request(*_args: Any, **_kwargs: Any) -> None:
        usage.llm_calls += 1

    def on_response(response: Any) -> None:
        if tokens := getattr(response, "usage", None):
            usage.prompt_tokens += tokens.prompt_tokens or 0
            usage.completion_tokens += tokens.completion_tokens or 0

    hooks.on("completion:kwargs", on_request)
    hooks.on("completion:response", on_response)
    return hooks


def _summary(exc: BaseException | None) -> str:
    """The first problem of the last attempt, without echoing the model's output."""
    if isinstance(exc, ValidationError) and exc.errors():
        first, more = exc.errors()[0], exc.error_count() - 1
        where = ".".join(str(part) for part in first["loc"]) or "output"
        return f"{where}: {first['msg']}" + (f" (and {more} more)" if more else "")
    text = str(exc or "").strip()
    return text.splitlines()[0] if text else type(exc).__name__


__all__ = ["ClaimList", "LLMExtractor", "prompt_variables"]
