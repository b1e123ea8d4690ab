"""Between the two LLM rounds a process lets only BETWEEN_ROUNDS checks retrieve and run the
rules at once, so under a burst the first judge calls leave early instead of all at the end."""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

import pytest

from service.llm.factory import build_backends
from service.models import CheckIn
from service.pipeline import run
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
    monkeypatch.setattr(run, "_admissions", WeakKeyDictionary())


@pytest.mark.usefixtures("fresh_admissions")
async def test_a_burst_retrieves_a_few_checks_at_a_time(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    most, order = await burst(store, 8, monkeypatch)
    assert most == run.BETWEEN_ROUNDS
    assert len(order) == 8


@pytest.mark.usefixtures("fresh_admissions")
async def test_without_the_admission_all_would_search_at_once(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the bound above prevents: most of the burst's checks in the middle stage together
    # (not always all 8: the first may be done before the last has extracted).
    monkeypatch.setattr(run, "BETWEEN_ROUNDS", 100)
    most, _ = await burst(store, 8, monkeypatch)
    assert most >= 4
