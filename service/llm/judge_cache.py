"""A judge in front of a judge: pairs judged before are answered from the store, for free.

A pair's key is a hash of both sides' text and of the judge's model and prompt version, so a
new model or an edited prompt file asks again. Only the pairs not seen before go to the inner
judge, in the batch the caller made, so a repeated check makes no LLM call at all.

A pair the judge left out of its answer is remembered as "unrelated": that is what the caller
concludes from the omission (service.pipeline.evidence), so asking again would cost a call to
learn nothing new.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from service.llm.base import Judge, Judgement, JudgePair, Judging
from service.store.base import CachedJudgement, Store

NOT_JUDGED = "the judge gave no judgement for this pair"


def pair_key(pair: JudgePair, model: str | None, prompt_version: str | None) -> str:
    fields = [
        model,
        prompt_version,
        pair.claim,
        pair.claim_quote,
        pair.evidence,
        pair.evidence_quote,
        pair.evidence_source,
    ]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


@dataclass
class CachingJudge:
    inner: Judge
    store: Store

    @property
    def model(self) -> str | None:
        return self.inner.model

    @property
    def prompt_version(self) -> str | None:
        return self.inner.prompt_version

    async def judge(self, pairs: list[JudgePair]) -> Judging:
        keys = {p.pair_id: pair_key(p, self.model, self.prompt_version) for p in pairs}
        known = await self.store.cached_judgements(set(keys.values()))
        answers = [
            Judgement(pair_id=p.pair_id, relation=cached.relation, explanation=cached.explanation)
            for p in pairs
            if (cached := known.get(keys[p.pair_id])) is not None
        ]
        unknown = [p for p in pairs if keys[p.pair_id] not in known]
        if not unknown:
            return Judging(judgements=answers)
        judging = await self.inner.judge(unknown)
        said = {j.pair_id: j for j in judging.judgements}
        fresh: dict[str, CachedJudgement] = {}
        for pair in unknown:
            judgement = said.get(pair.pair_id)
            relation, explanation = (
                (judgement.relation, judgement.explanation)
                if judgement
                else ("unrelated", NOT_JUDGED)
            )
            fresh[keys[pair.pair_id]] = CachedJudgement(
                relation, explanation, self.model, self.prompt_version
            )
        await self.store.cache_judgements(fresh)
        return Judging(judgements=answers + judging.judgements, usage=judging.usage)
