"""Runs the benchmark sections in order and collects their tables, and nothing else.

fake LLM process
└── per database (a temporary SQLite file; a fresh PostgreSQL database with --postgres-url)
    ├── service, 1 worker:  a+b  costs (overhead, LLM calls and tokens, naive, repeat)
    │                       c    throughput
    └── service, N workers: c    throughput (each extra --workers value)
d  peak memory: watched around every section above
e  retrieval latency: synthetic stored claims, in process (service.bench.retrieval)
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from service.bench import processes
from service.bench.articles import ArticleFactory
from service.bench.costs import (
    CostResults,
    cost_table,
    measure_costs,
    naive_table,
    overhead_table,
    repeat_table,
)
from service.bench.driver import Driver
from service.bench.machine import cpu_probe, machine_info, probe_line, stolen_line
from service.bench.naive import NaiveDesign
from service.bench.procs import MemoryPeak, MemoryWatch, stolen_seconds
from service.bench.retrieval import RetrievalRow, retrieval_section
from service.bench.tables import Table, mib
from service.bench.throughput import ThroughputResults, measure_throughput, throughput_table

SIZES = (300, 1000, 5000)
RETRIEVAL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_RETRIEVAL_SIZES = (10_000, 100_000)


@dataclass(frozen=True)
class Plan:
    rounds: int  # measured checks per size (sections a, b)
    naive_per_size: int  # of those, how many also run through the naive design
    levels: tuple[int, ...]  # checks at once (section c)
    throughput_words: int
    solo_runs: int  # checks alone, for "one check's time"


DEFAULT = Plan(
    rounds=20, naive_per_size=2, levels=(1, 8, 16, 32, 64), throughput_words=500, solo_runs=3
)
QUICK = Plan(rounds=3, naive_per_size=1, levels=(1, 8, 32), throughput_words=300, solo_runs=2)


@dataclass
class BenchOptions:
    quick: bool = False
    postgres_url: str | None = None
    workers: tuple[int, ...] = (1, 2)  # `serve --workers` values section c runs with
    retrieval_sizes: tuple[int, ...] = RETRIEVAL_SIZES  # stored claims section e measures at

    @property
    def plan(self) -> Plan:
        return QUICK if self.quick else DEFAULT


@dataclass
class BenchReport:
    machine: dict[str, str]
    tables: list[Table] = field(default_factory=list)

    def markdown(self) -> str:
        lines = ["## Benchmark", ""]
        lines += [f"- **{key}**: {value}" for key, value in self.machine.items()]
        return "\n".join(lines) + "\n\n" + "\n".join(t.markdown() for t in self.tables)


async def run_bench(
    options: BenchOptions,
    show: Callable[[Table], None],
    progress: Callable[[str], None],
) -> BenchReport:
    """Run every section; `show` gets each table as soon as it is complete."""
    report = BenchReport(machine_info())
    load_before = os.getloadavg()[0]
    speed_before = cpu_probe()
    stolen_before, started = stolen_seconds(), time.monotonic()
    if settings := processes.passed_settings():
        report.machine["service settings"] = ", ".join(f"{k}={v}" for k, v in settings.items())
    costs: list[CostResults] = []
    throughput: list[ThroughputResults] = []
    peaks: list[tuple[str, int, MemoryPeak]] = []
    factory = ArticleFactory(processes.SEEDS)
    plan = options.plan
    with tempfile.TemporaryDirectory(prefix="factcheck-bench-") as folder:
        workdir = Path(folder)
        async with processes.fake_llm(workdir) as llm:
            async for database, url in _databases(options, workdir, report):
                for workers in sorted(set(options.workers) | {1}):
                    progress(f"starting the service ({database}, {workers} worker(s))")
                    async with processes.service(workdir, url, llm.url, workers) as service:
                        driver = Driver(service.url, llm.url)
                        watch = MemoryWatch(service.pid)
                        try:
                            if workers == 1:
                                watch.start("a+b costs")
                                costs.append(
                                    await _costs(
                                        driver, url, llm.url, factory, database, plan, progress
                                    )
                                )
                                peaks.append((database, workers, await watch.stop()))
                            if workers in options.workers:
                                watch.start("c throughput")
                                throughput.append(
                                    await measure_throughput(
                                        driver,
                                        service.pid,
                                        factory,
                                        database=database,
                                        workers=workers,
                                        words=plan.throughput_words,
                                        levels=plan.levels,
                                        solo_runs=plan.solo_runs,
                                        progress=progress,
                                    )
                                )
                                peaks.append((database, workers, await watch.stop()))
                        except processes.BenchError as exc:
                            # The service's own log says why; its folder is about to go.
                            raise processes.BenchError(
                                f"{exc}\nservice log: {service.tail(30)}"
                            ) from None
                        finally:
                            await driver.close()
    report.machine["CPU speed probe"] = probe_line(speed_before, cpu_probe())
    report.machine["load average (1 min)"] = (
        f"{load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end "
        f"(the benchmark's own processes included)"
    )
    report.machine["CPU stolen by the hypervisor"] = stolen_line(
        stolen_seconds() - stolen_before, time.monotonic() - started, os.cpu_count() or 1
    )
    for table in (
        overhead_table(costs),
        cost_table(costs),
        naive_table(costs),
        repeat_table(costs),
        throughput_table(throughput),
        memory_table(peaks),
    ):
        report.tables.append(table)
        show(table)

    if sizes := [n for n in options.retrieval_sizes if n > 0]:
        backends = ["sqlite", "postgresql"] if options.postgres_url else ["sqlite"]
        rows = await retrieval_section(sizes, backends, options.postgres_url, progress=progress)
        report.tables.append(retrieval_table(rows))
        show(report.tables[-1])
    return report


async def _costs(driver, url, llm_url, factory, database, plan, progress) -> CostResults:
    naive = NaiveDesign(url, llm_url)
    try:
        return await measure_costs(
            driver,
            naive,
            factory,
            database=database,
            sizes=SIZES,
            rounds=plan.rounds,
            naive_per_size=plan.naive_per_size,
            progress=progress,
        )
    finally:
        await naive.close()


async def _databases(
    options: BenchOptions, workdir: Path, report: BenchReport
) -> AsyncIterator[tuple[str, str]]:
    yield "SQLite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    if options.postgres_url:
        async with processes.postgres_database(options.postgres_url) as url:
            report.machine["PostgreSQL"] = await _server_version(url)
            yield "PostgreSQL", url


async def _server_version(url: str) -> str:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return str((await conn.execute(text("SHOW server_version"))).scalar())
    except Exception:
        return "unknown"
    finally:
        await engine.dispose()


def memory_table(peaks: list[tuple[str, int, MemoryPeak]]) -> Table:
    table = Table(
        "d) Peak memory of the service (its process and workers)",
        [
            "database",
            "workers",
            "section",
            "processes",
            "peak RSS, all processes",
            "largest process VmHWM",
            "sum of VmHWM",
        ],
    )
    for database, workers, peak in peaks:
        table.add(
            database,
            workers,
            peak.section,
            peak.processes,
            mib(peak.tree_peak_kib),
            mib(peak.largest_hwm_kib) + ("" if peak.reset else " (lifetime)"),
            mib(peak.hwm_sum_kib),
        )
    table.notes = [
        "peak RSS: the highest sum of VmRSS over the service's processes, sampled every 0.2 s; "
        "VmHWM: each process's own high-water mark, reset at the start of the section",
    ]
    return table


def retrieval_table(rows: list[RetrievalRow]) -> Table:
    table = Table(
        "e) Retrieval latency against stored claims (one claim's search, as a check runs it)",
        [
            "database",
            "stored claims",
            "searches",
            "p50",
            "p95",
            "max",
            "recall",
            "p95 / p95 at the smallest size",
            "≤20 ms p95 (PostgreSQL, 1M)",
            "load time",
        ],
    )
    smallest: dict[str, float] = {}
    for row in rows:
        base = smallest.setdefault(row.backend, row.p95_ms)
        target = (
            ("met" if row.p95_ms <= 20 else "MISSED")
            if row.backend == "postgresql" and row.claims >= 1_000_000
            else ""
        )
        table.add(
            "PostgreSQL" if row.backend == "postgresql" else "SQLite",
            f"{row.claims:,}",
            row.queries,
            f"{row.p50_ms:.1f} ms",
            f"{row.p95_ms:.1f} ms",
            f"{row.max_ms:.1f} ms",
            f"{row.recall:.2f}",
            f"{row.p95_ms / base:.2f}×",
            target,
            f"{row.fill_seconds:,.0f} s",
        )
    table.notes = [
        "synthetic corpus (service.bench.synthetic): events with their own places, people and "
        "figures, five outlets each, ~10 claims an article, in shared news vocabulary; the store "
        "grows through the sizes; after each load PostgreSQL gets the VACUUM ANALYZE its "
        "autovacuum would run (SQLite: ANALYZE)",
        "a search: Store.search_claims for one claim of a further outlet on a random stored "
        "event, through a pooled connection, result rows turned into models (what a check does "
        "per claim); recall: share of searches that found a claim of their own event",
        "target: p95 at 1M ≤3× p95 at 10k, and ≤20 ms at 1M on PostgreSQL",
    ]
    return table


__all__ = ["DEFAULT", "QUICK", "BenchOptions", "BenchReport", "Plan", "run_bench"]
