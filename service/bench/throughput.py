"""Section c: checks at once against one check's time, with every LLM call taking 1 s.

One check's time is the median of a few checks run alone. A batch is N distinct articles posted
at once; its wall time runs from the first POST to the last answer. The service's CPU seconds
(its process and workers, from /proc) and the most LLM requests in flight at the fake server
tell a CPU-bound service from one that waits on something else.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from service.bench.articles import ArticleFactory
from service.bench.driver import Driver
from service.bench.machine import cpu_probe, usable_cores
from service.bench.procs import (
    cpu_seconds,
    named_cpu_seconds,
    stolen_seconds,
    system_busy_seconds,
    tree,
)
from service.bench.tables import Table, num, percentile, secs, verdict

LLM_LATENCY = 1.0
TARGET_RATIO = 1.3
STOLEN_WARNING = 0.05  # share of the cores' time during a batch that the hypervisor took


@dataclass
class Batch:
    database: str
    workers: int
    concurrency: int
    wall: float
    latencies: list[float]
    llm_calls: int
    max_in_flight: int
    service_cpu: float
    fake_cpu: float
    bench_cpu: float  # this process: the HTTP client
    busiest_share: float  # the busiest service process's share of the service CPU
    database_cpu: float  # the PostgreSQL server's processes (SQLite runs inside the service)
    other_cpu: float  # CPU the rest of the machine used meanwhile (other programs)
    # (first, last) seconds after the first POST at which extraction calls and judge calls
    # reached the fake LLM, and at which checks were answered: where a burst waits.
    phases: dict[str, tuple[float, float]] = field(default_factory=dict)
    # CPU seconds of the fixed loop of service.bench.machine.cpu_probe just before the batch
    # (median of 3): how fast the machine was for this batch.
    probe: float = 0.0
    # The earliest the batch could have ended with the CPU work it took: the first extraction
    # answer (first extraction call + LLM latency), plus all the machine's CPU work after it
    # spread over every core. Work after that answer depends on it, so no schedule moves it
    # earlier; seconds after the first POST, or None without a timeline.
    floor: float | None = None
    # (first extraction answer, last judge call out, machine CPU seconds between them): the
    # work the judge round waited on. Each check ends a round after its judge call, so that
    # work, over the cores, decides the batch's time; None without a timeline.
    between_rounds: tuple[float, float, float] | None = None
    # CPU seconds the hypervisor gave this machine's cores to other machines during the batch
    # (procs.stolen_seconds): not in any CPU figure above, and not in the floor.
    stolen_cpu: float = 0.0


@dataclass
class ThroughputResults:
    database: str
    workers: int
    words: int
    one_check: float
    one_check_cpu: float
    one_check_calls: float
    batches: list[Batch]


async def measure_throughput(
    driver: Driver,
    service_pid: int,
    factory: ArticleFactory,
    *,
    database: str,
    workers: int,
    words: int,
    levels: tuple[int, ...],
    solo_runs: int,
    progress: Callable[[str], None],
) -> ThroughputResults:
    await driver.configure_llm(latency=LLM_LATENCY)
    await driver.check(factory.make(words), store=False)  # warm-up (with N workers: one)
    solo = [
        await _batch(driver, service_pid, factory, database, workers, 1, words)
        for _ in range(solo_runs)
    ]
    batches = []
    for n in levels:
        progress(f"throughput ({database}, {workers} worker(s)): {n} at once")
        batches.append(await _batch(driver, service_pid, factory, database, workers, n, words))
    await driver.configure_llm(latency=0.0)
    return ThroughputResults(
        database,
        workers,
        words,
        one_check=statistics.median(b.wall for b in solo),
        one_check_cpu=statistics.median(b.service_cpu for b in solo),
        one_check_calls=statistics.median(b.llm_calls for b in solo),
        batches=batches,
    )


async def _batch(driver, service_pid, factory, database, workers, n, words) -> Batch:
    articles = [factory.make(words) for _ in range(n)]
    probe = statistics.median(cpu_probe(runs=3))  # before any CPU reading: not counted in them
    await driver.reset_llm()
    before = await driver.llm_stats()
    pids = tree(service_pid)
    cpu, own = {pid: cpu_seconds([pid]) for pid in pids}, time.process_time()
    machine, server = system_busy_seconds(), named_cpu_seconds("postgres")
    stolen = stolen_seconds()

    answered: list[float] = []

    async def timed(article) -> float:
        started = time.perf_counter()
        await driver.check(article, store=False)
        answered.append(time.monotonic() - begun)
        return time.perf_counter() - started

    busy: list[tuple[float, float]] = []  # (seconds after the first POST, machine CPU seconds)
    started, begun = time.perf_counter(), time.monotonic()
    sampler = asyncio.create_task(_sample_busy(busy, begun))
    try:
        latencies = await asyncio.gather(*(timed(a) for a in articles))
    finally:
        sampler.cancel()
    wall = time.perf_counter() - started
    busy.append((time.monotonic() - begun, system_busy_seconds()))
    after = await driver.llm_stats()
    phases = _spans(
        {
            "extraction calls": [
                t - begun for kind, t, _ in after["timeline"] if kind == "extraction"
            ],
            "judge calls": [t - begun for kind, t, _ in after["timeline"] if kind == "judge"],
            "answers": answered,
        }
    )
    # Per process: with several workers, how evenly the checks spread over them.
    spent = {pid: cpu_seconds([pid]) - cpu.get(pid, 0.0) for pid in tree(service_pid)}
    fake_cpu = after["cpu_seconds"] - before["cpu_seconds"]
    bench_cpu = time.process_time() - own
    # Per pid: a backend that ends meanwhile (another client's) must not count as negative.
    database_cpu = (
        sum(t - server.get(pid, 0.0) for pid, t in named_cpu_seconds("postgres").items())
        if database == "PostgreSQL"
        else 0.0
    )
    others = system_busy_seconds() - machine - sum(spent.values()) - fake_cpu - bench_cpu
    others -= database_cpu
    return Batch(
        database=database,
        workers=workers,
        concurrency=n,
        wall=wall,
        latencies=list(latencies),
        llm_calls=after["extraction"]["calls"] + after["judge"]["calls"],
        max_in_flight=after["max_in_flight"],
        service_cpu=sum(spent.values()),
        fake_cpu=fake_cpu,
        bench_cpu=bench_cpu,
        busiest_share=max(spent.values(), default=0) / (sum(spent.values()) or 1),
        database_cpu=max(database_cpu, 0.0),
        other_cpu=max(others, 0.0),
        phases=phases,
        probe=probe,
        floor=_floor(busy, phases, usable_cores()),
        between_rounds=_between_rounds(busy, phases),
        stolen_cpu=max(stolen_seconds() - stolen, 0.0),
    )


async def _sample_busy(samples: list[tuple[float, float]], begun: float) -> None:
    """The machine's busy CPU seconds over the batch, every 20 ms (/proc/stat counts in 10 ms
    ticks; reading it costs this process well under 1% of a core)."""
    while True:
        samples.append((time.monotonic() - begun, system_busy_seconds()))
        await asyncio.sleep(0.02)


def _floor(
    busy: list[tuple[float, float]], phases: dict[str, tuple[float, float]], cores: int
) -> float | None:
    """See Batch.floor. The work counted is everything the machine did from the last sample
    before the first extraction answer, so the floor errs early, never late."""
    if (answer := _first_answer(phases)) is None or len(busy) < 2:
        return None
    return answer + (busy[-1][1] - _busy_at(busy, answer)) / cores


def _cores_needed(batch: Batch, one_check: float, cores: int) -> float | None:
    """See the table's note: the floor's work, in core-seconds, over the target's window."""
    if batch.floor is None or (answer := _first_answer(batch.phases)) is None:
        return None
    window = TARGET_RATIO * one_check - answer
    return (batch.floor - answer) * cores / window if window > 0 else None


def _between_rounds(
    busy: list[tuple[float, float]], phases: dict[str, tuple[float, float]]
) -> tuple[float, float, float] | None:
    """See Batch.between_rounds; from the samples at or before each moment."""
    start = _first_answer(phases)
    if start is None or "judge calls" not in phases or len(busy) < 2:
        return None
    end = phases["judge calls"][1]
    if end <= start:
        return None
    return start, end, _busy_at(busy, end) - _busy_at(busy, start)


def _first_answer(phases: dict[str, tuple[float, float]]) -> float | None:
    """The earliest an extraction answer could have come back: the first extraction call plus
    the fake LLM's latency; None without a timeline."""
    if "extraction calls" not in phases:
        return None
    return phases["extraction calls"][0] + LLM_LATENCY


def _busy_at(busy: list[tuple[float, float]], moment: float) -> float:
    """The machine's busy CPU seconds at the last sample at or before `moment`."""
    before = [cpu for at, cpu in busy if at <= moment]
    return before[-1] if before else busy[0][1]


def _spans(times: dict[str, list[float]]) -> dict[str, tuple[float, float]]:
    return {name: (min(ts), max(ts)) for name, ts in times.items() if ts}


def throughput_table(results: list[ThroughputResults]) -> Table:
    table = Table(
        f"c) Concurrent checks, every LLM call {LLM_LATENCY:.0f} s",
        [
            "database",
            "workers",
            "at once",
            "batch wall",
            "× one check",
            "check p50",
            "check p95",
            "checks/s",
            "LLM calls",
            "max LLM in flight",
            "service CPU",
            "CPU/wall",
            "fake LLM CPU",
            "bench CPU",
            "busiest process",
            "CPU floor",
            f"cores for ≤{TARGET_RATIO}×",
            "CPU probe",
            "PostgreSQL CPU",
            "other programs' CPU",
            "CPU stolen",
            f"≤{TARGET_RATIO}×",
        ],
    )
    cores = usable_cores()
    for result in results:
        for b in result.batches:
            ratio = b.wall / result.one_check
            table.add(
                result.database,
                result.workers,
                b.concurrency,
                secs(b.wall),
                f"{ratio:.2f}×",
                secs(percentile(b.latencies, 50)),
                secs(percentile(b.latencies, 95)),
                num(b.concurrency / b.wall, 2),
                b.llm_calls,
                b.max_in_flight,
                secs(b.service_cpu),
                f"{b.service_cpu / b.wall:.0%}",
                secs(b.fake_cpu),
                secs(b.bench_cpu),
                f"{b.busiest_share:.0%}",
                f"{b.floor / result.one_check:.2f}×" if b.floor is not None else "–",
                f"≥{need:.1f}" if (need := _cores_needed(b, result.one_check, cores)) else "–",
                f"{b.probe * 1000:.0f} ms",
                secs(b.database_cpu) if result.database == "PostgreSQL" else "–",
                secs(b.other_cpu),
                secs(b.stolen_cpu),
                verdict(ratio <= TARGET_RATIO),
            )
        table.notes.append(
            f"{result.database}, {result.workers} worker(s): one check ({result.words:,} words) "
            f"= {secs(result.one_check)} alone (median), {result.one_check_calls:.0f} LLM calls, "
            f"{secs(result.one_check_cpu)} of service CPU"
        )
        if result.batches:
            largest = max(result.batches, key=lambda b: b.concurrency)
            table.notes.append(_service_cpu(result, largest, cores))
            if largest.between_rounds is not None:
                table.notes.append(_between_rounds_note(result, largest, cores))
            if largest.phases:
                table.notes.append(_phases(result, largest))
    busy = [
        f"{r.database} {r.workers} worker(s) × {b.concurrency} ({b.other_cpu / b.wall:.1f} cores)"
        for r in results
        for b in r.batches
        if b.other_cpu > 0.2 * b.wall
    ]
    if busy:
        table.notes.append(
            "WARNING: other programs kept the machine busy during "
            + ", ".join(busy)
            + ": those rows are slower than this service alone would be"
        )
    robbed = [
        f"{r.database} {r.workers} worker(s) × {b.concurrency} "
        f"({b.stolen_cpu / (b.wall * cores):.0%})"
        for r in results
        for b in r.batches
        if b.stolen_cpu > STOLEN_WARNING * b.wall * cores
    ]
    if robbed:
        table.notes.append(
            "WARNING: the hypervisor took a share of the cores' time during "
            + ", ".join(robbed)
            + ": those rows are slower than this machine's CPU alone would make them"
        )
    table.notes.append(
        "CPU floor: the earliest the batch could have ended, as × one check, given the CPU work "
        "it took: the first extraction answer (first extraction call + 1 s), plus all the "
        "machine's CPU work after it (service, PostgreSQL, fake LLM, client) spread over every "
        "core; that work waits on the answers, so no ordering of it ends sooner. Above 1.3×, "
        "the target is out of reach for that much CPU, however the work is scheduled. Time the "
        "hypervisor took is not work: it is left out of the floor and shown as CPU stolen"
    )
    table.notes.append(
        f"cores for ≤{TARGET_RATIO}×: the same work after the first extraction answer over the "
        f"time the target leaves after it ({TARGET_RATIO} × one check − that answer): the fewest "
        f"cores of this machine's speed on which the batch could have met the target, as many "
        f"workers provided; a lower bound, like the floor it comes from"
    )
    table.notes.append(
        "CPU probe: CPU time of a fixed pure-Python loop (the header's probe) just before the "
        "batch, median of 3; on these shared machines it varied up to 1.9x within one run, and "
        "CPU work per check with it"
    )
    table.notes.append(
        "checks with store: false, so every batch meets the same evidence base (stored "
        "articles would make each batch slower than the one before)"
    )
    table.notes.append(
        "busiest process: its share of the service's CPU (with N workers, how evenly the checks "
        "spread); PostgreSQL CPU: the server's processes (all of them, so also other clients'); "
        "other programs' CPU: the machine's busy time (/proc/stat) minus service, fake LLM, "
        "bench and PostgreSQL, i.e. what else ran on the machine meanwhile; CPU stolen: core "
        "time the hypervisor gave to other virtual machines while this one wanted it (steal "
        "in /proc/stat), which no other column counts"
    )
    table.notes.append(
        f"CPU/wall: service CPU seconds per second of the batch (100% = one core busy; "
        f"{cores} cores here; one worker process runs Python on one core at a time)"
    )
    return table


def _phases(result: ThroughputResults, batch: Batch) -> str:
    """When the burst's LLM rounds left the service: each round can only start once the
    work before it is done for every check, so the spans show which stage the burst queues in."""
    spans = ", ".join(
        f"{name} {first:.2f}–{last:.2f} s" for name, (first, last) in batch.phases.items()
    )
    return (
        f"{result.database}, {result.workers} worker(s), {batch.concurrency} at once, "
        f"seconds after the first POST: {spans}"
    )


def _between_rounds_note(result: ThroughputResults, batch: Batch, cores: int) -> str:
    """The work the judge round waited on, against when the last judge call had to leave."""
    assert batch.between_rounds is not None
    start, end, cpu = batch.between_rounds
    due = TARGET_RATIO * result.one_check - LLM_LATENCY
    return (
        f"{result.database}, {result.workers} worker(s), {batch.concurrency} at once, between "
        f"the rounds: from the first extraction answer ({start:.2f} s) to the last judge call "
        f"({end:.2f} s) the machine did {secs(cpu)} of CPU work "
        f"({cpu / batch.concurrency * 1000:.0f} ms a check), {cpu / ((end - start) * cores):.0%} "
        f"of its {cores} cores; each check ends a round after its judge call, so for "
        f"{TARGET_RATIO}× the last one had to leave by {due:.2f} s"
    )


def _service_cpu(result: ThroughputResults, batch: Batch, cores: int) -> str:
    """The service's own CPU in the largest batch, per check and over its cores. Not a verdict
    on the target: that is the CPU floor column, which adds what this leaves out."""
    parallel = min(result.workers, cores)
    per_check = batch.service_cpu / batch.concurrency
    return (
        f"{result.database}, {result.workers} worker(s), {batch.concurrency} at once: "
        f"{secs(batch.service_cpu)} of service CPU ({per_check * 1000:.0f} ms a check), "
        f"{secs(batch.service_cpu / parallel)} spread over {parallel} core(s); the CPU floor "
        f"column adds the first second, when every check waits on its extraction call, and the "
        f"CPU of the other processes on the same cores"
    )


__all__ = ["Batch", "ThroughputResults", "measure_throughput", "throughput_table"]
