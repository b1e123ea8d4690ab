"""The LLM endpoint becomes unreachable (connection refused) and comes back.

A synchronous check fails cleanly (503 problem+json, nothing stored); an asynchronous one
waits in the queue, is tried again after its backoff, and is done once the LLM is back: its
report complete, its article stored once, its extraction not paid for twice. Unlike
tests/api/test_async_checks.py (an overloaded endpoint answering 503 to the extraction), the
endpoint here is gone, and it goes away half-way through a check: after the extraction,
when the judge is asked.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import httpx
import respx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.jobs.worker import backoff
from service.llm.judge import LLMJudge
from service.llm.llm_extractor import LLMExtractor
from service.store.sql import SqlStore
from service.store.tables import utcnow
from tests.api.test_articles import assert_problem
from tests.faults.conftest import Clock, count_rows, eventually
from tests.recording import chat_completion, json_response, llm_settings
from tests.recordings.build_judge import sent_pairs

ASYNC = {"Prefer": "respond-async"}
EVIDENCE = (
    "Speaking at a televised meeting of his security council on Monday evening, President "
    "Vladimir Putin vowed to push the Ukrainian troops back across the border, the Kremlin "
    "said. Officials gave no timetable. Residents of nearby towns described long queues at "
    "petrol stations and crowded buses leaving for the regional capital."
)
CHECKED = (
    "Russian commanders received new orders this week. According to two officials in Moscow, "
    "Putin ordered the army to drive Ukrainian units out of the Kursk region within days. "
    "Military bloggers questioned whether enough reserves were available, and satellite "
    "images showed columns of vehicles moving south."
)
UNSEEN = "Smirnov said 12 people had been killed in the Kursk region on Monday."
CLAIMS = {  # what the model extracts from each article: one claim; the first two agree
    EVIDENCE: {
        "statement": "Vladimir Putin vowed to push the Ukrainian troops in the Kursk region "
        "back across the border.",
        "quote": "President Vladimir Putin vowed to push the Ukrainian troops back across the "
        "border",
        "claimant": "the Kremlin",
        "entities": ["Vladimir Putin", "Kursk region"],
    },
    CHECKED: {
        "statement": "Vladimir Putin ordered the army to drive the Ukrainian troops out of the "
        "Kursk region.",
        "quote": "Putin ordered the army to drive Ukrainian units out of the Kursk region",
        "entities": ["Vladimir Putin", "Kursk region"],
    },
    UNSEEN: {
        "statement": "Smirnov said 12 people had been killed in the Kursk region on Monday.",
        "quote": "Smirnov said 12 people had been killed in the Kursk region on Monday",
        "claimant": "Smirnov",
    },
}
EXTRACT, JUDGE = "ClaimList", "JudgementList"  # the tool each kind of request calls


class ReachableLLM:
    """A respx side effect: an OpenAI-compatible endpoint whose calls of each kind (EXTRACT,
    JUDGE) connect, or are refused while that kind is in `down`. Counts every request sent."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self.calls: Counter[str] = Counter()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        kind = body["tools"][0]["function"]["name"]
        self.calls[kind] += 1
        if kind in self.down:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if kind == EXTRACT:
            user = body["messages"][-1]["content"]
            claims = [claim for text, claim in CLAIMS.items() if text in user]
            answer = chat_completion(arguments=json.dumps({"claims": claims}))
        else:
            judgements = [
                {"pair_id": pair["pair_id"], "relation": "supports", "explanation": "Same order."}
                for pair in sent_pairs(body)
            ]
            answer = chat_completion(
                arguments=json.dumps({"judgements": judgements}), tool_name=JUDGE
            )
        return json_response(answer)


def llm_app(store: SqlStore, **overrides: object) -> Litestar:
    config = llm_settings(
        **{"llm_max_attempts": 2, "job_concurrency": 0, "job_max_attempts": 3, **overrides}
    )
    backends = (LLMExtractor(config, sleep=_no_sleep), LLMJudge(config, sleep=_no_sleep))
    return create_app(config, store=store, backends=backends)


async def _no_sleep(_: float) -> None:
    return None


async def test_the_llm_gone_mid_check_stores_nothing_and_the_job_is_done_once_it_is_back(
    store: SqlStore, database_url: str
) -> None:
    llm = ReachableLLM()
    app = llm_app(store)
    worker = app.state.worker
    with respx.mock() as router:
        router.post(path__regex=r"/chat/completions$").mock(side_effect=llm)
        async with AsyncTestClient(app) as client:
            evidence = await client.post("/v1/articles", json={"text": EVIDENCE})
            assert evidence.status_code == 201, evidence.text

            # The extraction is answered, then the judge is unreachable.
            llm.down = {JUDGE}
            problem = assert_problem(await client.post("/v1/checks", json={"text": CHECKED}), 503)
            assert problem["type"].endswith("llm-unavailable")
            assert "connection failed" in problem["detail"]
            assert llm.calls == Counter({EXTRACT: 2, JUDGE: 2})  # the judge tried twice
            rows = await count_rows(database_url)
            assert (rows.articles, rows.claims, rows.checks) == (1, 1, 0)  # only the evidence

            keyed = {**ASYNC, "Idempotency-Key": "cms-7f3a"}
            accepted = await client.post("/v1/checks", json={"text": CHECKED}, headers=keyed)
            assert accepted.status_code == 202, accepted.text
            check_id, location = accepted.json()["id"], accepted.headers["location"]
            start = utcnow()
            worker.clock = lambda: start
            assert await worker.poll_once() == check_id
            queued = (await client.get(location)).json()
            assert queued["status"] == "queued"
            assert "LLM" in queued["error"] and "attempt 1 of 3" in queued["error"]
            assert (queued["claims"], queued["article_id"]) == ([], None)
            # The CMS, not hearing back, posts again: the same check, not a second one.
            again = await client.post("/v1/checks", json={"text": CHECKED}, headers=keyed)
            assert (again.status_code, again.json()["id"]) == (202, check_id)

            # Now the whole endpoint is gone: new articles are refused, the job waits.
            llm.down = {EXTRACT, JUDGE}
            refused = await client.post("/v1/articles", json={"text": UNSEEN})
            assert assert_problem(refused, 503)["type"].endswith("llm-unavailable")
            assert await worker.poll_once() is None  # not due before its backoff
            worker.clock = lambda: start + backoff(1)
            assert await worker.poll_once() == check_id
            assert "attempt 2 of 3" in (await client.get(location)).json()["error"]
            rows = await count_rows(database_url)
            assert (rows.articles, rows.claims, rows.checks) == (1, 1, 1)

            # Back: the third attempt finishes the check.
            llm.down = set()
            before = llm.calls.copy()
            worker.clock = lambda: start + backoff(1) + backoff(2)
            assert await worker.poll_once() == check_id
            assert await worker.poll_once() is None
            done = (await client.get(location)).json()
            stored = (await client.get(f"/v1/articles/{done['article_id']}")).json()

    assert llm.calls - before == Counter({JUDGE: 1})  # the extraction was never paid twice
    assert (done["status"], done["error"], done["finished_at"] is not None) == ("done", None, True)
    assert done["usage"]["llm_calls"] == 1
    (claim,) = done["claims"]
    assert claim["verdict"] == "supported"
    (citation,) = claim["citations"]
    assert (citation["article_id"], citation["method"]) == (evidence.json()["id"], "llm")
    assert [c["id"] for c in stored["claims"]] == [claim["id"]]
    rows = await count_rows(database_url)
    assert (rows.articles, rows.claims, rows.orphan_claims, rows.checks) == (2, 2, 0, 1)


async def test_the_background_worker_waits_out_the_outage(
    store: SqlStore, database_url: str
) -> None:
    """The worker loop every instance runs (not poll_once): it keeps polling through the
    outage, leaves the job alone until its backoff has passed, and finishes it once the LLM
    answers again."""
    llm = ReachableLLM()
    llm.down = {EXTRACT}
    app = llm_app(store, llm_max_attempts=1, job_concurrency=1, job_poll_seconds=0.01)
    clock = app.state.worker.clock = Clock()
    with respx.mock() as router:
        router.post(path__regex=r"/chat/completions$").mock(side_effect=llm)
        async with AsyncTestClient(app) as client:
            accepted = await client.post("/v1/checks", json={"text": UNSEEN}, headers=ASYNC)
            location = accepted.headers["location"]
            clock.now = utcnow()  # the job is due from now on

            async def status() -> dict[str, Any]:
                return (await client.get(location)).json()

            first = await eventually(status, lambda s: "attempt 1 of 3" in (s["error"] or ""))
            assert (first["status"], llm.calls[EXTRACT]) == ("queued", 1)
            await asyncio.sleep(0.3)  # some thirty polls: none may retry before the backoff
            assert llm.calls[EXTRACT] == 1

            clock.advance(backoff(1))
            await eventually(status, lambda s: "attempt 2 of 3" in (s["error"] or ""))
            llm.down = set()
            clock.advance(backoff(2))
            done = await eventually(status, lambda s: s["status"] == "done")

    assert llm.calls[EXTRACT] == 3
    assert [c["claimant"] for c in done["claims"]] == ["Smirnov"]
    assert done["error"] is None and done["article_id"] is not None
    rows = await count_rows(database_url)
    assert (rows.articles, rows.claims, rows.checks) == (1, 1, 1)
