"""The instructor-wrapped AsyncOpenAI client, built once from settings and shared.

The openai client never retries (`max_retries=0`): transport errors and 429/5xx are
retried by service.llm.retry, schema re-asks by instructor. One owner per failure kind. Its
connections are pooled by service.llm.transport, which finds a free one without a scan.
"""

from __future__ import annotations

import instructor
import openai

from service.llm.transport import OneConnectionEach
from service.settings import Settings

MODES: dict[str, instructor.Mode] = {
    "tools": instructor.Mode.TOOLS,
    "json": instructor.Mode.JSON,
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "md_json": instructor.Mode.MD_JSON,
}

# Local OpenAI-compatible servers (llama.cpp, vLLM, Ollama) ignore the key but the
# openai client refuses to start without one.
PLACEHOLDER_KEY = "not-needed"


def build_client(settings: Settings) -> instructor.AsyncInstructor:
    """Return the instructor client for settings.llm_* (base URL, key, timeout, mode)."""
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else PLACEHOLDER_KEY
    raw = openai.AsyncOpenAI(
        base_url=settings.llm_base_url,
        api_key=key,
        timeout=settings.llm_timeout,
        max_retries=0,
        http_client=openai.DefaultAsyncHttpxClient(transport=OneConnectionEach()),
    )
    return instructor.from_openai(raw, mode=MODES[settings.llm_mode])


__all__ = ["MODES", "PLACEHOLDER_KEY", "build_client"]
