"""The texts of cited articles, and the cache of those this process has read."""

from __future__ import annotations

from service.models import ArticleIn
from service.pipeline.ingest import content_hash
from service.store import texts
from service.store.sql import SqlStore
from tests.store.test_search_cache import statements


async def add(store: SqlStore, text_: str) -> int:
    stored, _ = await store.add_article(ArticleIn(text=text_), content_hash(text_), [])
    return stored.id


async def test_texts_come_back_by_id_and_unknown_ids_are_left_out(store) -> None:
    a = await add(store, "Officials evacuated Sudzha on Monday.")
    b = await add(store, "Troops crossed near Kursk.")
    assert await store.article_texts([a, b, 9999]) == {
        a: "Officials evacuated Sudzha on Monday.",
        b: "Troops crossed near Kursk.",
    }
    assert await store.article_texts([]) == {}


async def test_a_text_read_once_is_not_read_again(store) -> None:
    a = await add(store, "Officials evacuated Sudzha on Monday.")
    b = await add(store, "Troops crossed near Kursk.")
    first = await store.article_texts([a])
    seen = statements(store)
    again = await store.article_texts([a, b])
    assert again == {a: first[a], b: "Troops crossed near Kursk."}
    # The same string, so the caches of independence keyed by it do not hash it again.
    assert again[a] is first[a]
    reads = [s for s in seen if "articles.text" in s]
    assert len(reads) == 1 and len(seen) == 2, seen  # the stamps, then b's text alone


async def test_a_reused_article_id_never_serves_the_deleted_text(store) -> None:
    # SQLite gives the highest deleted rowid to the next row; another worker's cache still
    # holds the deleted text under that id. The stamp tells them apart.
    other = SqlStore(store.engine)  # a second process's store: its own cache
    first = await add(store, "Officials evacuated Sudzha on Monday.")
    assert await other.article_texts([first]) == {first: "Officials evacuated Sudzha on Monday."}
    await store.delete_article(first)
    second = await add(store, "Sudzha shelters opened on Tuesday.")
    assert await other.article_texts([first, second]) == {
        second: "Sudzha shelters opened on Tuesday."
    }


async def test_more_text_than_the_cache_holds_loses_none(store, monkeypatch) -> None:
    # The cache counts characters: two of these 30-character texts fit, not five, and a text
    # longer than the whole cache is served without being kept.
    monkeypatch.setattr(texts, "CACHE_CHARS", 70)
    small = SqlStore(store.engine)
    expected = {await add(store, f"Report number {n} from Sudzha."): n for n in range(5)}
    expected[await add(store, "A long report. " * 10)] = "long"
    for _ in range(2):
        found = await small.article_texts(list(expected))
        assert found == {
            i: "A long report. " * 10 if n == "long" else f"Report number {n} from Sudzha."
            for i, n in expected.items()
        }
    assert small._texts._texts.currsize <= 70
