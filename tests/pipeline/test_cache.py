"""The extraction cache: the same text, extractor, model and prompt costs no LLM call twice."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from service.errors import LLMUnavailable
from service.llm.base import JudgePair, Judging
from service.llm.llm_extractor import LLMExtractor
from service.llm.prompts import load_prompt
from service.models import CheckIn
from service.pipeline.run import Pipeline
from service.store.sql import SqlStore
from tests.recording import chat_completion, json_response, llm_settings, scripted

TEXT = "Smirnov said 12 people had been killed in the Kursk region on Monday."
ANSWER = {
    "claims": [
        {
            "statement": "Smirnov said 12 people had been killed in the Kursk region.",
            "quote": "Smirnov said 12 people had been killed in the Kursk region",
            "claimant": "Smirnov",
            "quantities": [{"text": "12 people", "value": 12, "measure": "people killed"}],
        },
        {"statement": "Invented.", "quote": "This is not in the article."},
    ]
}


def answer():
    return json_response(chat_completion(arguments=json.dumps(ANSWER)))


def pipeline(store: SqlStore, **settings: object) -> Pipeline:
    config = llm_settings(**settings)
    return Pipeline(store=store, extractor=LLMExtractor(config), judge=None, settings=config)


async def test_repeat_check_reuses_the_extraction(store: SqlStore) -> None:
    request = CheckIn(text=TEXT, store=False)
    with scripted(answer()) as server:
        first = await pipeline(store).check(request)
        again = await pipeline(store).check(request)
    assert server.calls == 1
    assert first.usage.llm_calls == 1 and again.usage.llm_calls == 0
    assert [c.quote for c in again.claims] == [c.quote for c in first.claims]
    assert again.summary.dropped_ungrounded == first.summary.dropped_ungrounded == 1
    # Ingesting the same text later reuses it too.
    with respx.mock(assert_all_called=False) as router:
        route = router.post(path__regex=r"/chat/completions$").mock(return_value=answer())
        article, created = await pipeline(store).ingest(CheckIn(text=TEXT))
    assert created and route.call_count == 0
    assert len(article.claims) == 1


async def test_another_model_or_prompt_extracts_again(store: SqlStore, tmp_path) -> None:
    request = CheckIn(text=TEXT, store=False)
    with scripted(answer(), answer(), answer()) as server:
        await pipeline(store).check(request)
        other_model = await pipeline(store, llm_model="gpt-4.1-mini").check(request)
        prompts = tmp_path / "prompts"
        prompts.mkdir()
        original = load_prompt("extract_claims", llm_settings().prompts_dir)
        source = (llm_settings().prompts_dir / "extract_claims.toml").read_text(encoding="utf-8")
        (prompts / "extract_claims.toml").write_text(source + "\n# edited\n", encoding="utf-8")
        edited = pipeline(store, prompts_dir=prompts)
        assert edited.extractor.prompt_version != original.version
        other_prompt = await edited.check(request)
    assert server.calls == 3
    assert other_model.usage.llm_calls == other_prompt.usage.llm_calls == 1
    assert other_model.model == "gpt-4.1-mini"


async def test_another_publication_day_extracts_again(store: SqlStore) -> None:
    # "on Monday" resolves against the publication day: a cached extraction from another
    # day would carry another date, and could flip a date comparison.
    monday = CheckIn(text=TEXT, store=False, published_at="2024-08-13T09:00:00Z")
    later_that_day = CheckIn(text=TEXT, store=False, published_at="2024-08-13T18:30:00Z")
    next_week = CheckIn(text=TEXT, store=False, published_at="2024-08-20T09:00:00Z")
    with scripted(answer(), answer()) as server:
        first = await pipeline(store).check(monday)
        same_day = await pipeline(store).check(later_that_day)
        other_day = await pipeline(store).check(next_week)
    assert server.calls == 2
    assert [r.usage.llm_calls for r in (first, same_day, other_day)] == [1, 0, 1]


class DownJudge:
    """A judge whose endpoint is down: what an async job meets before it is retried."""

    model = "gpt-4o-mini"
    prompt_version = "judge-test"

    def __init__(self) -> None:
        self.calls = 0

    async def judge(self, pairs: list[JudgePair]) -> Judging:
        self.calls += 1
        raise LLMUnavailable("LLM endpoint unavailable")


def claim_answer(statement: str) -> httpx.Response:
    claim = {"statement": statement, "quote": statement.rstrip("."), "entities": ["Kursk region"]}
    return json_response(chat_completion(arguments=json.dumps({"claims": [claim]})))


async def test_a_failed_judge_call_keeps_the_extraction_for_the_retry(store: SqlStore) -> None:
    stored = "Officials said the bridge in the Kursk region was destroyed by the strike."
    checked = "Officials said the bridge in the Kursk region was damaged by the strike."
    judge = DownJudge()
    config = llm_settings()
    pipe = Pipeline(store=store, extractor=LLMExtractor(config), judge=judge, settings=config)
    with scripted(claim_answer(stored), claim_answer(checked)) as server:
        await pipe.ingest(CheckIn(text=stored, source="Outlet A"))
        with pytest.raises(LLMUnavailable):
            await pipe.check(CheckIn(text=checked, store=False))
    assert server.calls == 2 and judge.calls == 1  # the pair was left open for the judge
    # The retry (here: the judge still down) asks the extractor nothing more.
    with respx.mock(assert_all_called=False) as router, pytest.raises(LLMUnavailable):
        route = router.post(path__regex=r"/chat/completions$").mock(return_value=answer())
        await pipe.check(CheckIn(text=checked, store=False))
    assert route.call_count == 0 and judge.calls == 2
