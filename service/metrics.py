"""Prometheus metrics: the metric objects, the calls that count, and the text a scrape gets.

The metrics live in one registry of this module, created once at import, so any number of
apps in one process (the tests make many) share them and nothing registers twice. With
several uvicorn workers, `factcheck serve` points PROMETHEUS_MULTIPROC_DIR at a fresh folder
before they start: every worker then writes its values there (prometheus_client's
multiprocess mode) and a scrape of any worker adds up all of them. The job queue depth is not
counted at all: it is read from the `checks` table when scraped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

if TYPE_CHECKING:
    from service.models import CheckReport

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The classic text format every Prometheus reads; the web framework appends the charset.
CONTENT_TYPE = "text/plain; version=0.0.4"
VERDICTS = ("supported", "conflicting", "mixed", "unverified")
# Checks with an LLM take tens of seconds; probes take milliseconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

# No `*_created` series beside each counter: they double the output and no dashboard uses them.
disable_created_metrics()
REGISTRY = CollectorRegistry()

HTTP_REQUESTS = Counter(
    "factcheck_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "factcheck_http_request_duration_seconds",
    "Time from request to the end of the response, by method and route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
LLM_CALLS = Counter(
    "factcheck_llm_calls",
    "LLM requests sent, re-asks and transport retries included.",
    registry=REGISTRY,
)
LLM_TOKENS = Counter(
    "factcheck_llm_tokens",
    "LLM tokens the server reported, by type (prompt, completion).",
    ["type"],
    registry=REGISTRY,
)
LLM_RETRIES = Counter(
    "factcheck_llm_retries",
    "LLM requests repeated, by reason: invalid_output (instructor re-ask), rate_limited, "
    "server_error, timeout, connection (tenacity).",
    ["reason"],
    registry=REGISTRY,
)
CHECKS = Counter(
    "factcheck_checks",
    "Checks finished, by status.",
    ["status"],
    registry=REGISTRY,
)
CHECK_VERDICTS = Counter(
    "factcheck_check_verdicts",
    "Verdicts given by checks, one per checked claim, by verdict.",
    ["verdict"],
    registry=REGISTRY,
)

# Series that exist from the start, so a dashboard shows 0 rather than "no data".
for _type in ("prompt", "completion"):
    LLM_TOKENS.labels(_type)
for _verdict in VERDICTS:
    CHECK_VERDICTS.labels(_verdict)


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(seconds)


def count_llm_call() -> None:
    LLM_CALLS.inc()


def count_llm_tokens(prompt: int, completion: int) -> None:
    LLM_TOKENS.labels("prompt").inc(prompt)
    LLM_TOKENS.labels("completion").inc(completion)


def count_llm_retry(reason: str) -> None:
    LLM_RETRIES.labels(reason).inc()


def count_check(report: CheckReport) -> None:
    CHECKS.labels(report.status).inc()
    for claim in report.claims:
        CHECK_VERDICTS.labels(claim.verdict).inc()


def render(queue_depth: int | None) -> bytes:
    """The exposition text: this process's metrics (or every worker's), plus the queue depth
    when the database could be asked."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    extra = [] if queue_depth is None else [_queue_depth(queue_depth)]
    return generate_latest(_Scrape(registry, extra))


def _queue_depth(value: int) -> Metric:
    return GaugeMetricFamily(
        "factcheck_job_queue_depth",
        "Checks waiting to run (status queued), read from the database at scrape time.",
        value=value,
    )


class _Scrape:
    """What generate_latest needs (a `collect`): a registry's metrics and a few of the moment."""

    def __init__(self, registry: CollectorRegistry, extra: Iterable[Metric]) -> None:
        self.registry = registry
        self.extra = list(extra)

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()
        yield from self.extra


__all__ = [
    "CONTENT_TYPE",
    "MULTIPROC_ENV",
    "REGISTRY",
    "count_check",
    "count_llm_call",
    "count_llm_retry",
    "count_llm_tokens",
    "count_request",
    "render",
]
