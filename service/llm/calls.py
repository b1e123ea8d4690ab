"""One structured LLM request, as every LLM backend makes it: instructor inside tenacity.

tenacity (service.llm.retry) repeats the whole request on transport errors and 429/5xx;
inside it, instructor re-asks up to `llm_max_reasks` times when the answer does not fit the
response model. Every request sent, re-asks included, is counted in the returned Usage, and
every failure ends as a domain error:

    LLMUnavailable   transport errors and 429/5xx after all retries, rejected credentials
    LLMBadOutput     output cut off, or still invalid after all re-asks (carries usage)
    LLMError         any other request the server refused
"""

from __future__ import annotations

from typing import Any, TypeVar

import instructor
import openai
from instructor.core import Hooks, IncompleteOutputException, InstructorRetryException
from pydantic import BaseModel, ValidationError

from service.errors import LLMBadOutput, LLMError
from service.llm.retry import Sleep, api_error, describe, llm_error, llm_retrying
from service.models import Usage
from service.settings import Settings

Model = TypeVar("Model", bound=BaseModel)


async def ask_structured(
    client: instructor.AsyncInstructor,
    settings: Settings,
    *,
    response_model: type[Model],
    messages: list[dict[str, str]],
    schema: str,
    cut_off_hint: str,
    context: dict[str, Any] | None = None,
    sleep: Sleep | None = None,
) -> tuple[Model, Usage]:
    """(parsed answer, usage). `schema` names the output in errors ("claim schema");
    `cut_off_hint` says how to avoid hitting the token limit; `context` is instructor's
    validation context, seen by the response model's validators."""
    usage = Usage()
    hooks = _counting(usage)

    async def ask() -> Model:
        # No per-call `timeout=` here: instructor would also stop its re-asks after that
        # many seconds (retry_async_v2 adds stop_after_delay(timeout)); the client has it.
        result, _completion = await client.chat.completions.create_with_completion(
            response_model=response_model,
            messages=messages,  # type: ignore[arg-type]
            model=settings.llm_model,
            max_retries=settings.llm_max_reasks,
            temperature=0,
            context=context,
            hooks=hooks,
        )
        return result

    try:
        result = await llm_retrying(settings, sleep=sleep)(ask)
    except LLMError:
        raise
    except IncompleteOutputException as exc:
        raise LLMBadOutput(
            f"LLM output was cut off at its token limit; {cut_off_hint}", usage=usage.model_dump()
        ) from exc
    except (InstructorRetryException, openai.APIError) as exc:
        if (cause := api_error(exc)) is not None:
            error = llm_error(cause) or LLMError(f"LLM call failed: {describe(cause)}")
            raise error from cause
        attempts = getattr(exc, "n_attempts", 1)
        raise LLMBadOutput(
            f"LLM output did not match the {schema} after {attempts} "
            f"attempt{'s' if attempts != 1 else ''}: {_summary(exc.__cause__)}",
            usage=usage.model_dump(),
        ) from exc
    return result, usage


def _counting(usage: Usage) -> Hooks:
    """Per-call hooks (the client is shared by concurrent requests) that add up usage.

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


__all__ = ["ask_structured"]
