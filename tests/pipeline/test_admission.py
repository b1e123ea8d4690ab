"""Between the two LLM rounds a process lets only BETWEEN_ROUNDS checks retrieve and run the
rules at once, so under a burst the first judge calls leave early instead of all at the end."""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

import pytest

from service.llm.factory import build_backends
from service.models import CheckIn
from service.pipeline import rounds, run
from service.pipeline.run import Pipeline
from service.store.sql import SqlStore
from tests.conftest import SEEDS, make_settings


async def burst(
    store: SqlStore, checks: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, list[str]]:
    """(most checks retrieving at once, the order the checks finished in)."""
    settings = make_settings()
    extractor, judge = build_backends(settings)  # offline: no LLM here
    pipeline = Pipeline(store=store, extractor=extractor, judge=judge, settings=settings)
    retrieve, running, most, order = run.retrieve, 0, 0, []

    async def watched(claims, store, exclude):
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            await asyncio.sleep(0.05)  # database round trips, where other checks could run
            return await retrieve(claims, store, exclude)
        finally:
            running -= 1

    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]

    async def check(n: int) -> None:
        report = await pipeline.check(CheckIn(text=texts[n % len(texts)], store=False))
        order.append(report.claims[0].statement if report.claims else "")

    # Each text once first: the burst's extractions then come from the cache, so its checks
    # reach retrieve together however slow the machine (as a burst's LLM answers do).
    for n in range(len(texts)):
        await check(n)
    order.clear()
    monkeypatch.setattr(run, "retrieve", watched)
    await asyncio.gather(*(check(n) for n in range(checks)))
    return most, order


@pytest.fixture
def fresh_admissions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rounds, "_rounds", WeakKeyDictionary())


@pytest.mark.usefixtures("fresh_admissions")
async def test_a_burst_retrieves_a_few_checks_at_a_time(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    most, order = await burst(store, 8, monkeypatch)
    assert most == rounds.BETWEEN_ROUNDS
    assert len(order) == 8


@pytest.mark.usefixtures("fresh_admissions")
async def test_without_the_admission_all_would_search_at_once(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the bound above prevents: most of the burst's checks in the middle stage together
    # (not always all 8: the first may be done before the last has extracted).
    monkeypatch.setattr(rounds, "BETWEEN_ROUNDS", 100)
    most, _ = await burst(store, 8, monkeypatch)
    assert most >= 4


async def test_the_same_text_stored_while_checking_is_not_its_own_evidence(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race the pipeline settles after the judge round: another request ingests this very
    # text while the check searches, so the search finds the text's own claims.
    settings = make_settings()
    extractor, judge = build_backends(settings)
    pipeline = Pipeline(store=store, extractor=extractor, judge=judge, settings=settings)
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))[:2]]
    retrieve, stored = run.retrieve, []

    async def ingested_meanwhile(claims, store, exclude):
        article, _ = await pipeline.ingest(CheckIn(text=texts[len(stored)]))
        stored.append(article.id)
        return await retrieve(claims, store, exclude)

    monkeypatch.setattr(run, "retrieve", ingested_meanwhile)
    report = await pipeline.check(CheckIn(text=texts[0]))
    assert report.article_id == stored[0]  # the check's article is the one stored meanwhile
    assert report.claims and not any(c.citations for c in report.claims)

    # Without that step the search's finds would cite the article itself.
    monkeypatch.setattr(store, "article_id", _never_stored)
    report = await pipeline.check(CheckIn(text=texts[1]))
    assert any(c.article_id == stored[1] for claim in report.claims for c in claim.citations)


async def _never_stored(content_hash: str) -> None:
    return None
