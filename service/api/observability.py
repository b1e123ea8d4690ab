"""Every HTTP request's id, access log line and metrics; and `GET /metrics` for Prometheus.

`observe` wraps the whole app (Litestar's asgi_handler), outside routing and middleware, so a
request that matches no route (404, 405) or that the API-key middleware refuses (401, 429) is
logged and counted like any other. The id is the caller's `X-Request-ID` when it is a sane
token, else a new one; it goes back in the response's `X-Request-ID` and on every log line
written while the request is handled (service.logs.REQUEST_ID).
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service import metrics
from service.errors import StoreUnavailable
from service.logs import REQUEST_ID
from service.store.base import Store

HEADER = b"x-request-id"
# Letters, digits and . _ : - only: the id lands in logs and headers, so nothing that could
# forge a log line or a header (newlines, quotes, spaces) is taken from a caller.
SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
UNMATCHED = "unmatched"  # route label of requests no route matched: bounded, not the raw path
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes: DEBUG

access_log = logging.getLogger("service.access")
log = logging.getLogger(__name__)


def observe(app: ASGIApp) -> ASGIApp:
    """`app` with request ids, an access log line and HTTP metrics for every request."""

    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        method, path = scope["method"], scope["path"]  # routing rewrites scope["path"]
        started = time.perf_counter()
        status = 500  # what the server answers when the app fails before responding

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                message = {**message, "headers": [*kept, (HEADER, request_id.encode())]}
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            metrics.count_request(method, scope.get("path_template") or UNMATCHED, status, seconds)
            access_log.log(
                logging.DEBUG if path in QUIET_PATHS and status < 400 else logging.INFO,
                "%s %s %d %.1fms",
                method,
                path,
                status,
                seconds * 1000,
                extra={
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )
            REQUEST_ID.reset(token)

    return observed


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == HEADER:
            text = value.decode("latin-1").strip()
            return text if SANE_ID.fullmatch(text) else None
    return None


@get("/metrics", include_in_schema=False)
async def metrics_endpoint(storage: NamedDependency[Store]) -> Response[bytes]:
    """Prometheus text exposition: open like the health probes (no API key)."""
    try:
        depth: int | None = await storage.count_checks("queued")
    except StoreUnavailable as exc:
        log.warning("job queue depth left out of /metrics: %s", exc.detail)
        depth = None
    return Response(metrics.render(depth), media_type=metrics.CONTENT_TYPE)


__all__ = ["HEADER", "SANE_ID", "metrics_endpoint", "observe"]
