"""Transport retries for LLM calls: the tenacity policy, and the domain errors it ends in.

    openai.APIError (unwrapped from instructor's InstructorRetryException)
    ├── APIConnectionError, APITimeoutError   retried
    ├── APIStatusError 408, 429, >= 500       retried; Retry-After / retry-after-ms honoured
    └── other APIStatusError (401, 400, 404)  not retried → LLMError (401/403 → LLMUnavailable)
    all retries spent, or the deadline near   → LLMUnavailable("... after N attempts: cause")

Invalid model output is not this module's business: instructor re-asks for that.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import time
from collections.abc import Awaitable, Callable

import openai
from instructor.core import InstructorError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from service import metrics
from service.errors import LLMError, LLMUnavailable
from service.settings import Settings

log = logging.getLogger(__name__)

RETRY_AFTER_CAP = 60.0  # seconds; a server asking for longer still gets retried, sooner
_BACKOFF = wait_exponential_jitter(initial=1, max=20, jitter=1)

Sleep = Callable[[float], Awaitable[None]]


def api_error(exc: BaseException | None) -> openai.APIError | None:
    """The openai error behind `exc`, if any.

    instructor wraps every error of the underlying call that is not a validation error in
    InstructorRetryException, `from` the original (instructor/v2/core/retry.py,
    retry_async_v2, the final `except Exception`).
    """
    if isinstance(exc, openai.APIError):
        return exc
    if isinstance(exc, InstructorError) and isinstance(exc.__cause__, openai.APIError):
        return exc.__cause__
    return None


def is_retryable(exc: BaseException) -> bool:
    err = api_error(exc)
    if isinstance(err, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(err, openai.APIStatusError):
        return err.status_code in (408, 429) or err.status_code >= 500
    return False


def retry_after(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (retry-after-ms, Retry-After seconds or date)."""
    err = api_error(exc)
    if not isinstance(err, openai.APIStatusError):
        return None
    headers = err.response.headers
    seconds: float | None = None
    if (ms := headers.get("retry-after-ms")) is not None:
        seconds = _float(ms, scale=1000)
    if seconds is None and (value := headers.get("retry-after")) is not None:
        seconds = _float(value)
        if seconds is None and (parsed := email.utils.parsedate_tz(value)) is not None:
            seconds = email.utils.mktime_tz(parsed) - time.time()
    return None if seconds is None else max(seconds, 0.0)


def describe(exc: BaseException | None) -> str:
    """A short cause safe to show API clients: status and reason, never the server's text."""
    err = api_error(exc)
    if isinstance(err, openai.APIStatusError):
        text = f"{err.status_code} {err.response.reason_phrase}".strip()
        return f"{text} ({err.code})" if isinstance(err.code, str) and err.code else text
    if isinstance(err, openai.APITimeoutError):
        return "request timed out"
    if isinstance(err, openai.APIConnectionError):
        cause = err.__cause__
        return f"connection failed ({type(cause).__name__})" if cause else "connection failed"
    return type(exc).__name__


def retry_reason(exc: BaseException | None) -> str:
    """The `reason` label of a retried failure in the factcheck_llm_retries metric."""
    err = api_error(exc)
    if isinstance(err, openai.APITimeoutError):
        return "timeout"
    if isinstance(err, openai.APIConnectionError):
        return "connection"
    if isinstance(err, openai.APIStatusError) and err.status_code in (408, 429):
        return "timeout" if err.status_code == 408 else "rate_limited"
    return "server_error"


def llm_error(exc: BaseException) -> LLMError | None:
    """The domain error for an openai error that is not retried (bad key, bad request)."""
    err = api_error(exc)
    if not isinstance(err, openai.APIStatusError):
        return None
    if err.status_code in (401, 403):
        return LLMUnavailable(
            f"LLM rejected the credentials: {describe(err)}; check FACTCHECK_LLM_API_KEY"
        )
    return LLMError(f"LLM rejected the request: {describe(err)}")


def llm_retrying(settings: Settings, *, sleep: Sleep | None = None) -> AsyncRetrying:
    """The retry policy for one LLM request; `sleep` replaces asyncio.sleep (tests)."""
    return AsyncRetrying(
        retry=retry_if_exception(is_retryable),
        wait=_wait,
        # stop_before_delay also counts the wait ahead, so no sleep overshoots the deadline.
        stop=stop_after_attempt(settings.llm_max_attempts)
        | stop_before_delay(settings.llm_deadline),
        sleep=sleep or asyncio.sleep,
        before_sleep=_log_retry,
        retry_error_callback=_give_up,
    )


def _wait(state: RetryCallState) -> float:
    asked = retry_after(state.outcome.exception() if state.outcome else None)
    return min(asked, RETRY_AFTER_CAP) if asked is not None else _BACKOFF(state)


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    metrics.count_llm_retry(retry_reason(exc))
    log.warning(
        "LLM call failed (%s); attempt %d, retrying in %.1fs",
        describe(exc),
        state.attempt_number,
        state.upcoming_sleep,
    )


def _give_up(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    n = state.attempt_number
    raise LLMUnavailable(
        f"LLM unavailable after {n} attempt{'s' if n != 1 else ''}: {describe(exc)}",
        attempts=n,
    ) from exc


def _float(value: str, scale: float = 1.0) -> float | None:
    try:
        number = float(value) / scale
    except ValueError:
        return None
    return number if math.isfinite(number) else None


__all__ = [
    "RETRY_AFTER_CAP",
    "api_error",
    "describe",
    "is_retryable",
    "llm_error",
    "llm_retrying",
    "retry_after",
]
