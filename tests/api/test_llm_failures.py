"""An LLM that fails: the API answers problem+json 502/503 and stores nothing half-done."""

from __future__ import annotations

import json

import httpx
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.llm.llm_extractor import LLMExtractor
from service.store.sql import SqlStore
from tests.api.test_articles import assert_problem
from tests.recording import chat_completion, error_response, json_response, llm_settings, scripted

ARTICLE = {"text": "Smirnov said 12 people had been killed in the Kursk region on Monday."}


def app_with_llm(store: SqlStore, **settings: object):
    config = llm_settings(llm_max_attempts=2, **settings)
    extractor = LLMExtractor(config, sleep=_no_sleep)
    return create_app(config, store=store, backends=(extractor, None))


async def _no_sleep(_: float) -> None:
    return None


async def test_llm_unavailable_is_503_and_nothing_is_stored(store: SqlStore) -> None:
    async with AsyncTestClient(app_with_llm(store)) as client:
        with scripted(error_response(503, "overloaded"), error_response(503)) as script:
            for path in ("/v1/articles", "/v1/checks"):
                problem = assert_problem(await client.post(path, json=ARTICLE), 503)
                assert problem["type"].endswith("llm-unavailable")
                assert "503" in problem["detail"]
        assert script.calls == 4  # two bounded attempts per request, then give up
        assert (await client.get("/v1/articles")).json()["total"] == 0


async def test_llm_timeout_is_503(store: SqlStore) -> None:
    async with AsyncTestClient(app_with_llm(store)) as client:
        with scripted(httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow")):
            problem = assert_problem(await client.post("/v1/articles", json=ARTICLE), 503)
        assert "LLM" in problem["detail"]
        assert (await client.get("/v1/articles")).json()["total"] == 0


async def test_llm_schema_garbage_is_502_and_nothing_is_stored(store: SqlStore) -> None:
    garbage = json_response(chat_completion(arguments='{"claims": "not a list"}'))
    async with AsyncTestClient(app_with_llm(store, llm_max_reasks=1)) as client:
        with scripted(garbage, garbage):
            problem = assert_problem(await client.post("/v1/articles", json=ARTICLE), 502)
        assert problem["type"].endswith("llm-bad-output")
        assert (await client.get("/v1/articles")).json()["total"] == 0


async def test_hallucinated_quote_is_dropped_and_counted(store: SqlStore) -> None:
    claims = {
        "claims": [
            {
                "statement": "Smirnov said 12 people had been killed in the Kursk region.",
                "quote": "Smirnov said 12 people had been killed in the Kursk region",
                "claimant": "Smirnov",
                "entities": ["Smirnov", "Kursk region"],
                "quantities": [{"text": "12 people", "value": 12, "measure": "people killed"}],
            },
            {
                "statement": "Smirnov said 40 villages were captured.",
                "quote": "Smirnov said 40 villages had been captured",
                "claimant": "Smirnov",
            },
        ]
    }

    answer = json_response(chat_completion(arguments=json.dumps(claims)))
    async with AsyncTestClient(app_with_llm(store)) as client:
        with scripted(answer):
            report = (await client.post("/v1/checks", json=ARTICLE)).json()
        assert report["summary"]["dropped_ungrounded"] == 1
        assert [c["quote"] for c in report["claims"]] == [
            "Smirnov said 12 people had been killed in the Kursk region"
        ]
        stored = (await client.get(f"/v1/articles/{report['article_id']}")).json()
        assert [c["quote"] for c in stored["claims"]] == [report["claims"][0]["quote"]]
        assert report["model"] == "gpt-4o-mini"
        assert report["prompt_version"].startswith("extract_claims@")
        assert report["usage"]["llm_calls"] == 1


async def test_article_creation_reports_its_llm_usage(store: SqlStore) -> None:
    answer = json_response(
        chat_completion(
            arguments=json.dumps({"claims": []}), prompt_tokens=321, completion_tokens=9
        )
    )
    async with AsyncTestClient(app_with_llm(store)) as client:
        with scripted(answer):
            created = (await client.post("/v1/articles", json=ARTICLE)).json()
        assert created["usage"] == {"llm_calls": 1, "prompt_tokens": 321, "completion_tokens": 9}
        again = (await client.post("/v1/articles", json=ARTICLE)).json()  # no call: stored
        assert again["usage"] is None
