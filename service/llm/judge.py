"""The LLM judge: many claim–evidence pairs in, one judgement per pair out, in ONE request.

The request goes through service.llm.calls like the extractor's (tenacity for transport,
instructor re-asks for output). The answer is validated against the pair ids that were sent,
passed as instructor's validation context: an unknown or repeated `pair_id` is a validation
error, so the model is re-asked, not trusted. A pair left out is allowed: the caller treats it
as unrelated, which is also what the rules conclude when they cannot compare.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pydantic import Field, ValidationInfo, field_validator

from service.llm.base import Judgement, JudgePair, Judging
from service.llm.calls import LLMBackend, ResponseModel, ask_structured

PROMPT_NAME = "judge_pairs"
# The pair ids of the request being answered, for the validator. Not instructor's `context`:
# given one, instructor renders every message as a Jinja template, so a claim quoting
# "{{ ... }}" or "{%" would be rewritten in the prompt, or fail the call.
_GIVEN: ContextVar[frozenset[str] | None] = ContextVar("judge_pair_ids", default=None)


class JudgementList(ResponseModel):
    """One judgement for each claim–evidence pair given, using its pair_id."""

    judgements: list[Judgement] = Field(description="At most one judgement per pair_id.")

    @field_validator("judgements")
    @classmethod
    def _one_per_given_pair(cls, value: list[Judgement], info: ValidationInfo) -> list[Judgement]:
        given = (info.context or {}).get("pair_ids", _GIVEN.get())
        if given is None:  # validated outside a judge call
            return value
        counts = Counter(j.pair_id for j in value)
        unknown = sorted(pair_id for pair_id in counts if pair_id not in given)
        repeated = sorted(pair_id for pair_id, n in counts.items() if n > 1 and pair_id in given)
        problems = []
        if unknown:
            problems.append(f"unknown pair_id {', '.join(unknown)} (use only the ids given)")
        if repeated:
            problems.append(f"more than one judgement for {', '.join(repeated)}")
        if problems:
            raise ValueError("; ".join(problems))
        return value


class LLMJudge(LLMBackend):
    PROMPT_NAME = PROMPT_NAME

    async def judge(self, pairs: list[JudgePair]) -> Judging:
        if not pairs:
            return Judging(judgements=[])
        with expecting(p.pair_id for p in pairs):
            result, usage = await ask_structured(
                self.client,
                self.settings,
                response_model=JudgementList,
                messages=self.prompt.render(pairs=render_pairs(pairs)),
                schema="judgement schema",
                cut_off_hint="lower FACTCHECK_JUDGE_BATCH_CLAIMS",
                sleep=self._sleep,
            )
        return Judging(judgements=result.judgements, usage=usage)


@contextmanager
def expecting(pair_ids: Iterable[str]) -> Iterator[None]:
    """Within: JudgementList accepts judgements only for these pair ids (once each)."""
    token = _GIVEN.set(frozenset(pair_ids))
    try:
        yield
    finally:
        _GIVEN.reset(token)


def render_pairs(pairs: list[JudgePair]) -> str:
    """One JSON line per claim, with the evidence to judge it against, each under its pair_id.

    A claim is written once however many pairs it is in (the caller sends up to four per
    claim). JSON escapes quotes and newlines, so no claim or evidence text can start an item
    of its own, and escaping `</` keeps `</pairs>` out of the data.
    """
    claims: dict[tuple[str, str], list[dict[str, str]]] = {}
    for pair in pairs:
        evidence = {"pair_id": pair.pair_id}
        if pair.evidence_source:
            evidence["source"] = pair.evidence_source
        evidence |= {"statement": pair.evidence, "quote": pair.evidence_quote}
        claims.setdefault((pair.claim, pair.claim_quote), []).append(evidence)
    lines = (
        {"claim": claim, "claim_quote": quote, "evidence": evidence}
        for (claim, quote), evidence in claims.items()
    )
    return "\n".join(json.dumps(line, ensure_ascii=False).replace("</", "<\\/") for line in lines)


__all__ = ["JudgementList", "LLMJudge", "expecting", "render_pairs"]
