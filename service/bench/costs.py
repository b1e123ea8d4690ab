"""Sections a and b: the service's own time per check, and LLM calls and tokens per article and
per claim, next to the naive one-call-per-pair design; then a repeated article.

Checks run one at a time with the fake LLM answering at once (latency 0). Sizes are interleaved
(300, 1,000, 5,000, 300, ...) so every size meets the same, growing, evidence base: each checked
article is stored, as the API does by default.

Overhead = the check's wall time at the client − the fake server's own handling time for it
(the union of its busy intervals, so parallel chunk calls are subtracted once). What remains is
the service: HTTP, validation, chunking, the openai/instructor round trips (request building,
response parsing, loopback transfer), grounding, retrieval, rules, verdicts, reports, SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from service.bench.articles import ArticleFactory
from service.bench.driver import Driver, Measured
from service.bench.naive import NaiveDesign, NaiveRun
from service.bench.tables import Table, mean, ms, num, percentile, verdict

CALLS_PER_CLAIM_TARGET = 0.25
NAIVE_PAIRS = 1500  # per size: enough naive calls to count (each costs the bench ~25 ms)


@dataclass
class CostResults:
    database: str
    runs: dict[int, list[Measured]] = field(default_factory=dict)
    repeats: dict[int, tuple[Measured, Measured]] = field(default_factory=dict)  # first, repeat
    naive: dict[int, list[tuple[Measured, NaiveRun]]] = field(default_factory=dict)
    articles_before: int = 0  # stored articles (the evidence base) when measuring began
    articles_after: int = 0


async def measure_costs(
    driver: Driver,
    naive: NaiveDesign,
    factory: ArticleFactory,
    *,
    database: str,
    sizes: tuple[int, ...],
    rounds: int,
    naive_per_size: int,
    progress: Callable[[str], None],
) -> CostResults:
    await driver.configure_llm(latency=0.0)
    # Warm-up, not measured: lazy imports, pint's unit registry, the database's caches.
    for words in sizes:
        await driver.check(factory.make(words))
    results = CostResults(database, {w: [] for w in sizes}, {}, {w: [] for w in sizes})
    results.articles_before = await driver.stored_articles()
    for round_ in range(rounds):
        progress(f"costs ({database}): round {round_ + 1} of {rounds}")
        for words in sizes:
            article = factory.make(words)
            measured = await driver.measured_check(article)
            results.runs[words].append(measured)
            if words not in results.repeats:  # again at once, before the evidence base grows
                results.repeats[words] = (measured, await driver.measured_check(article))
            naive_done = results.naive[words]
            if (
                len(naive_done) < naive_per_size
                and sum(n.pairs for _, n in naive_done) < NAIVE_PAIRS
            ):
                own = {measured.article_id} if measured.article_id is not None else set()
                results.naive[words].append((measured, await naive.run(article, own, driver)))
    results.articles_after = await driver.stored_articles()
    return results


def overhead_table(results: list[CostResults]) -> Table:
    table = Table(
        "a) Service overhead per check, LLM time excluded (checks one at a time, LLM latency 0)",
        [
            "database",
            "article",
            "checks",
            "words",
            "claims",
            "check p50",
            "fake LLM p50",
            "overhead p50",
            "overhead p95",
            "overhead/claim p50",
        ],
    )
    for result in results:
        for words, runs in result.runs.items():
            overhead = [r.overhead for r in runs]
            table.add(
                result.database,
                f"{words:,} words",
                len(runs),
                num(mean([r.words for r in runs]), 0),
                num(mean([r.claims for r in runs])),
                ms(percentile([r.wall for r in runs], 50)),
                ms(percentile([r.llm_busy for r in runs], 50)),
                ms(percentile(overhead, 50)),
                ms(percentile(overhead, 95)),
                ms(percentile([r.overhead / max(r.claims, 1) for r in runs], 50)),
            )
    table.notes = [
        "overhead = wall time at the client − the fake LLM server's own handling time "
        "(union of its busy intervals); every check is a text the service has not seen",
        "sizes interleaved (300, 1,000, 5,000, 300, ...) and every checked article stored (the "
        "API default), so all sizes meet the same growing evidence base: "
        + "; ".join(
            f"{r.database} {r.articles_before} → {r.articles_after} stored articles"
            for r in results
        ),
    ]
    return table


def cost_table(results: list[CostResults]) -> Table:
    table = Table(
        "b) LLM calls and tokens per article and per claim (this design: rules first, "
        "judge batched)",
        [
            "database",
            "article",
            "claims/article",
            "extraction calls",
            "judge calls",
            "calls/article",
            "calls/claim",
            "prompt tok/article",
            "completion tok/article",
            "tokens/claim",
            f"≤{CALLS_PER_CLAIM_TARGET} calls/claim",
        ],
    )
    for result in results:
        for words, runs in result.runs.items():
            n, claims = len(runs), sum(r.claims for r in runs)
            calls = sum(r.calls for r in runs)
            table.add(
                result.database,
                f"{words:,} words",
                num(claims / n),
                num(sum(r.extraction.calls for r in runs) / n),
                num(sum(r.judge.calls for r in runs) / n),
                num(calls / n),
                num(calls / max(claims, 1), 3),
                num(sum(r.extraction.prompt_tokens + r.judge.prompt_tokens for r in runs) / n, 0),
                num(
                    sum(r.extraction.completion_tokens + r.judge.completion_tokens for r in runs)
                    / n,
                    0,
                ),
                num(sum(r.tokens for r in runs) / max(claims, 1), 0),
                verdict(calls / max(claims, 1) <= CALLS_PER_CLAIM_TARGET),
            )
    table.notes = [
        "counted by the fake LLM server (every request, re-asks included); per claim = "
        "sum over the articles / sum of their claims; tokens ≈ UTF-8 bytes / 4",
    ]
    return table


def naive_table(results: list[CostResults]) -> Table:
    table = Table(
        "b) This design against a naive one (one judge call per claim–candidate pair), "
        "same articles",
        [
            "database",
            "article",
            "articles",
            "claims",
            "pairs (naive)",
            "calls/claim",
            "naive calls/claim",
            "tokens/claim",
            "naive tokens/claim",
            "calls saved",
        ],
    )
    for result in results:
        for words, paired in result.naive.items():
            if not paired:
                continue
            claims = sum(m.claims for m, _ in paired) or 1
            naive_claims = sum(n.claims for _, n in paired) or 1
            calls, naive_calls = sum(m.calls for m, _ in paired), sum(n.calls for _, n in paired)
            table.add(
                result.database,
                f"{words:,} words",
                len(paired),
                num(claims / len(paired)),
                num(sum(n.pairs for _, n in paired) / len(paired)),
                num(calls / claims, 3),
                num(naive_calls / naive_claims, 3),
                num(sum(m.tokens for m, _ in paired) / claims, 0),
                num(sum(n.tokens for _, n in paired) / naive_claims, 0),
                f"{1 - calls / max(naive_calls, 1):.0%}",
            )
    table.notes = [
        "naive: the same extraction and retrieve() (up to 12 candidates per claim), then LLMJudge "
        "on every pair, one pair per call, run in the benchmark process (service.bench.naive)",
    ]
    return table


def repeat_table(results: list[CostResults]) -> Table:
    table = Table(
        "b) The same article checked again (extraction cache; judge cache)",
        [
            "database",
            "article",
            "first: extraction calls",
            "first: judge calls",
            "repeat: extraction calls",
            "repeat: judge calls",
            "repeat: tokens",
            "repeat: wall",
        ],
    )
    for result in results:
        for words, (first, again) in result.repeats.items():
            table.add(
                result.database,
                f"{words:,} words",
                first.extraction.calls,
                first.judge.calls,
                again.extraction.calls,
                again.judge.calls,
                again.tokens,
                ms(again.wall),
            )
    return table


__all__ = [
    "CostResults",
    "cost_table",
    "measure_costs",
    "naive_table",
    "overhead_table",
    "repeat_table",
]
