"""The HTTP transport of the LLM client (and of the benchmark's client): each pooled
connection in a pool of its own.

httpcore's connection pool re-examines every connection it holds whenever a request is queued
or a response closed, and for each idle one asks the socket whether the server has hung up (a
poll, and with anyio's streams a getpeername and a dict of attributes too). That is quadratic in
the connections in flight: with 64 checks at once in one process, 13.7% of its CPU went to that
scan (py-spy, benchmark section c, 1 worker on SQLite), and the checks' LLM calls, which leave
a burst in two waves, pay it twice. upstream: encode/httpcore#928, open since 2024.

So the pool is kept here, as a list of idle transports of one connection each: a request takes
the one used last (its connection the least likely to have expired) or a new one, and gives it
back when its response is closed. Each keeps httpcore's own handling of its one connection
(keep-alive expiry, a hung-up server, TLS, proxies from the environment stay the client's), so
what changes is only which connection a request gets: one that is free, found without a scan.
httpx's limits keep their meaning: at most `max_connections` requests at once (the rest wait, up
to the pool timeout, then PoolTimeout), at most `max_keepalive_connections` kept idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

# What openai's own client uses (openai._constants.DEFAULT_CONNECTION_LIMITS).
LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)


class OneConnectionEach(httpx.AsyncBaseTransport):
    """An httpx transport pooling single-connection transports; see the module docstring."""

    def __init__(self, limits: httpx.Limits = LIMITS, **options: Any) -> None:
        # One TLS context for all: each transport would otherwise load the CA bundle again
        # (~20 ms of CPU), 64 times over in the first burst.
        options["verify"] = httpx.create_ssl_context(
            verify=options.get("verify", True),
            cert=options.pop("cert", None),
            trust_env=options.get("trust_env", True),
        )
        self._options = options  # for each httpx.AsyncHTTPTransport (retries, proxy, ...)
        self._max = limits.max_connections
        self._keep = limits.max_keepalive_connections
        self._idle: list[httpx.AsyncHTTPTransport] = []
        self._busy = 0
        self._freed: asyncio.Condition | None = None  # made on first wait, in the caller's loop
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self._admit(request)
        transport = self._idle.pop() if self._idle else httpx.AsyncHTTPTransport(**self._options)
        try:
            response = await transport.handle_async_request(request)
        except BaseException:
            await self._give_back(transport)
            raise
        response.stream = _Returning(response.stream, lambda: self._give_back(transport))
        return response

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for transport in idle:
            await transport.aclose()

    @property
    def idle(self) -> int:
        return len(self._idle)

    @property
    def busy(self) -> int:
        return self._busy

    async def _admit(self, request: httpx.Request) -> None:
        if self._max is None or self._busy < self._max:
            self._busy += 1
            return
        if self._freed is None:
            self._freed = asyncio.Condition()
        patience = request.extensions.get("timeout", {}).get("pool")
        try:
            async with asyncio.timeout(patience), self._freed:
                await self._freed.wait_for(lambda: self._busy < self._max)
                self._busy += 1
        except TimeoutError:
            raise httpx.PoolTimeout(
                f"all {self._max} connections busy for {patience} s", request=request
            ) from None

    async def _give_back(self, transport: httpx.AsyncHTTPTransport) -> None:
        self._busy -= 1
        keep = not self._closed and (self._keep is None or len(self._idle) < self._keep)
        if keep:
            self._idle.append(transport)
        if self._freed is not None:  # before closing: a cancelled close must not strand them
            async with self._freed:
                self._freed.notify()
        if not keep:
            await transport.aclose()


class _Returning(httpx.AsyncByteStream):
    """A response body that gives its transport back when closed, once."""

    def __init__(self, stream: Any, give_back: Callable[[], Any]) -> None:
        self._stream = stream
        self._give_back: Callable[[], Any] | None = give_back

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            give_back, self._give_back = self._give_back, None
            if give_back is not None:
                await give_back()


__all__ = ["LIMITS", "OneConnectionEach"]
