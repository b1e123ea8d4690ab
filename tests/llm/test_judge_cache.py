"""The judge cache: a pair judged once is never sent again, unless the model or prompt change."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.llm.base import Judgement, JudgePair, Judging
from service.llm.judge_cache import NOT_JUDGED, CachingJudge
from service.models import Usage
from service.store.sql import SqlStore


@dataclass
class CountingJudge:
    """Says "supports" for every pair except those whose evidence mentions "skip"."""

    model: str | None = "model-a"
    prompt_version: str | None = "judge_pairs@1"
    sent: list[list[str]] = field(default_factory=list)

    async def judge(self, pairs: list[JudgePair]) -> Judging:
        self.sent.append([p.pair_id for p in pairs])
        said = [
            Judgement(pair_id=p.pair_id, relation="supports", explanation=f"agrees: {p.evidence}")
            for p in pairs
            if "skip" not in p.evidence
        ]
        return Judging(judgements=said, usage=Usage(llm_calls=1, prompt_tokens=10))


def pair(pair_id: str, evidence: str, claim: str = "12 were killed.") -> JudgePair:
    return JudgePair(pair_id, claim, claim, evidence, evidence, "outlet")


async def test_pairs_judged_before_are_not_sent_again(store: SqlStore) -> None:
    inner = CountingJudge()
    first = await CachingJudge(inner, store).judge([pair("c0-e1", "A"), pair("c0-e2", "B")])
    assert inner.sent == [["c0-e1", "c0-e2"]] and first.usage.llm_calls == 1

    # Same texts under other ids, plus one new pair: only the new pair is sent.
    again = await CachingJudge(inner, store).judge(
        [pair("c3-e1", "A"), pair("c3-e9", "C"), pair("c3-e2", "B")]
    )
    assert inner.sent[-1] == ["c3-e9"]
    by_id = {j.pair_id: j for j in again.judgements}
    assert set(by_id) == {"c3-e1", "c3-e9", "c3-e2"}
    assert by_id["c3-e1"].relation == "supports" and by_id["c3-e1"].explanation == "agrees: A"

    # All known: no call and no usage.
    repeat = await CachingJudge(inner, store).judge([pair("x", "A"), pair("y", "C")])
    assert len(inner.sent) == 2 and repeat.usage.llm_calls == 0
    assert {j.pair_id for j in repeat.judgements} == {"x", "y"}


async def test_a_pair_left_out_is_remembered_as_unrelated(store: SqlStore) -> None:
    inner = CountingJudge()
    await CachingJudge(inner, store).judge([pair("p", "skip me")])
    repeat = await CachingJudge(inner, store).judge([pair("q", "skip me")])
    assert len(inner.sent) == 1
    (judgement,) = repeat.judgements
    assert (judgement.relation, judgement.explanation) == ("unrelated", NOT_JUDGED)


async def test_another_model_prompt_or_text_asks_again(store: SqlStore) -> None:
    await CachingJudge(CountingJudge(), store).judge([pair("p", "A")])
    for inner, request in [
        (CountingJudge(model="model-b"), pair("p", "A")),
        (CountingJudge(prompt_version="judge_pairs@2"), pair("p", "A")),
        (CountingJudge(), pair("p", "A", claim="13 were killed.")),
        (CountingJudge(), JudgePair("p", "12 were killed.", "12 were killed.", "A", "A", "other")),
    ]:
        await CachingJudge(inner, store).judge([request])
        assert inner.sent == [["p"]], (inner, request)


async def test_concurrent_writes_of_overlapping_pairs_do_not_deadlock(store: SqlStore) -> None:
    """A check's judge batches run at once and may share pairs; PostgreSQL deadlocked when two
    transactions inserted the same keys in opposite orders (found by the benchmark)."""
    import asyncio

    from service.store.base import CachedJudgement

    for round_ in range(5):
        keys = [f"{round_}-{n:03d}" for n in range(200)]
        answer = CachedJudgement("unrelated", "-", "m", "p")
        forward = {key: answer for key in keys}
        backward = {key: answer for key in reversed(keys)}
        await asyncio.gather(store.cache_judgements(forward), store.cache_judgements(backward))
        assert len(await store.cached_judgements(keys)) == 200
