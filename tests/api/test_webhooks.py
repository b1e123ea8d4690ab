"""Webhooks on both databases: signed deliveries (checked with the README's own snippet),
retries, refusals, and the delivery status on the check."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
import respx

from service.settings import PROJECT_ROOT
from service.store.jobs import SqlJobs
from service.store.sql import SqlStore
from service.store.tables import utcnow
from tests.api.test_async_checks import ARTICLE, SECRET, llm_app, offline_app, serving
from tests.recording import Scripted, error_response

CALLBACK = "https://cms.example.org/hooks/factcheck"


def readme_verifier() -> Callable[..., bool]:
    """verify_webhook, exactly as the README's Webhooks section shows it."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Webhooks\n", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code, "README's Webhooks section has no Python snippet"
    namespace: dict[str, object] = {}
    exec(code.group(1), namespace)
    return namespace["verify_webhook"]  # type: ignore[return-value]


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that keeps what it is sent."""

    statuses: list[int] = field(default_factory=lambda: [200])
    received: list[tuple[httpx.Headers, bytes]] = field(default_factory=list)
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")[1:]
        headers = httpx.Headers([tuple(line.split(": ", 1)) for line in head if line])
        body = await reader.readexactly(int(headers["content-length"]))
        self.received.append((headers, body))
        status = self.statuses[min(len(self.received), len(self.statuses)) - 1]
        writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n".encode())
        await writer.drain()
        writer.close()
        await writer.wait_closed()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server_side = Receiver()
    server = await asyncio.start_server(server_side.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server_side.url = f"http://127.0.0.1:{port}/hooks/factcheck"
    async with server:
        yield server_side


def callbacks(*answers: httpx.Response | Exception) -> tuple[respx.MockRouter, Scripted]:
    router = respx.mock(assert_all_called=False)
    script = CallbackScript(*answers)
    router.post(CALLBACK).mock(side_effect=script)
    return router, script


class CallbackScript(Scripted):
    """Scripted answers for the callback URL, keeping each request whole."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent = [*getattr(self, "sent", []), request]
        return super().__call__(request)


async def test_delivery_is_signed_and_verifies_with_the_readme_snippet(
    store: SqlStore, receiver: Receiver
) -> None:
    verify = readme_verifier()
    async with serving(offline_app(store)) as (client, worker):
        body = {**ARTICLE, "callback_url": receiver.url}
        check_id = (await client.post("/v1/checks", json=body)).json()["id"]
        assert await worker.poll_once() == check_id

        report = (await client.get(f"/v1/checks/{check_id}")).json()
        assert [r[0]["x-factcheck-check-id"] for r in receiver.received] == [str(check_id)]
        headers, sent = receiver.received[0]
        assert headers["content-type"] == "application/json"
        assert abs(int(headers["x-factcheck-timestamp"]) - time.time()) < 60
        assert headers["x-factcheck-signature"].startswith("v1=")
        assert json.loads(sent) == {k: v for k, v in report.items() if k != "delivery"}
        assert json.loads(sent)["status"] == "done"

        assert verify(SECRET, headers, sent)
        assert not verify(SECRET, headers, sent + b" ")  # tampered body
        assert not verify("another secret", headers, sent)
        stale = int(headers["x-factcheck-timestamp"]) + 301
        assert not verify(SECRET, headers, sent, now=stale)  # a replay, five minutes on
        assert not verify(SECRET, {"X-Factcheck-Timestamp": "x"}, sent)

        delivery = report["delivery"]
        assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == (
            "delivered",
            1,
            None,
        )
        assert delivery["delivered_at"] is not None


async def test_a_500_is_retried_and_the_progress_is_visible(store: SqlStore) -> None:
    verify = readme_verifier()
    router, script = callbacks(httpx.Response(500), httpx.Response(204))
    seen_between: list[tuple[float, object]] = []
    async with serving(offline_app(store)) as (client, worker):
        body = {**ARTICLE, "callback_url": CALLBACK}
        check_id = (await client.post("/v1/checks", json=body)).json()["id"]

        async def pause(seconds: float) -> None:  # the backoff between attempts
            seen_between.append((seconds, (await store.get_check(check_id)).delivery))

        worker.sleep = pause
        with router:
            await worker.poll_once()

        assert script.calls == 2
        [(seconds, during)] = seen_between
        assert seconds > 0
        assert (during.status, during.attempts, during.last_error) == (  # type: ignore[attr-defined]
            "pending",
            1,
            "HTTP 500 from the callback URL",
        )
        delivery = (await client.get(f"/v1/checks/{check_id}")).json()["delivery"]
        assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)
        assert delivery["last_error"] == "HTTP 500 from the callback URL"
        for request in script.sent:
            assert verify(SECRET, request.headers, request.content)


async def test_a_refusal_is_not_retried(store: SqlStore) -> None:
    router, script = callbacks(httpx.Response(404), httpx.Response(200))
    async with serving(offline_app(store)) as (client, worker):
        body = {**ARTICLE, "callback_url": CALLBACK}
        check_id = (await client.post("/v1/checks", json=body)).json()["id"]
        with router:
            await worker.poll_once()
        assert script.calls == 1
        delivery = (await client.get(f"/v1/checks/{check_id}")).json()["delivery"]
        assert (delivery["status"], delivery["attempts"], delivery["delivered_at"]) == (
            "failed",
            1,
            None,
        )
        assert "404" in delivery["last_error"]
        assert (await client.get(f"/v1/checks/{check_id}")).json()["status"] == "done"


async def test_429_waits_as_asked_and_408_is_retried(store: SqlStore) -> None:
    answers = (httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(408))
    router, script = callbacks(*answers, httpx.Response(200))
    waits: list[float] = []
    async with serving(offline_app(store)) as (client, worker):
        body = {**ARTICLE, "callback_url": CALLBACK}
        check_id = (await client.post("/v1/checks", json=body)).json()["id"]

        async def pause(seconds: float) -> None:
            waits.append(seconds)

        worker.sleep = pause
        with router:
            await worker.poll_once()
        assert script.calls == 3 and waits[0] == 7
        delivery = (await client.get(f"/v1/checks/{check_id}")).json()["delivery"]
        assert (delivery["status"], delivery["attempts"]) == ("delivered", 3)


async def test_an_unreachable_receiver_fails_after_the_bounded_attempts(store: SqlStore) -> None:
    router, script = callbacks(httpx.ConnectError("connection refused"))
    async with serving(offline_app(store, webhook_max_attempts=3)) as (client, worker):
        body = {**ARTICLE, "callback_url": CALLBACK}
        check_id = (await client.post("/v1/checks", json=body)).json()["id"]
        with router:
            await worker.poll_once()
        assert script.calls == 3
        delivery = (await client.get(f"/v1/checks/{check_id}")).json()["delivery"]
        assert (delivery["status"], delivery["attempts"]) == ("failed", 3)
        assert "ConnectError" in delivery["last_error"]


async def test_a_failed_check_is_delivered_too(store: SqlStore) -> None:
    router = respx.mock(assert_all_called=False)
    llm = Scripted(error_response(503, "overloaded"))
    router.post(path__regex=r"/chat/completions$").mock(side_effect=llm)
    hook = router.post(CALLBACK).mock(return_value=httpx.Response(200))
    async with serving(llm_app(store, job_max_attempts=1)) as (client, worker):
        body = {**ARTICLE, "callback_url": CALLBACK}
        check_id = (await client.post("/v1/checks", json=body)).json()["id"]
        with router:
            await worker.poll_once()
            sent = json.loads(hook.calls.last.request.content)  # (calls reset on exit)
        assert (sent["id"], sent["status"]) == (check_id, "failed")
        assert "gave up after 1 attempts" in sent["error"]
        report = (await client.get(f"/v1/checks/{check_id}")).json()
        assert (report["status"], report["delivery"]["status"]) == ("failed", "delivered")


async def test_a_delivery_whose_worker_died_is_sent_by_another(store: SqlStore) -> None:
    router, script = callbacks(httpx.Response(200))
    async with serving(offline_app(store)) as (client, worker):
        body = {**ARTICLE, "callback_url": CALLBACK}
        check_id = (await client.post("/v1/checks", json=body)).json()["id"]
        # A worker that finishes the check and dies before delivering it.
        start = utcnow()
        dead = await SqlJobs(store).claim("dead-worker", start, 300)
        assert dead is not None
        await worker.pipeline.check(dead.request, check_id=check_id)
        assert (await client.get(f"/v1/checks/{check_id}")).json()["delivery"]["status"] == (
            "pending"
        )
        with router:
            assert await worker.poll_once() is None  # its lease still holds
            worker.clock = lambda: start + timedelta(seconds=301)
            assert await worker.poll_once() == check_id
        assert script.calls == 1
        delivery = (await client.get(f"/v1/checks/{check_id}")).json()["delivery"]
        assert (delivery["status"], delivery["attempts"]) == ("delivered", 1)


async def test_no_secret_at_delivery_time_fails_the_delivery(store: SqlStore) -> None:
    async with serving(offline_app(store)) as (client, worker):
        body = {**ARTICLE, "callback_url": CALLBACK}
        check_id = (await client.post("/v1/checks", json=body)).json()["id"]
        worker.settings = worker.settings.model_copy(update={"webhook_secret": None})
        await worker.poll_once()  # the secret was removed, and the service restarted
        delivery = (await client.get(f"/v1/checks/{check_id}")).json()["delivery"]
        assert delivery["status"] == "failed"
        assert "FACTCHECK_WEBHOOK_SECRET" in delivery["last_error"]
