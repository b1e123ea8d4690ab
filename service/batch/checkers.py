"""Checkers: check one article through the HTTP API (retrying brief outages) or in process.

    CheckFailed        this file could not be checked; the batch goes on with the others
    └── ApiRefused     401/403: the key is missing or wrong, so no further file is sent
    Unavailable        before any file: the API (or, --local, the database) is not there

One retry owner for transport errors and 429/502/503/504: tenacity, bounded by attempts, with
exponential backoff or the server's Retry-After. Other answers are final at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

import httpx
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from service.errors import FactcheckError, StoreUnavailable
from service.models import CheckIn, CheckReport
from service.settings import Settings

RETRY_STATUSES = {429, 502, 503, 504}
# Failures where the server did not (finish to) answer; a resent check is harmless, since the
# same text is the same stored article.
RETRY_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError)


class CheckFailed(Exception):
    """str() is one readable line."""


class ApiRefused(CheckFailed):
    pass


class Unavailable(Exception):
    """str() is one readable line."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    first_wait: float = 0.5
    max_wait: float = 30.0  # also caps a Retry-After


DEFAULT_RETRY = RetryPolicy()


class Checker(Protocol):
    where: str  # the API URL or the database, for messages and the summary

    async def ready(self) -> None: ...

    async def check(self, request: CheckIn) -> CheckReport: ...

    async def aclose(self) -> None: ...


class _Retryable(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response
        self.retry_after = _retry_after(response.headers.get("retry-after"))


class ApiChecker:
    """POST /v1/checks on a running service."""

    def __init__(
        self,
        api: str,
        api_key: str | None = None,
        *,
        timeout: float = 300.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.where = api.rstrip("/")
        self.retry = retry or DEFAULT_RETRY
        self._backoff = wait_exponential_jitter(
            multiplier=self.retry.first_wait, jitter=self.retry.first_wait, max=self.retry.max_wait
        )
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=self.where,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=10.0),
            transport=transport,
        )

    async def ready(self) -> None:
        """The server answers at all (any status): else there is no point sending files."""
        try:
            await self._send("GET", "/healthz")
        except _Retryable:
            pass
        except httpx.HTTPError as exc:
            raise Unavailable(f"API unavailable at {self.where}: {_reason(exc)}") from None

    async def check(self, request: CheckIn) -> CheckReport:
        try:
            response = await self._send(
                "POST", "/v1/checks", json=request.model_dump(mode="json", exclude_none=True)
            )
        except _Retryable as exc:
            tries = f"(after {self.retry.attempts} tries)"
            raise CheckFailed(f"{_describe(exc.response)} {tries}") from None
        except httpx.HTTPError as exc:
            raise CheckFailed(f"{self.where}: {_reason(exc)}") from None
        if response.status_code in {401, 403}:
            hint = "check --api-key or FACTCHECK_API_KEY"
            raise ApiRefused(f"the API refused the request: {_describe(response)}; {hint}")
        if response.status_code != 200:
            raise CheckFailed(_describe(response))
        try:
            report = CheckReport.model_validate_json(response.content)
        except ValidationError as exc:
            raise CheckFailed(f"the API's answer is not a check report: {exc}") from None
        return _finished(report)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _send(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=self._wait,
            retry=retry_if_exception_type((_Retryable, *RETRY_ERRORS)),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                response = await self._client.request(method, url, **kwargs)  # type: ignore[arg-type]
                if response.status_code in RETRY_STATUSES:
                    raise _Retryable(response)
        return response

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self.retry.max_wait)
        return self._backoff(state)


class LocalChecker:
    """The same pipeline in this process, on the configured database (like `ingest`)."""

    def __init__(self, settings: Settings) -> None:
        from service.llm.factory import build_backends
        from service.pipeline.run import Pipeline
        from service.store.sql import SqlStore

        self.store = SqlStore.from_url(settings.database_url)
        extractor, judge = build_backends(settings)
        self.pipeline = Pipeline(
            store=self.store, extractor=extractor, judge=judge, settings=settings
        )
        self.where = f"local pipeline ({self.store.engine.url.render_as_string()})"

    async def ready(self) -> None:
        try:
            current, head = await self.store.ready()
        except StoreUnavailable as exc:
            raise Unavailable(exc.detail) from None
        if current != head:
            raise Unavailable(
                f"database at migration {current}, expected {head}: run `factcheck migrate`"
            )

    async def check(self, request: CheckIn) -> CheckReport:
        try:
            return _finished(await self.pipeline.check(request))
        except FactcheckError as exc:
            raise CheckFailed(exc.detail) from None

    async def aclose(self) -> None:
        await self.store.close()


def _finished(report: CheckReport) -> CheckReport:
    if report.status != "done":
        raise CheckFailed(f"check {report.id} is {report.status}: {report.error or 'no detail'}")
    return report


def _describe(response: httpx.Response) -> str:
    """'HTTP 422 Invalid input: text: ...' from a problem+json answer, else from its text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "detail" in body:
        title = body.get("title") or response.reason_phrase
        return f"HTTP {response.status_code} {title}: {body['detail']}"
    text = " ".join(response.text.split())[:200]
    return f"HTTP {response.status_code} {response.reason_phrase}" + (f": {text}" if text else "")


def _reason(exc: httpx.HTTPError) -> str:
    return str(exc) or type(exc).__name__


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
