"""Request ids, JSON log lines and /metrics, through the real app on both databases."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert

from service.app import create_app
from service.logs import handler
from service.store.sql import SqlStore
from service.store.tables import CheckRow
from tests.api.test_llm_failures import ARTICLE, app_with_llm
from tests.conftest import make_settings
from tests.recording import chat_completion, error_response, json_response, scripted

CLAIMS = {
    "claims": [
        {
            "statement": "Smirnov said 12 people had been killed in the Kursk region.",
            "quote": "Smirnov said 12 people had been killed in the Kursk region",
            "claimant": "Smirnov",
        }
    ]
}


async def scrape(client: AsyncTestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} of one GET /metrics."""
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the JSON handler writes for every logger while the test runs."""
    stream = io.StringIO()
    root = logging.getLogger()
    capture, level = handler("json", stream), root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(capture)
    root.setLevel(level)


def parse(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_request_id_is_echoed_when_sane_and_made_otherwise(client: AsyncTestClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "cms-7f3a.2:retry-1"})
    assert given.headers["x-request-id"] == "cms-7f3a.2:retry-1"

    made = [
        (await client.get("/healthz", headers=headers)).headers["x-request-id"]
        for headers in ({}, {"X-Request-ID": "two words"}, {"X-Request-ID": "x" * 129})
    ]
    assert all(len(rid) == 32 and int(rid, 16) >= 0 for rid in made)
    assert len(set(made)) == 3

    missing = await client.get("/no/such/route", headers={"X-Request-ID": "abc"})
    assert missing.status_code == 404
    assert missing.headers["x-request-id"] == "abc"


async def test_every_line_logged_for_a_request_is_json_with_its_id(json_lines) -> None:
    # No database: the request fails with a 503 that service.api logs while handling it.
    store = SqlStore.from_url("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    async with AsyncTestClient(create_app(make_settings(), store=store)) as client:
        response = await client.post(
            "/v1/articles", json={"text": "12 people died."}, headers={"X-Request-ID": "req-42"}
        )
    assert response.status_code == 503

    lines = [line for line in parse(json_lines) if line["request_id"] == "req-42"]
    loggers = [line["logger"] for line in lines]
    assert "service.api" in loggers, lines  # the handler's own warning carries the id
    access = next(line for line in lines if line["logger"] == "service.access")
    assert access["method"] == "POST"
    assert access["path"] == "/v1/articles"
    assert access["status"] == 503
    assert access["duration_ms"] >= 0
    assert access["level"] == "INFO"
    assert access["message"].startswith("POST /v1/articles 503")
    assert access["timestamp"].endswith("+00:00")


async def test_text_lines_carry_the_id_too(client: AsyncTestClient) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    capture, level = handler("text", stream), root.level
    root.addHandler(capture)
    root.setLevel(logging.INFO)
    try:
        await client.get("/v1/articles", headers={"X-Request-ID": "human-1"})
        logging.getLogger("service.test").info("outside any request")
    finally:
        root.removeHandler(capture)
        root.setLevel(level)
    text = stream.getvalue()
    assert "INFO service.access [human-1]: GET /v1/articles 200 " in text
    assert "INFO service.test: outside any request" in text


async def test_metrics_count_requests_checks_and_read_the_queue(
    client: AsyncTestClient, store: SqlStore
) -> None:
    before = await scrape(client)
    assert value(before, "factcheck_job_queue_depth") == 0
    response = await client.post("/v1/checks", json={"text": ARTICLE["text"] + " Twelve died."})
    assert response.status_code == 200, response.text
    report = response.json()
    await client.get("/v1/checks/999999")
    await client.get("/nowhere")
    async with store.engine.begin() as conn:
        await conn.execute(insert(CheckRow).values(status="queued"))
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "factcheck_http_requests_total"
    assert delta(requests, method="POST", route="/v1/checks", status="200") == 1
    assert delta(requests, method="GET", route="/v1/checks/{check_id}", status="404") == 1
    assert delta(requests, method="GET", route="unmatched", status="404") == 1
    assert delta(requests, method="GET", route="/metrics", status="200") == 1
    latency = "factcheck_http_request_duration_seconds_count"
    assert delta(latency, method="POST", route="/v1/checks") == 1
    assert delta("factcheck_checks_total", status="done") == 1
    for verdict in ("supported", "conflicting", "mixed", "unverified"):
        given = sum(claim["verdict"] == verdict for claim in report["claims"])
        assert delta("factcheck_check_verdicts_total", verdict=verdict) == given
    assert value(after, "factcheck_job_queue_depth") == 1


async def test_metrics_stay_open_when_api_keys_are_required(store: SqlStore) -> None:
    app = create_app(make_settings(api_keys=["k" * 43]), store=store)
    async with AsyncTestClient(app) as client:
        refused = await client.get("/v1/articles")
        assert refused.status_code == 401
        assert refused.headers["x-request-id"]
        samples = await scrape(client)
    counted = ("GET", "/v1/articles", "401")
    labels = dict(zip(("method", "route", "status"), counted, strict=True))
    assert value(samples, "factcheck_http_requests_total", **labels) >= 1


async def test_metrics_without_database_leave_out_only_the_queue_depth() -> None:
    store = SqlStore.from_url("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    async with AsyncTestClient(create_app(make_settings(), store=store)) as client:
        samples = await scrape(client)
    assert ("factcheck_job_queue_depth", ()) not in samples
    assert any(name == "factcheck_llm_calls_total" for name, _ in samples)


async def test_llm_calls_tokens_and_retries_are_counted(store: SqlStore) -> None:
    good = json_response(
        chat_completion(arguments=json.dumps(CLAIMS), prompt_tokens=700, completion_tokens=90)
    )
    garbage = json_response(chat_completion(arguments='{"claims": "not a list"}'))
    async with AsyncTestClient(app_with_llm(store)) as client:
        before = await scrape(client)
        # 503 (tenacity retries), then an invalid answer (instructor re-asks), then a good one.
        with scripted(error_response(503), garbage, good) as script:
            response = await client.post("/v1/articles", json=ARTICLE)
        assert response.status_code == 201, response.text
        after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert script.calls == 3
    assert delta("factcheck_llm_calls_total") == 3
    assert delta("factcheck_llm_retries_total", reason="server_error") == 1
    assert delta("factcheck_llm_retries_total", reason="invalid_output") == 1
    # The garbage answer counts its default 1000/200 tokens, the good one 700/90.
    assert delta("factcheck_llm_tokens_total", type="prompt") == 1700
    assert delta("factcheck_llm_tokens_total", type="completion") == 290
