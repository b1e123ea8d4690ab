"""Asynchronous checks through the API, on both databases: 202, status, Idempotency-Key, and
the LLM going away while a job runs. The worker is driven one poll at a time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.jobs.worker import Worker, backoff
from service.llm.base import ArticleContext, Extraction
from service.llm.llm_extractor import LLMExtractor
from service.llm.offline import OfflineExtractor
from service.models import CheckIn, CheckReport
from service.store.jobs import SqlJobs
from service.store.sql import SqlStore
from service.store.tables import utcnow
from tests.api.test_articles import assert_problem
from tests.conftest import make_settings
from tests.recording import chat_completion, error_response, json_response, llm_settings, scripted
from tests.store.test_jobs import count_rows

ARTICLE = {"text": "Smirnov said 12 people had been killed in the Kursk region on Monday."}
ASYNC = {"Prefer": "respond-async"}
SECRET = "whsec-test-0123456789abcdef"
# The test receiver listens on 127.0.0.1 and respx stands in for the CMS: both are allowed, as
# a newsroom allows its own CMS host (service.jobs.destinations refuses local addresses).
CALLBACK_HOSTS = ["127.0.0.1", "cms.example.org"]
CLAIMS = {
    "claims": [
        {
            "statement": "Smirnov said 12 people had been killed in the Kursk region.",
            "quote": "Smirnov said 12 people had been killed in the Kursk region",
            "claimant": "Smirnov",
        }
    ]
}


class GatedExtractor(OfflineExtractor):
    """The offline extractor, held at a gate so a test can look at a running check."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    async def extract(self, chunk: str, context: ArticleContext) -> Extraction:
        self.entered.set()
        await self.gate.wait()
        return await super().extract(chunk, context)


async def no_sleep(_: float) -> None:
    return None


@asynccontextmanager
async def serving(app: Litestar) -> AsyncIterator[tuple[AsyncTestClient, Worker]]:
    worker: Worker = app.state.worker
    worker.sleep = no_sleep
    async with AsyncTestClient(app) as client:
        yield client, worker


def offline_app(store: SqlStore, extractor=None, **settings: object) -> Litestar:
    defaults = {
        "job_concurrency": 0,
        "webhook_secret": SECRET,
        "callback_allowlist": CALLBACK_HOSTS,
    }
    config = make_settings(**{**defaults, **settings})
    backends = (extractor, None) if extractor else None
    return create_app(config, store=store, backends=backends)


def llm_app(store: SqlStore, **settings: object) -> Litestar:
    defaults = {"llm_max_attempts": 1, "job_concurrency": 0, "webhook_secret": SECRET}
    config = llm_settings(**{**defaults, "callback_allowlist": CALLBACK_HOSTS, **settings})
    return create_app(config, store=store, backends=(LLMExtractor(config, sleep=no_sleep), None))


async def test_respond_async_is_202_and_the_status_moves_on(store: SqlStore) -> None:
    extractor = GatedExtractor()
    async with serving(offline_app(store, extractor)) as (client, worker):
        response = await client.post("/v1/checks", json=ARTICLE, headers=ASYNC)
        assert response.status_code == 202, response.text
        queued = response.json()
        assert response.headers["location"] == f"/v1/checks/{queued['id']}"
        assert response.headers["preference-applied"] == "respond-async"
        assert (queued["status"], queued["claims"], queued["article_id"]) == ("queued", [], None)
        assert queued["extractor"] == extractor.name
        assert (await client.get(response.headers["location"])).json() == queued

        polling = asyncio.create_task(worker.poll_once())
        await extractor.entered.wait()
        running = (await client.get(response.headers["location"])).json()
        assert (running["status"], running["claims"]) == ("running", [])
        extractor.gate.set()
        assert await polling == queued["id"]

        done = (await client.get(response.headers["location"])).json()
        assert done["status"] == "done"
        assert (done["id"], done["created_at"]) == (queued["id"], queued["created_at"])
        assert done["claims"] and done["article_id"] is not None
        assert done["finished_at"] is not None and done["delivery"] is None
        assert await worker.poll_once() is None  # nothing left


async def test_without_prefer_the_check_stays_synchronous(store: SqlStore) -> None:
    async with serving(offline_app(store)) as (client, _):
        response = await client.post("/v1/checks", json=ARTICLE, headers={"Prefer": "wait=5"})
        assert response.status_code == 200
        assert response.json()["status"] == "done"
        assert "preference-applied" not in response.headers


async def test_a_callback_url_alone_makes_the_check_asynchronous(store: SqlStore) -> None:
    body = {**ARTICLE, "callback_url": "https://cms.example.org/hooks/factcheck"}
    async with serving(offline_app(store)) as (client, _):
        response = await client.post("/v1/checks", json=body)
        assert response.status_code == 202, response.text
        assert "preference-applied" not in response.headers  # nothing was asked for
        assert response.json()["status"] == "queued"


async def test_callback_url_without_a_webhook_secret_is_422(store: SqlStore) -> None:
    body = {**ARTICLE, "callback_url": "https://cms.example.org/hooks"}
    async with serving(offline_app(store, webhook_secret=None)) as (client, _):
        problem = assert_problem(await client.post("/v1/checks", json=body), 422)
        assert problem["type"].endswith("webhook-not-configured")
        assert "FACTCHECK_WEBHOOK_SECRET" in problem["detail"]
        assert await count_rows(store) == 0


@pytest.mark.parametrize("url", ["ftp://cms.example.org/x", "not a url", "/relative", ""])
async def test_callback_url_must_be_http(store: SqlStore, url: str) -> None:
    async with serving(offline_app(store)) as (client, _):
        body = {**ARTICLE, "callback_url": url}
        problem = assert_problem(await client.post("/v1/checks", json=body), 422)
        assert "callback_url" in problem["detail"]


async def test_async_replay_returns_the_first_check(store: SqlStore) -> None:
    headers = {**ASYNC, "Idempotency-Key": "cms-42"}
    async with serving(offline_app(store)) as (client, worker):
        first = await client.post("/v1/checks", json=ARTICLE, headers=headers)
        again = await client.post("/v1/checks", json=ARTICLE, headers=headers)
        assert (first.status_code, again.status_code) == (202, 202)
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["location"] == first.headers["location"]
        await worker.poll_once()
        after = await client.post("/v1/checks", json=ARTICLE, headers=headers)
        assert (after.json()["id"], after.json()["status"]) == (first.json()["id"], "done")
        assert await count_rows(store) == 1


async def test_sync_replay_returns_the_stored_report(store: SqlStore) -> None:
    headers = {"Idempotency-Key": "sync-1"}
    async with serving(offline_app(store)) as (client, _):
        first = await client.post("/v1/checks", json=ARTICLE, headers=headers)
        assert first.status_code == 200, first.text
        again = await client.post("/v1/checks", json=ARTICLE, headers=headers)
        assert again.status_code == 200
        assert again.json() == first.json()
        assert (await client.get(f"/v1/checks/{first.json()['id']}")).json() == first.json()
        assert await count_rows(store) == 1


async def test_one_key_with_another_body_is_422(store: SqlStore) -> None:
    headers = {"Idempotency-Key": "reused"}
    async with serving(offline_app(store)) as (client, _):
        first = await client.post("/v1/checks", json=ARTICLE, headers={**headers, **ASYNC})
        other = {"text": "Another article entirely, with 5 claims."}
        for extra in ({}, ASYNC):
            response = await client.post("/v1/checks", json=other, headers={**headers, **extra})
            problem = assert_problem(response, 422)
            assert problem["type"].endswith("idempotency-key-reused")
            assert problem["check_id"] == first.json()["id"]
        assert await count_rows(store) == 1


async def test_a_bad_idempotency_key_is_400(store: SqlStore) -> None:
    async with serving(offline_app(store)) as (client, _):
        for key in ("x" * 256, "has space"):
            headers = {"Idempotency-Key": key}
            assert_problem(await client.post("/v1/checks", json=ARTICLE, headers=headers), 400)


async def test_a_retry_while_the_first_sync_check_runs_is_409(store: SqlStore) -> None:
    # (Concurrent submissions themselves: tests/jobs/test_submit.py; the test client runs one
    # request at a time.) Here another instance holds the check with this key, still running.
    jobs = SqlJobs(store)
    placeholder = CheckReport(
        id=0,
        article_id=None,
        status="running",
        extractor="offline-rules",
        model=None,
        prompt_version=None,
        created_at=utcnow(),
    )
    request = CheckIn.model_validate(ARTICLE)
    check_id, _ = await jobs.add(
        placeholder, request, idempotency_key="sync-burst", owner="elsewhere", now=utcnow()
    )
    async with serving(offline_app(store)) as (client, _):
        headers = {"Idempotency-Key": "sync-burst"}
        busy = await client.post("/v1/checks", json=ARTICLE, headers=headers)
        problem = assert_problem(busy, 409)
        assert problem["type"].endswith("check-in-progress")
        assert (problem["check_id"], busy.headers["retry-after"]) == (check_id, "5")
        # An asynchronous retry is simply pointed at it.
        accepted = await client.post("/v1/checks", json=ARTICLE, headers={**headers, **ASYNC})
        assert accepted.status_code == 202
        assert accepted.json()["id"] == check_id and accepted.json()["status"] == "running"
        assert await count_rows(store) == 1


async def test_a_failed_sync_check_frees_its_key(store: SqlStore) -> None:
    headers = {"Idempotency-Key": "retry-me"}
    answer = json_response(chat_completion(arguments='{"claims": []}'))
    async with serving(llm_app(store)) as (client, _):
        with scripted(error_response(503, "overloaded")):
            assert_problem(await client.post("/v1/checks", json=ARTICLE, headers=headers), 503)
        assert await count_rows(store) == 0  # nothing half-stored
        with scripted(answer):
            response = await client.post("/v1/checks", json=ARTICLE, headers=headers)
        assert response.status_code == 200 and response.json()["status"] == "done"


async def test_llm_down_requeues_with_backoff_then_the_check_is_done(store: SqlStore) -> None:
    answer = json_response(chat_completion(arguments=json.dumps(CLAIMS)))
    async with serving(llm_app(store, job_max_attempts=3)) as (client, worker):
        location = (await client.post("/v1/checks", json=ARTICLE, headers=ASYNC)).headers[
            "location"
        ]
        start = utcnow()
        worker.clock = lambda: start
        with scripted(error_response(503, "overloaded")) as llm:
            assert await worker.poll_once() is not None
            assert llm.calls == 1
            queued = (await client.get(location)).json()
            assert queued["status"] == "queued"
            assert "LLM" in queued["error"] and "attempt 1 of 3" in queued["error"]
            assert queued["claims"] == [] and queued["article_id"] is None  # nothing stored
            assert (await client.get("/v1/articles")).json()["total"] == 0

            assert await worker.poll_once() is None  # not due before its backoff
            worker.clock = lambda: start + backoff(1)
            assert await worker.poll_once() is not None  # the second attempt fails too
            assert (await client.get(location)).json()["status"] == "queued"
            assert await worker.poll_once() is None
        assert backoff(2) == 2 * backoff(1)

        worker.clock = lambda: start + backoff(1) + backoff(2)
        with scripted(answer):  # the LLM is back
            assert await worker.poll_once() is not None
        done = (await client.get(location)).json()
        assert (done["status"], done["error"]) == ("done", None)
        assert [c["claimant"] for c in done["claims"]] == ["Smirnov"]
        assert done["usage"]["llm_calls"] == 1


async def test_llm_down_for_every_attempt_fails_the_check(store: SqlStore) -> None:
    async with serving(llm_app(store, job_max_attempts=2)) as (client, worker):
        location = (await client.post("/v1/checks", json=ARTICLE, headers=ASYNC)).headers[
            "location"
        ]
        with scripted(error_response(503, "overloaded")) as llm:
            await worker.poll_once()
            worker.clock = lambda: utcnow() + timedelta(hours=1)
            await worker.poll_once()
        assert llm.calls == 2
        failed = (await client.get(location)).json()
        assert failed["status"] == "failed" and failed["finished_at"] is not None
        assert "gave up after 2 attempts" in failed["error"]
        assert await worker.poll_once() is None


async def test_bad_llm_output_fails_the_job_at_once(store: SqlStore) -> None:
    garbage = json_response(chat_completion(arguments='{"claims": "not a list"}'))
    async with serving(llm_app(store, llm_max_reasks=0)) as (client, worker):
        location = (await client.post("/v1/checks", json=ARTICLE, headers=ASYNC)).headers[
            "location"
        ]
        with scripted(garbage):
            await worker.poll_once()
        failed = (await client.get(location)).json()
        assert failed["status"] == "failed" and failed["error"]


async def test_the_background_worker_runs_jobs(store: SqlStore) -> None:
    app = offline_app(store, job_concurrency=2, job_poll_seconds=0.05)
    async with serving(app) as (client, _):
        locations = [
            (
                await client.post("/v1/checks", json={"text": f"{n} people left."}, headers=ASYNC)
            ).headers["location"]
            for n in range(1, 4)
        ]
        for location in locations:
            for _ in range(200):
                if (await client.get(location)).json()["status"] == "done":
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail(f"{location} never finished")
