"""Searching many claims at once, and the cache of stored claims a search has read."""

from __future__ import annotations

from sqlalchemy import event

from service.models import ArticleIn
from service.pipeline.ingest import content_hash
from service.store import search
from service.store.sql import SqlStore
from tests.store.test_terms import claim


async def add(store: SqlStore, sentences: list[str], source: str) -> int:
    text_ = " ".join(sentences)
    claims = [claim(s, text_) for s in sentences]
    article = ArticleIn(text=text_, source=source)
    stored, _ = await store.add_article(article, content_hash(text_), claims)
    return stored.id


def statements(store: SqlStore) -> list[str]:
    seen: list[str] = []
    event.listen(
        store.engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: seen.append(statement),
    )
    return seen


async def test_a_batch_is_one_index_statement_and_answers_each_query_in_order(store) -> None:
    await add(store, ["Officials evacuated Sudzha on Monday.", "Troops crossed near Kursk."], "A")
    await add(store, ["Sudzha was evacuated by officials.", "Belgorod shelled overnight."], "B")
    seen = statements(store)
    found = await store.search_claims([["sudzha"], ["nowhere"], ["kursk", "troops"]], (), 10)
    assert [[c.claim.statement for c in hits] for hits in found] == [
        ["Officials evacuated Sudzha on Monday.", "Sudzha was evacuated by officials."],
        [],
        ["Troops crossed near Kursk."],
    ]
    assert [c.source for c in found[0]] == ["A", "B"]
    # Word counts, one statement for all the index searches, one read of the claims found.
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3, seen


async def test_claims_read_once_are_served_from_the_cache(store) -> None:
    await add(store, ["Officials evacuated Sudzha on Monday."], "A")
    first = await store.search_claims([["sudzha"]], (), 10)
    seen = statements(store)
    again = await store.search_claims([["sudzha"]], (), 10)
    assert again == first
    assert not any("claims.quantities" in s for s in seen), "the claim was read again"


async def test_excluded_articles_are_left_out(store) -> None:
    a = await add(store, ["Officials evacuated Sudzha on Monday."], "A")
    await add(store, ["Sudzha was evacuated by officials."], "B")
    (found,) = await store.search_claims([["sudzha"]], [a], 10)
    assert [c.source for c in found] == ["B"]


async def test_a_reused_claim_id_never_serves_the_deleted_claim(store) -> None:
    # SQLite gives the highest deleted rowid to the next row; another worker's cache still
    # holds the deleted claim under that id. The stamp tells them apart.
    other = SqlStore(store.engine)  # a second process's store: its own cache
    first = await add(store, ["Officials evacuated Sudzha on Monday."], "A")
    (before,) = await other.search_claims([["sudzha"]], (), 10)
    await store.delete_article(first)
    await add(store, ["Sudzha shelters opened on Tuesday."], "B")
    (after,) = await other.search_claims([["sudzha"]], (), 10)
    assert [c.claim.statement for c in after] == ["Sudzha shelters opened on Tuesday."]
    assert [c.source for c in after] == ["B"]
    assert before[0].claim.statement != after[0].claim.statement


async def test_a_batch_larger_than_a_statement_or_the_cache_loses_nothing(
    store, monkeypatch
) -> None:
    # A 10,000-paragraph article searches thousands of claims in one batch: more parts than
    # SQLite allows in one compound SELECT, more claims than the cache holds.
    monkeypatch.setattr(search, "MAX_PARTS", 2)
    monkeypatch.setattr(search, "MAX_READ", 3)
    monkeypatch.setattr(search, "CACHE_CLAIMS", 2)
    places = ["Sudzha", "Kursk", "Belgorod", "Lgov", "Rylsk"]
    await add(store, [f"Officials evacuated {p} on Monday." for p in places], "A")
    await add(store, [f"Troops reached {p} overnight." for p in places], "B")
    small = SqlStore(store.engine)  # its cache built with the patched size
    queries = [[p.lower()] for p in places] + [["nowhere"], ["officials"]]
    found = await small.search_claims(queries, (), 10)
    for place, hits in zip(places, found, strict=False):
        assert sorted(c.claim.statement for c in hits) == [
            f"Officials evacuated {place} on Monday.",
            f"Troops reached {place} overnight.",
        ]
    assert found[5] == []
    assert len(found[6]) == 5 and {c.source for c in found[6]} == {"A"}
    assert found == await SqlStore(store.engine).search_claims(queries, (), 10)
