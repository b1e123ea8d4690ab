"""A check on the LLM path, end to end: the seed scenario replayed from its recordings.

Seeds 000, 001, 003 and 004 are ingested with their recorded extraction; seed 002 is checked
with the recorded extraction and the LLM judge (tests/recordings/judge_pairs, built by
`python -m tests.recordings.build_judge`). Verdicts are asserted elsewhere; this test holds
the replay, the number of LLM calls and what the report records about them.
"""

from __future__ import annotations

import json
import math

import httpx
import respx

from service.llm.llm_extractor import LLMExtractor
from service.store.sql import SqlStore
from tests.recording import RECORDINGS, Replayer, llm_settings, request_key
from tests.recordings.build_judge import CHECKED_STEM, llm_pipeline, run_scenario, sent_pairs


class Replay:
    """Answers extraction and judge requests, each from its own recordings."""

    def __init__(self) -> None:
        self.extractions = Replayer("extract_claims", label=CHECKED_STEM)
        self.judgings = Replayer("judge_pairs", label=CHECKED_STEM)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = request_key(json.loads(request.content))
        if key in self.extractions.recordings:
            return self.extractions(request)
        return self.judgings(request)  # fails naming the key when there is no recording


def recorded_usage(replayer: Replayer, key: str) -> tuple[int, int]:
    usage = replayer.recordings[key]["response"]["body"]["usage"]
    return usage["prompt_tokens"], usage["completion_tokens"]


async def test_check_with_the_llm_extractor_and_judge_replays(store: SqlStore) -> None:
    settings = llm_settings()
    pipeline = llm_pipeline(store, settings)
    judge = pipeline.judge
    assert judge is not None
    replay = Replay()
    with respx.mock() as router:
        router.post(path__regex=r"/chat/completions$").mock(side_effect=replay)
        report = await run_scenario(pipeline)

    (recorded,) = (RECORDINGS / "extract_claims").glob(f"{CHECKED_STEM}.*.json")
    check_extraction = recorded.name.split(".")[1]
    assert replay.extractions.served[-1] == check_extraction  # after the four ingests
    judged = replay.judgings.served
    bodies = [replay.judgings.recordings[key]["request"]["body"] for key in judged]
    claims_judged = {pair["pair_id"].split("-")[0] for body in bodies for pair in sent_pairs(body)}
    assert claims_judged, "no pair reached the judge: the scenario no longer tests it"
    assert len(judged) == math.ceil(len(claims_judged) / settings.judge_batch_claims)

    assert report.usage.llm_calls == 1 + len(judged)
    tokens = [recorded_usage(replay.extractions, check_extraction)]
    tokens += [recorded_usage(replay.judgings, key) for key in judged]
    assert (report.usage.prompt_tokens, report.usage.completion_tokens) == tuple(
        map(sum, zip(*tokens, strict=True))
    )
    assert report.article_id is None  # store=false
    assert report.model == "gpt-4o-mini"
    assert report.prompt_version == LLMExtractor(settings).prompt_version
    assert report.judge_prompt_version == judge.prompt_version
    assert report.judge_prompt_version.startswith("judge_pairs@")


async def test_repeated_check_makes_no_llm_call(store: SqlStore) -> None:
    """The same text, model and prompts again: extraction and every judged pair come from the
    store, so the repeat costs nothing and says the same."""
    pipeline = llm_pipeline(store, llm_settings())
    with respx.mock() as router:
        router.post(path__regex=r"/chat/completions$").mock(side_effect=Replay())
        first = await run_scenario(pipeline)
    assert first.usage.llm_calls > 1  # extraction and at least one judge call
    with respx.mock(assert_all_called=False) as router:
        route = router.post(path__regex=r"/chat/completions$").mock(
            return_value=httpx.Response(500)
        )
        again = await run_scenario(pipeline)
    assert route.call_count == 0
    assert again.usage.llm_calls == again.usage.prompt_tokens == 0

    def verdicts(report):
        return [
            (c.quote, c.verdict, sorted((e.claim_id, e.relation) for e in c.citations))
            for c in report.claims
        ]

    assert verdicts(again) == verdicts(first)
    assert any(e.method == "llm" for c in again.claims for e in c.citations)
