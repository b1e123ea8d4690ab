"""Webhooks: a finished check's report POSTed to its callback_url, signed, retried with backoff.

Signature: HMAC-SHA256 with FACTCHECK_WEBHOOK_SECRET over f"{timestamp}.{body}", sent as
`X-Factcheck-Signature: v1=<hex>` beside `X-Factcheck-Timestamp` (unix seconds) and
`X-Factcheck-Check-Id`. Every attempt is signed afresh, so a receiver that rejects old
timestamps still accepts a late retry.

    2xx                                  delivered
    408, 429, 5xx, connection errors     retried (tenacity; Retry-After honoured, capped)
    any other status (3xx, 4xx)          failed at once: the receiver refused it
    an address the policy refuses        failed at once (service.jobs.destinations)
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from service.errors import CallbackRefused

TIMEOUT = 10.0  # seconds for one POST; receivers should answer first and work later
RETRY_AFTER_CAP = 60.0
USER_AGENT = "factcheck-webhooks/1"
_BACKOFF = wait_exponential_jitter(initial=1, max=60, jitter=1)

Sleep = Callable[[float], Awaitable[None]]
OnFailure = Callable[[int, str], Awaitable[None]]


class DeliveryError(Exception):
    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    attempts: int
    error: str | None = None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, check_id: int, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Factcheck-Check-Id": str(check_id),
        "X-Factcheck-Timestamp": str(timestamp),
        "X-Factcheck-Signature": f"v1={sign(secret, timestamp, body)}",
    }


async def deliver(
    url: str,
    check_id: int,
    body: bytes,
    secret: str,
    *,
    max_attempts: int,
    on_failure: OnFailure,
    sleep: Sleep,
    clock: Callable[[], float] = time.time,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Outcome:
    """POST body to url until a 2xx, a refusal, or max_attempts. on_failure(n, error) runs
    after each failed attempt, so the retries can be followed while they go on."""
    retrying = AsyncRetrying(
        stop=stop_after_attempt(max_attempts),
        wait=_wait,
        retry=retry_if_exception(lambda exc: isinstance(exc, DeliveryError) and exc.retryable),
        sleep=sleep,
        reraise=True,
    )
    attempt_number = 0
    client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, transport=transport)
    async with client:
        try:
            async for attempt in retrying:
                with attempt:
                    attempt_number = attempt.retry_state.attempt_number
                    try:
                        await _post(client, url, check_id, body, secret, int(clock()))
                    except DeliveryError as exc:
                        await on_failure(attempt_number, str(exc))
                        raise
        except DeliveryError as exc:
            return Outcome(delivered=False, attempts=attempt_number, error=str(exc))
    return Outcome(delivered=True, attempts=attempt_number)


async def _post(
    client: httpx.AsyncClient, url: str, check_id: int, body: bytes, secret: str, timestamp: int
) -> None:
    headers = signed_headers(secret, check_id, body, timestamp)
    try:
        response = await client.post(url, content=body, headers=headers)
    except CallbackRefused as exc:  # resolved into this server's own network
        raise DeliveryError(exc.detail, retryable=False) from exc
    except httpx.TransportError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}"[:300], retryable=True) from exc
    except httpx.HTTPError as exc:  # an URL httpx cannot send to, ...
        raise DeliveryError(f"{type(exc).__name__}: {exc}"[:300], retryable=False) from exc
    status = response.status_code
    if 200 <= status < 300:
        return
    retryable = status in (408, 429) or status >= 500
    raise DeliveryError(
        f"HTTP {status} from the callback URL",
        retryable=retryable,
        retry_after=_retry_after(response) if retryable else None,
    )


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, DeliveryError) and exc.retry_after is not None:
        return min(exc.retry_after, RETRY_AFTER_CAP)
    return _BACKOFF(state)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(float(response.headers["retry-after"]), 0.0)
    except (KeyError, ValueError):
        return None
