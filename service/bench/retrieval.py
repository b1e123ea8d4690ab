"""Retrieval latency against the number of stored claims, on SQLite and PostgreSQL.

One store per backend grows through the sizes asked for (synthetic claims, service.bench.
synthetic); at each size, claims of a further outlet about random stored events are searched
exactly as a check searches them (search_terms → Store.search_claims), one at a time, and the
latency of each search is recorded. Recall is reported too, as the share of queries whose
event's stored claims are among the candidates: a fast search that finds nothing is no use.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass

from sqlalchemy import text

from service.bench import synthetic
from service.pipeline.retrieve import CANDIDATES_PER_QUERY, search_terms
from service.store.scratch import scratch_store
from service.store.sql import SqlStore


@dataclass
class RetrievalRow:
    backend: str
    claims: int
    fill_seconds: float
    queries: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    recall: float  # share of queries that found a claim of their own event


async def _settle(store: SqlStore) -> None:
    """What a running database does on its own after a bulk load, done now rather than left to
    run during the measurement: PostgreSQL's autovacuum (VACUUM ANALYZE, which it starts after
    so many inserts and which, beside the searches, doubled the p95 at 1M claims on 2 cores);
    SQLite's statistics."""
    if store.engine.dialect.name == "postgresql":
        async with store.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE claims"))
            await conn.execute(text("VACUUM ANALYZE terms"))
    else:
        async with store.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))


async def measure(
    store: SqlStore, events: int, queries: int, seed: int
) -> tuple[list[float], float]:
    rng = random.Random(f"queries:{seed}:{events}")
    latencies: list[float] = []
    found = 0
    for _ in range(queries):
        event = rng.randrange(events)
        claim = rng.choice(synthetic.query_claims(event, seed))
        start = time.perf_counter()
        (candidates,) = await store.search_claims([search_terms(claim)], (), CANDIDATES_PER_QUERY)
        latencies.append((time.perf_counter() - start) * 1000)
        person, place = claim.entities[:2]
        found += any(place in c.claim.entities or person in c.claim.entities for c in candidates)
    return latencies, found / queries


async def retrieval_section(
    sizes: list[int],
    backends: list[str],
    postgres_url: str | None = None,
    queries: int = 300,
    seed: int = 1,
    progress=print,
) -> list[RetrievalRow]:
    rows: list[RetrievalRow] = []
    for backend in backends:
        async with scratch_store(backend, postgres_url, prefix="bench") as store:
            events = 0
            claims = 0
            for size in sorted(sizes):
                target = synthetic.events_for(size)
                start = time.perf_counter()
                claims += await synthetic.fill(store.engine, events, target - events, seed)
                await _settle(store)
                fill = time.perf_counter() - start
                events = target
                progress(f"{backend}: {claims:,} claims stored in {fill:.0f} s; searching")
                await measure(store, events, 20, seed + 1)  # warm the cache and the pool
                latencies, recall = await measure(store, events, queries, seed)
                cuts = statistics.quantiles(latencies, n=100)
                rows.append(
                    RetrievalRow(
                        backend, claims, fill, queries, cuts[49], cuts[94], max(latencies), recall
                    )
                )
                progress(f"  p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms, recall {recall:.2f}")
    return rows
