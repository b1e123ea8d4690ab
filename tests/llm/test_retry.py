"""Transport faults through the real openai + instructor stack: tenacity retries, nobody else."""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import httpx
import pytest

from service.errors import LLMError, LLMUnavailable
from service.llm.base import ArticleContext, Extraction
from service.llm.llm_extractor import LLMExtractor
from service.llm.retry import RETRY_AFTER_CAP
from tests.recording import chat_completion, error_response, json_response, llm_settings, scripted

VALID = json.dumps(
    {"claims": [{"statement": "Putin met officials.", "quote": "Putin held a meeting"}]}
)


def ok(prompt_tokens: int = 900, completion_tokens: int = 40) -> httpx.Response:
    return json_response(
        chat_completion(
            arguments=VALID, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
    )


class Sleeps:
    """Stands in for asyncio.sleep: records each wait tenacity asks for, waits for none."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def extractor(sleeps: Sleeps, **settings: Any) -> LLMExtractor:
    return LLMExtractor(llm_settings(**settings), sleep=sleeps)


async def extract(llm: LLMExtractor) -> Extraction:
    return await llm.extract("Putin held a meeting on Monday.", ArticleContext())


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry_after": "7"}, 7.0),
        ({"retry_after": "0.5"}, 0.5),
        ({"retry_after_ms": "1500"}, 1.5),
        ({"retry_after_ms": "250", "retry_after": "9"}, 0.25),  # the precise one wins
        ({"retry_after": "3600"}, RETRY_AFTER_CAP),  # capped
        ({"retry_after": "0"}, 0.0),
    ],
)
async def test_429_waits_as_long_as_retry_after_asks(
    sleeps: Sleeps, headers: dict[str, str], expected: float
) -> None:
    with scripted(error_response(429, "Rate limit reached", **headers), ok()) as server:
        result = await extract(extractor(sleeps))
    assert server.calls == 2
    assert sleeps.waits == [pytest.approx(expected)]
    assert result.usage.llm_calls == 2  # the refused request was sent, so it counts
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (900, 40)


async def test_retry_after_as_an_http_date(sleeps: Sleeps) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    with scripted(error_response(503, retry_after=when), ok()) as server:
        await extract(extractor(sleeps))
    assert server.calls == 2
    assert 27 <= sleeps.waits[0] <= 31


async def test_unparseable_retry_after_falls_back_to_backoff(sleeps: Sleeps) -> None:
    with scripted(error_response(429, retry_after="soon"), ok()) as server:
        await extract(extractor(sleeps))
    assert server.calls == 2
    assert 1 <= sleeps.waits[0] <= 2


async def test_500_then_success(sleeps: Sleeps) -> None:
    with scripted(error_response(500, "The server had an error"), ok()) as server:
        result = await extract(extractor(sleeps))
    assert server.calls == 2
    assert len(result.claims) == 1
    assert 1 <= sleeps.waits[0] <= 2  # exponential backoff starts at 1 s, plus jitter


async def test_backoff_grows_between_attempts(sleeps: Sleeps) -> None:
    with scripted(error_response(502), error_response(502), error_response(502), ok()) as server:
        await extract(extractor(sleeps))
    assert server.calls == 4
    # 1, 2, 4 seconds, each plus up to 1 s of jitter
    assert all(b <= wait <= b + 1 for b, wait in zip([1, 2, 4], sleeps.waits, strict=True))


@pytest.mark.parametrize(
    "fault",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.ConnectError("connection refused"),
        httpx.RemoteProtocolError("server hung up"),
    ],
    ids=lambda exc: type(exc).__name__,
)
async def test_transport_fault_then_success(sleeps: Sleeps, fault: Exception) -> None:
    with scripted(fault, ok()) as server:
        result = await extract(extractor(sleeps))
    assert server.calls == 2
    assert len(result.claims) == 1
    assert result.usage.llm_calls == 2


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 529])
async def test_retried_statuses(sleeps: Sleeps, status: int) -> None:
    with scripted(error_response(status), ok()) as server:
        await extract(extractor(sleeps))
    assert server.calls == 2


async def test_attempts_exhausted(sleeps: Sleeps) -> None:
    with scripted(error_response(503, "overloaded")) as server:
        with pytest.raises(LLMUnavailable) as caught:
            await extract(extractor(sleeps, llm_max_attempts=4))
    assert server.calls == 4
    assert len(sleeps.waits) == 3
    assert caught.value.detail == "LLM unavailable after 4 attempts: 503 Service Unavailable"
    assert caught.value.extra["attempts"] == 4
    assert caught.value.status == 503


async def test_timeouts_exhausted(sleeps: Sleeps) -> None:
    with scripted(httpx.ReadTimeout("slow")) as server:
        with pytest.raises(LLMUnavailable, match="after 2 attempts: request timed out"):
            await extract(extractor(sleeps, llm_max_attempts=2))
    assert server.calls == 2


async def test_connection_errors_exhausted(sleeps: Sleeps) -> None:
    with scripted(httpx.ConnectError("refused")) as server:
        with pytest.raises(LLMUnavailable, match=r"after 3 attempts: connection failed \("):
            await extract(extractor(sleeps, llm_max_attempts=3))
    assert server.calls == 3


async def test_deadline_stops_before_a_wait_that_would_pass_it(sleeps: Sleeps) -> None:
    with scripted(error_response(429, retry_after="30"), ok()) as server:
        with pytest.raises(LLMUnavailable, match="after 1 attempt: 429 Too Many Requests"):
            await extract(extractor(sleeps, llm_deadline=10))
    assert server.calls == 1
    assert sleeps.waits == []


async def test_401_is_not_retried(sleeps: Sleeps) -> None:
    answer = error_response(401, "Incorrect API key provided: sk-test", code="invalid_api_key")
    with scripted(answer, ok()) as server:
        with pytest.raises(LLMUnavailable) as caught:
            await extract(extractor(sleeps))
    assert server.calls == 1
    assert sleeps.waits == []
    assert "401 Unauthorized (invalid_api_key)" in caught.value.detail
    assert "FACTCHECK_LLM_API_KEY" in caught.value.detail
    assert "sk-test" not in caught.value.detail  # the server's message is not echoed


@pytest.mark.parametrize(
    ("status", "code", "detail"),
    [
        (400, "context_length_exceeded", "400 Bad Request (context_length_exceeded)"),
        (404, "model_not_found", "404 Not Found (model_not_found)"),
        (422, None, "422 Unprocessable Entity"),
    ],
)
async def test_other_4xx_are_not_retried(
    sleeps: Sleeps, status: int, code: str | None, detail: str
) -> None:
    with scripted(error_response(status, "no", code=code), ok()) as server:
        with pytest.raises(LLMError) as caught:
            await extract(extractor(sleeps))
    assert server.calls == 1
    assert type(caught.value) is LLMError
    assert caught.value.detail == f"LLM rejected the request: {detail}"


async def test_instructor_does_not_retry_transport_errors(sleeps: Sleeps) -> None:
    """With re-asks allowed but one transport attempt, a 500 is sent exactly once."""
    with scripted(error_response(500), ok()) as server:
        with pytest.raises(LLMUnavailable, match="after 1 attempt: 500"):
            await extract(extractor(sleeps, llm_max_attempts=1, llm_max_reasks=5))
    assert server.calls == 1


async def test_a_transport_retry_repeats_the_original_request(sleeps: Sleeps) -> None:
    with scripted(error_response(503), ok()) as server:
        await extract(extractor(sleeps))
    assert server.requests[0] == server.requests[1]
