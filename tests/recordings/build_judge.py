"""Build the judge recordings of the seed scenario: `.venv/bin/python -m tests.recordings.build_judge`.

The scenario (`run_scenario`): seeds 000, 001, 003 and 004 are ingested with the recorded LLM
extraction, then seed 002 is checked (store=false) with the LLM extractor and the LLMJudge.
Which pairs reach the judge is the pipeline's business (the rules settle what they can), so
the requests are not written here: the real pipeline sends them through respx, once on SQLite
and once on PostgreSQL (their full-text ranks differ, and so may the candidates judged), and
JUDGEMENTS answers them as a careful model would. Each distinct request is saved under
tests/recordings/judge_pairs/ with the label of the checked seed; the old files are replaced.

Rerun after any change to the judge prompt or schema, the extraction recordings, retrieval or
comparison. PostgreSQL is FACTCHECK_TEST_POSTGRES_URL (default the local server, as in
tests/conftest.py); `--sqlite-only` skips it, leaving the PostgreSQL leg of the end-to-end test
without recordings. Pairs no row matches are answered "unrelated" and listed: read them.
"""

# ruff: noqa: E501  (statements are data; wrapping them hurts review)
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import datetime
from typing import Any

import httpx
import respx

from service.errors import StoreUnavailable
from service.llm.judge import JudgementList, LLMJudge
from service.llm.llm_extractor import LLMExtractor
from service.models import ArticleIn, CheckIn, CheckReport
from service.pipeline.run import Pipeline
from service.settings import Settings
from service.store.scratch import scratch_store
from service.store.sql import SqlStore
from tests.recording import (
    RECORDINGS,
    SEED_PUBLISHED,
    Replayer,
    chat_completion,
    llm_settings,
    request_key,
    save_recording,
    seed_text,
)

GROUP = "judge_pairs"
EVIDENCE_STEMS = (
    "000_645ecb53b1ed8b97",
    "001_ffa75115645ef01b",
    "003_16ac1f2c99ced3be",
    "004_7ec25a11b7a99eb0",
)
CHECKED_STEM = "002_53ffd6e50b0f3c6f"
PG_URL = os.environ.get(
    "FACTCHECK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)

# (fragment of the checked claim's statement, fragment(s) of the evidence statement, relation,
# explanation). Statements, not quotes, identify claims: two claims of one sentence share their
# quote. The first row whose fragments all occur wins; rows for pairs the pipeline does not send
# today stay, so retrieval can be tuned without rewriting the table.
Row = tuple[str, str | tuple[str, ...], str, str]
PUTIN_ORDER = "on Tuesday ordered"
SEIZED = "seize 28 towns"
FLED = "120,000 civilians to flee"
CRISIS = "at the start of a crisis meeting"
TOLL = "at least 12 civilians were killed"
TOLL_TO_PUTIN = "12 civilians had died"
ATTACK = "surprise attack"
DEPTH = "penetrated 30 kilometers"
STRIKES = "2,000 cross-border strikes"
BELGOROD = "authorities are evacuating parts of the Belgorod region"
# One row a line: the table is reviewed as a table.
# fmt: off
JUDGEMENTS: list[Row] = [
    # 002: Putin ordered the expulsion "on Tuesday"; the others put his meeting on Monday.
    (PUTIN_ORDER, "vowed to expel", "supports", "Both report Putin ordering the Ukrainian forces expelled from Russian territory; the evidence gives no day."),
    (PUTIN_ORDER, "main task of Russia's defense ministry is to expel", "supports", "Same order: the defense ministry is to expel the Ukrainian forces from Russian territory; the evidence gives no day."),
    (PUTIN_ORDER, "drive Ukrainian forces out of Russian territory", "supports", "Same order to drive the Ukrainian forces out of Russian territory; the evidence gives no day."),
    (PUTIN_ORDER, ("held a meeting", "on Monday"), "conflicts", "Same crisis meeting where Putin gave the order: Tuesday here, Monday in the evidence."),
    (PUTIN_ORDER, ("meeting with regional governors", "on Monday"), "conflicts", "Same crisis meeting where Putin gave the order: Tuesday here, Monday in the evidence."),
    (PUTIN_ORDER, "28 settlements", "unrelated", "Putin's order to expel the troops vs the number of settlements Smirnov reported lost."),
    (PUTIN_ORDER, "28 villages", "unrelated", "Putin's order to expel the troops vs the number of villages Smirnov reported lost."),
    (PUTIN_ORDER, "2,000 Russian citizens remain", "unrelated", "Putin's order to expel the troops vs residents remaining in occupied areas."),
    (PUTIN_ORDER, "largest Ukraine has carried out", "unrelated", "Putin's order vs the scale of the offensive compared with earlier ones."),
    (PUTIN_ORDER, "entered Russia's Kursk region last Tuesday", "unrelated", "Putin's order to expel the troops vs the day the incursion began."),
    # Towns seized and civilians who fled: the evidence sent is about other figures.
    (SEIZED, "largest Ukraine has carried out", "unrelated", "Number of towns seized vs the offensive being the largest since 2022."),
    (SEIZED, "12 civilians have been killed", "unrelated", "Towns seized vs civilian casualties."),
    (SEIZED, "advanced 12 kilometers", "unrelated", "Towns seized vs depth of the advance."),
    (SEIZED, "2,000 Russian citizens remain", "unrelated", "Towns seized vs residents remaining in occupied areas."),
    (SEIZED, "1,000 square kilometers", "unrelated", "Number of towns seized vs area under Ukrainian control."),
    (SEIZED, "1,000 sq km", "unrelated", "Number of towns seized vs area under Ukrainian control."),
    (FLED, "largest Ukraine has carried out", "unrelated", "Civilians who fled vs the offensive being the largest since 2022."),
    (FLED, "12 civilians have been killed", "unrelated", "Civilians who fled vs civilians killed and wounded."),
    (FLED, "28 settlements", "unrelated", "Civilians who fled vs settlements under Ukrainian control."),
    (FLED, "28 villages", "unrelated", "Civilians who fled vs villages under Ukrainian control."),
    (FLED, "2,000 Russian citizens remain", "unrelated", "Civilians who fled vs citizens who remain; different measures."),
    # Putin's words at the meeting: three outlets translate the same sentence.
    (CRISIS, "main task of Russia's defense ministry is to expel", "supports", "Same Putin statement: the defense ministry's main task is to expel the enemy and secure the border."),
    (CRISIS, "drive Ukrainian forces out of Russian territory", "supports", "Same Putin quote in another translation: 'squeeze out, knock out the enemy' and protect the border."),
    (CRISIS, "vowed to expel", "supports", "Same pledge by Putin to drive the Ukrainian forces out of Russian territory."),
    (CRISIS, "held a meeting on Monday", "unrelated", "The evidence dates the meeting and lists who attended; it does not report what Putin said."),
    (CRISIS, "meeting with regional governors", "unrelated", "The evidence dates the meeting; it does not report Putin's instruction to the defense ministry."),
    # The toll announced by the acting governor: the evidence sent is about other figures.
    (TOLL, "taken control of 28 settlements", "unrelated", "Civilian casualties vs settlements under Ukrainian control."),
    (TOLL, "advanced 12 kilometers", "unrelated", "12 civilians killed vs a 12 km advance: same number, different measure."),
    (TOLL, "121,000 people have been evacuated", "unrelated", "121 injured vs 121,000 evacuated: same digits, different measure."),
    (TOLL, "28 settlements", "unrelated", "Civilian casualties vs settlements under Ukrainian control."),
    (TOLL, "28 villages", "unrelated", "Civilian casualties vs villages under Ukrainian control."),
    (TOLL_TO_PUTIN, "2,000 Russian citizens remain", "unrelated", "Civilian casualties vs residents remaining in occupied areas."),
    (TOLL_TO_PUTIN, "28 settlements", "unrelated", "Civilian casualties vs settlements under Ukrainian control."),
    (TOLL_TO_PUTIN, "28 villages", "unrelated", "Civilian casualties vs villages under Ukrainian control."),
    (TOLL_TO_PUTIN, "121,000 people have been evacuated", "unrelated", "121 wounded vs 121,000 evacuated: same digits, different measure."),
    # The start of the incursion.
    (ATTACK, "entered Russia's Kursk region last Tuesday", "supports", "Same start of the incursion into Russia, last Tuesday."),
    # The 30 km advance: the evidence sent does not measure the advance.
    (DEPTH, "vowed to expel", "unrelated", "Depth of the advance vs Putin's pledge to expel the troops."),
    (DEPTH, "main task of Russia's defense ministry", "unrelated", "Depth of the advance vs Putin's instruction to the defense ministry."),
    (DEPTH, "about 4 kilometers from the border", "unrelated", "Depth of the advance vs the distance of one settlement from the border."),
    (DEPTH, "2,000 Russian citizens remain", "unrelated", "Depth of the advance vs residents remaining in occupied areas."),
    (DEPTH, "1,000 square kilometers", "unrelated", "Depth of the advance vs area under Ukrainian control."),
    (DEPTH, "1,000 sq km", "unrelated", "Depth of the advance vs area under Ukrainian control."),
    # Strikes from Kursk into Sumy over the summer: nothing else measures them.
    (STRIKES, "2,000 Russian citizens remain", "unrelated", "Strikes launched vs citizens remaining: same number, different measure."),
    (STRIKES, "humanitarian plan", "unrelated", "Russian strikes over the summer vs Zelensky's humanitarian plan for Kursk."),
    (STRIKES, "largest Ukraine has carried out", "unrelated", "Russian strikes into Sumy vs the scale of Ukraine's offensive."),
    (STRIKES, "10,000 people had fled", "unrelated", "Strikes into Sumy vs people fleeing the Belgorod region."),
    (STRIKES, "1,000 sq km", "unrelated", "Strikes into Sumy vs area under Ukrainian control."),
    (STRIKES, "entered Russia's Kursk region last Tuesday", "unrelated", "Russian strikes over the summer vs the start of Ukraine's incursion."),
    # Belgorod: the governor's evacuation, told by three outlets.
    (BELGOROD, "announced the relocation of residents", "supports", "Same announcement by Gladkov: residents of Belgorod border areas moved to safety."),
    (BELGOROD, "being moved to safer places", "supports", "Same announcement by Gladkov: residents of Belgorod border areas moved to safer places."),
    (BELGOROD, "11,000 people in the Belgorod region were told to leave", "supports", "Same evacuation in the Belgorod region; the evidence adds that about 11,000 were told to leave."),
    (BELGOROD, "10,000 people had fled", "unrelated", "An evacuation by the authorities vs people who fled on their own; no figure to compare."),
]
# fmt: on
DEFAULT = ("unrelated", "The evidence reports a different fact.")


def judgement(pair: dict[str, str]) -> tuple[dict[str, str], bool]:
    """(judgement, matched) for one rendered pair."""
    for claim, evidence, relation, explanation in JUDGEMENTS:
        fragments = (evidence,) if isinstance(evidence, str) else evidence
        if claim in pair["claim"] and all(f in pair["evidence"] for f in fragments):
            return _answer(pair, relation, explanation), True
    return _answer(pair, *DEFAULT), False


def _answer(pair: dict[str, str], relation: str, explanation: str) -> dict[str, str]:
    return {"pair_id": pair["pair_id"], "relation": relation, "explanation": explanation}


def sent_pairs(body: dict[str, Any]) -> list[dict[str, str]]:
    """The pairs of a judge request, read back from its <pairs> block, in order:
    {"pair_id", "claim", "evidence"} with the two statements."""
    user = body["messages"][-1]["content"]
    block = user.split("<pairs>\n", 1)[1].rsplit("\n</pairs>", 1)[0]
    return [
        {"pair_id": item["pair_id"], "claim": line["claim"], "evidence": item["statement"]}
        for line in map(json.loads, block.splitlines())
        for item in line["evidence"]
    ]


async def run_scenario(pipeline: Pipeline) -> CheckReport:
    """Ingest the evidence seeds, then check seed 002 without storing it."""
    published = datetime.combine(SEED_PUBLISHED, datetime.min.time())
    for stem in EVIDENCE_STEMS:
        await pipeline.ingest(ArticleIn(text=seed_text(stem), published_at=published))
    request = CheckIn(text=seed_text(CHECKED_STEM), published_at=published, store=False)
    return await pipeline.check(request)


def _estimate(text: str, chars_per_token: float) -> int:
    return round(len(text) / chars_per_token)


class Judged:
    """Answers the scenario's requests: extraction from its recordings, judging from the table."""

    def __init__(self) -> None:
        self.extractions = Replayer("extract_claims", label=CHECKED_STEM)
        self.saved: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {}
        self.defaulted: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["tools"][0]["function"]["name"] != JudgementList.__name__:
            return self.extractions(request)
        judgements = []
        for pair in sent_pairs(body):
            answer, matched = judgement(pair)
            judgements.append(answer)
            if not matched:
                self.defaulted.append(pair)
        arguments = json.dumps(
            {"judgements": judgements}, ensure_ascii=False, separators=(",", ":")
        )
        words = "".join(str(m["content"]) for m in body["messages"])
        completion = chat_completion(
            arguments=arguments,
            tool_name=JudgementList.__name__,
            # cl100k/o200k averages: ~4 characters a token for prose, ~3 for JSON schema.
            prompt_tokens=_estimate(words, 4) + _estimate(json.dumps(body["tools"]), 3) + 11,
            completion_tokens=_estimate(arguments, 3.4),
            seed=f"{GROUP}/{CHECKED_STEM}",
        )
        self.saved[request_key(body)] = (request.url.path, body, completion)
        return httpx.Response(200, json=completion)


def llm_pipeline(store: SqlStore, settings: Settings) -> Pipeline:
    """The pipeline the scenario's recordings were made with: LLM extractor and judge."""
    return Pipeline(
        store=store, extractor=LLMExtractor(settings), judge=LLMJudge(settings), settings=settings
    )


async def build(backends: list[str]) -> None:
    settings: Settings = llm_settings(llm_base_url="https://llm.test/v1", llm_mode="tools")
    answers = Judged()
    for backend in backends:
        before = len(answers.saved)
        async with scratch_store(backend, PG_URL, prefix="build") as store:
            pipeline = llm_pipeline(store, settings)
            with respx.mock() as router:
                router.post(path__regex=r"/chat/completions$").mock(side_effect=answers)
                report = await run_scenario(pipeline)
        print(
            f"{backend}: {report.usage.llm_calls} LLM calls, {len(answers.saved) - before} new judge requests"
        )

    directory = RECORDINGS / GROUP
    for old in directory.glob(f"{CHECKED_STEM}.*.json"):
        old.unlink()
    for path, body, completion in answers.saved.values():
        saved = save_recording(directory, CHECKED_STEM, path, body, completion)
        print(
            f"wrote {saved.relative_to(RECORDINGS.parent.parent)} ({len(sent_pairs(body))} pairs)"
        )
    unmatched = {(p["claim"], p["evidence"]) for p in answers.defaulted}
    for claim, evidence in sorted(unmatched):
        print(f"no row, answered unrelated: {claim!r} vs {evidence!r}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args()
    try:
        asyncio.run(build(["sqlite"] if args.sqlite_only else ["sqlite", "postgresql"]))
    except StoreUnavailable as exc:
        raise SystemExit(f"{exc.detail}; start it or pass --sqlite-only") from exc


if __name__ == "__main__":
    main()
