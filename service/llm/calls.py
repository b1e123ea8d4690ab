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

import copy
import functools
from typing import Any, TypeVar

import instructor
import openai
from instructor import OpenAISchema
from instructor.core import Hooks, IncompleteOutputException, InstructorRetryException
from pydantic import BaseModel, ValidationError

from service import metrics
from service.errors import LLMBadOutput, LLMError
from service.llm.client import build_client
from service.llm.prompts import Prompt, load_prompt
from service.llm.retry import Sleep, api_error, describe, llm_error, llm_retrying
from service.models import Usage
from service.settings import Settings


class ResponseModel(OpenAISchema):
    """The base of every response model sent through ask_structured: its schema is built once.

    instructor (1.17, `prepare_response_model`) wraps a response model that is not already an
    `OpenAISchema` in a brand-new pydantic subclass (`create_model`) on EVERY call, so its
    per-class `lru_cache` on `generate_openai_schema` never hits: each request rebuilt the
    model and its JSON schema, milliseconds of CPU. An `OpenAISchema` subclass is used as it
    is, so instructor's cache serves the tool schema (TOOLS mode) after the first call.
    The JSON modes call `model_json_schema()` on every request themselves: that default
    schema is cached here, per class, and handed out as a copy (callers may mutate it).
    The request sent is the same as with a plain BaseModel (tests/llm/test_schema_cache.py).
    """

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        if args or kwargs:  # anything but the default schema: not cached
            return super().model_json_schema(*args, **kwargs)
        return copy.deepcopy(_default_json_schema(cls))


@functools.cache
def _default_json_schema(model: type[ResponseModel]) -> dict[str, Any]:
    return super(ResponseModel, model).model_json_schema()


Model = TypeVar("Model", bound=BaseModel)


class LLMBackend:
    """What every LLM backend holds: the shared client, its prompt file, and the settings.

    Subclasses name their prompt in PROMPT_NAME; `model` and `prompt_version` are what reports
    record about them.
    """

    PROMPT_NAME: str

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
        self.prompt = prompt or load_prompt(self.PROMPT_NAME, settings.prompts_dir)
        self.model: str | None = settings.llm_model
        self.prompt_version: str | None = self.prompt.version
        self._sleep = sleep


async def ask_structured(
    client: instructor.AsyncInstructor,
    settings: Settings,
    *,
    response_model: type[Model],
    messages: list[dict[str, str]],
    schema: str,
    cut_off_hint: str,
    sleep: Sleep | None = None,
) -> tuple[Model, Usage]:
    """(parsed answer, usage). `schema` names the output in errors ("claim schema");
    `cut_off_hint` says how to avoid hitting the token limit.

    instructor's `context` is never passed: with one, instructor renders every message as a
    Jinja template, and messages carry article text. Validators that need the request read
    it another way (service.llm.judge.expecting)."""
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
        metrics.count_llm_call()

    def on_response(response: Any) -> None:
        if tokens := getattr(response, "usage", None):
            prompt, completion = tokens.prompt_tokens or 0, tokens.completion_tokens or 0
            usage.prompt_tokens += prompt
            usage.completion_tokens += completion
            metrics.count_llm_tokens(prompt, completion)

    def on_parse_error(_error: Exception, *, is_last_attempt: bool = False, **_: Any) -> None:
        if not is_last_attempt:  # instructor re-asks after this answer
            metrics.count_llm_retry("invalid_output")

    hooks.on("completion:kwargs", on_request)
    hooks.on("completion:response", on_response)
    hooks.on("parse:error", on_parse_error)
    return hooks


def _summary(exc: BaseException | None) -> str:
    """The first problem of the last attempt, without echoing the model's output."""
    if isinstance(exc, ValidationError) and exc.errors():
        first, more = exc.errors()[0], exc.error_count() - 1
        where = ".".join(str(part) for part in first["loc"]) or "output"
        return f"{where}: {first['msg']}" + (f" (and {more} more)" if more else "")
    text = str(exc or "").strip()
    return text.splitlines()[0] if text else type(exc).__name__


__all__ = ["ResponseModel", "ask_structured"]
