"""Term counts: searches ask the index for a claim's rare words, within a postings budget."""

from __future__ import annotations

from sqlalchemy import select

from service.models import ArticleIn, ClaimData
from service.pipeline.ingest import content_hash
from service.store import db, terms
from service.store.sql import SqlStore
from service.store.tables import TermRow


def test_stems_are_postgresqls_english_lexemes() -> None:
    # What to_tsvector('english', ...) makes of these words on PostgreSQL 15.
    words = "officials attacked forces Kursk 121 000 evacuated penetrated"
    assert [terms.stem(w) for w in words.split()] == [
        "offici", "attack", "forc", "kursk", "121", "000", "evacu", "penetr",
    ]  # fmt: skip


def test_pick_keeps_the_rarest_words_within_the_budget(monkeypatch) -> None:
    monkeypatch.setattr(terms, "POSTINGS_BUDGET", 100)
    counts = {"": 9000, "offici": 5000, "sudzha": 3, "kursk": 60, "evacu": 40, "penetr": 0}
    words = ["officials", "evacuated", "sudzha", "kursk", "penetrated", "unknown"]
    # 3 + 40 fit, + 60 would not; words no claim has cannot match and are left out.
    assert terms.pick(words, counts) == ["sudzha", "evacuated"]
    # The rarest word is kept even over the budget.
    assert terms.pick(["officials", "said"], {"": 9000, "offici": 5000, "said": 900}) == ["said"]
    assert terms.pick(["nothing"], {"": 9000}) == []


def test_a_store_smaller_than_the_budget_is_asked_for_every_word(monkeypatch) -> None:
    monkeypatch.setattr(terms, "POSTINGS_BUDGET", 100)
    counts = {"": 80, "offici": 70, "sudzha": 3, "kursk": 60}
    words = ["officials", "sudzha", "kursk", "unknown"]
    assert terms.pick(words, counts) == ["officials", "sudzha", "kursk"]


def claim(sentence: str, text_: str, entities: list[str] | None = None) -> ClaimData:
    start = text_.index(sentence)
    return ClaimData(
        statement=sentence,
        quote=sentence,
        span=(start, start + len(sentence)),
        entities=entities or [],
        extractor="test",
    )


async def add(store: SqlStore, sentences: list[str], entities: list[str] | None = None):
    text_ = " ".join(sentences)
    claims = [claim(s, text_, entities) for s in sentences]
    article, _ = await store.add_article(ArticleIn(text=text_), content_hash(text_), claims)
    return article


async def counts(store: SqlStore) -> dict[str, int]:
    async with store.engine.connect() as conn:
        return dict((await conn.execute(select(TermRow.term, TermRow.claims))).all())


async def test_counts_follow_claims_added_and_deleted(store: SqlStore) -> None:
    first = await add(store, ["Officials said 12 were killed.", "Officials met in Sudzha."])
    await add(store, ["Officials fled Kursk."], entities=["Kursk Oblast"])
    stored = await counts(store)
    # Each claim counts a stem once, whatever column or how often it has it.
    assert stored["offici"] == 3 and stored["kursk"] == 1 and stored["oblast"] == 1
    assert stored["sudzha"] == 1 and stored["12"] == 1 and stored[terms.ALL_CLAIMS] == 3
    await store.delete_article(first.id)
    stored = await counts(store)
    assert stored["offici"] == 1 and stored["kursk"] == 1 and stored[terms.ALL_CLAIMS] == 1
    assert stored.get("sudzha", 0) == 0


async def test_frequencies_answer_for_every_stem_asked_and_no_other(store: SqlStore) -> None:
    await add(store, ["Officials said 12 were killed in Sudzha.", "Officials fled Łgów."])
    await add(store, ["Nothing about it."])
    words = ["officials", "Official", "sudzha", "łgów", "12", "neverseen", "nothing"]
    async with store._session() as session:
        found = await terms.frequencies(session, words, sqlite=store._search.sqlite)
    # Counted by stem, so "officials" and "Official" are one row; unknown words have none;
    # every answer carries the count of all claims, which the postings budget needs.
    assert found == {"offici": 2, "sudzha": 1, "łgów": 1, "12": 1, "noth": 1, "": 3}


async def test_search_skips_words_too_common_for_the_budget(store: SqlStore, monkeypatch) -> None:
    await add(store, [f"Officials met on day {n}." for n in range(30)])
    await add(store, ["Evacuations began in Sudzha."])
    monkeypatch.setattr(terms, "POSTINGS_BUDGET", 10)
    (found,) = await store.search_claims([["officials", "sudzha"]], (), 50)
    # Only the rare word was asked for: the thirty "officials" claims are not candidates.
    assert [c.claim.quote for c in found] == ["Evacuations began in Sudzha."]
    monkeypatch.setattr(terms, "POSTINGS_BUDGET", 1000)
    (found,) = await store.search_claims([["officials", "sudzha"]], (), 50)
    assert len(found) == 31
    batch = await store.search_claims([["neverseen"], [], ["sudzha"]], (), 50)
    assert [[c.claim.quote for c in found] for found in batch] == [
        [],
        [],
        ["Evacuations began in Sudzha."],
    ]


async def test_migration_counts_claims_stored_before_it(store: SqlStore) -> None:
    await add(store, ["Officials said 12 were killed.", "Officials met in Sudzha."])
    before = await counts(store)
    async with store.engine.begin() as conn:
        await conn.run_sync(
            lambda sync: db.command.downgrade(db._alembic_config(sync), "0005_judgement_cache")
        )
    await db.migrate(store.engine)
    assert await counts(store) == before
