"""service.pipeline.rounds: the work after a check's judge answer waits while other checks are
queued for the work before their judge calls, and never longer than its patience."""

from __future__ import annotations

import asyncio

from service.pipeline.rounds import Rounds


async def test_nothing_queued_means_no_wait() -> None:
    order = Rounds(1)
    async with order.between():  # held, but nobody waits for it
        await asyncio.wait_for(order.after(patience=10), timeout=0.5)


async def test_reports_wait_until_the_queue_has_drained() -> None:
    order, log = Rounds(1), []
    release = asyncio.Event()

    async def between_rounds(name: str) -> None:
        async with order.between():
            log.append(f"{name} in")
            await release.wait()
        log.append(f"{name} out")

    first = asyncio.create_task(between_rounds("a"))
    second = asyncio.create_task(between_rounds("b"))
    await asyncio.sleep(0.01)
    assert order.queued == 1  # b waits for a's slot

    async def report() -> None:
        await order.after(patience=10)
        log.append("report")

    reporting = asyncio.create_task(report())
    await asyncio.sleep(0.05)
    assert "report" not in log  # b is still queued
    release.set()
    await asyncio.gather(first, second, reporting)
    # The report ran once b had its slot, not before.
    assert log.index("report") > log.index("b in")


async def test_a_queue_that_never_drains_delays_a_report_only_by_its_patience() -> None:
    order = Rounds(1)
    hold = asyncio.Event()
    tasks = [asyncio.create_task(holding(order, hold)) for _ in range(2)]
    await asyncio.sleep(0.01)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(order.after(patience=0.1), timeout=2)
    assert 0.09 <= loop.time() - started < 1.0
    hold.set()
    await asyncio.gather(*tasks)
    assert order.queued == 0


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    order = Rounds(1)
    hold = asyncio.Event()
    held = asyncio.create_task(holding(order, hold))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(holding(order, hold))
    await asyncio.sleep(0.01)
    assert order.queued == 1
    waiting.cancel()
    await asyncio.sleep(0)
    assert order.queued == 0
    await asyncio.wait_for(order.after(patience=10), timeout=0.5)
    hold.set()
    await held


async def holding(order: Rounds, until: asyncio.Event) -> None:
    """A check between the rounds (or queued for it) until `until` is set."""
    async with order.between():
        await until.wait()
