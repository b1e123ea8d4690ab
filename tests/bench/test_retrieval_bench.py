"""The retrieval benchmark's corpus and measurement, at a size a test can afford."""

from __future__ import annotations

from sqlalchemy import func, select

from service.bench import synthetic
from service.bench.retrieval import retrieval_section
from service.bench.run import retrieval_table
from service.pipeline.retrieve import search_terms
from service.store import terms
from service.store.tables import ArticleRow, ClaimRow, TermRow


def test_a_query_claim_is_about_a_stored_event_and_grounded() -> None:
    stored = list(synthetic.articles(7, 1, seed=1))
    assert len(stored) == synthetic.OUTLETS_PER_EVENT
    for text, claims in stored:
        assert len(claims) == synthetic.CLAIMS_PER_ARTICLE
        assert all(text[c.span[0] : c.span[1]] == c.quote for c in claims)
    queries = synthetic.query_claims(7, seed=1)
    places = {c.entities[1] for _, claims in stored for c in claims}
    assert {q.entities[1] for q in queries} <= places  # the same event's places
    assert synthetic.query_claims(7, seed=1) == queries  # reproducible
    assert all(search_terms(q) for q in queries)


async def test_fill_stores_claims_with_their_term_counts(store) -> None:
    written = await synthetic.fill(store.engine, 0, 3, seed=1)
    assert written == 3 * synthetic.OUTLETS_PER_EVENT * synthetic.CLAIMS_PER_ARTICLE
    async with store.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(ClaimRow)) == written
        assert await conn.scalar(select(func.count()).select_from(ArticleRow)) == 15
        total = await conn.scalar(select(TermRow.claims).where(TermRow.term == terms.ALL_CLAIMS))
    assert total == written


async def test_the_section_measures_and_finds_each_event() -> None:
    rows = await retrieval_section([300, 600], ["sqlite"], queries=20, progress=lambda _: None)
    assert [r.claims for r in rows] == [300, 600]
    assert all(r.recall == 1.0 and 0 < r.p50_ms <= r.p95_ms <= r.max_ms for r in rows)
    table = retrieval_table(rows)
    assert [row[:2] for row in table.rows] == [["SQLite", "300"], ["SQLite", "600"]]
