"""The store's side of retrieve: many claims' index searches in one statement, and a cache of
the stored claims they find.

A check searches once per claim, and under load every statement and every row turned into a
model costs CPU the whole service shares. So a batch of claims is one round trip: each claim's
index query ranks and limits on its own, and the parts are joined by UNION ALL into a statement
that returns only (query, claim id, stamp, rank). The claims found are then read, in one more
statement, only where this process has not read them before: stored claims never change (an
article is added or deleted whole), and the claims of the event a newsroom is checking are
found again and again.

The cache key is the claim's id with its created_at stamp, not the id alone: SQLite may hand a
deleted claim's id to a new claim, and another worker process's cache would not know.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from sqlalchemy import TextClause, bindparam, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import ClaimOut
from service.store import terms
from service.store.base import Candidate
from service.store.tables import ArticleRow, ClaimRow

# ~3 KB a claim with its article's names: about 30 MB per process when full.
CACHE_CLAIMS = 10_000
# Per statement: SQLite refuses a compound SELECT of more than 500 parts, and asyncpg more
# than 32,767 parameters.
MAX_PARTS = 200
MAX_READ = 5_000

_CLAIMS = ClaimRow.__table__
_STAMP = literal_column("claims.created_at")  # raw, only compared: no type conversion


@dataclass(frozen=True)
class _Found:
    claim: ClaimOut
    source: str | None
    url: str | None
    title: str | None


class ClaimSearch:
    """One per store (per process): the statements it has built, the claims it has read."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"
        self._statements: dict[tuple[int, bool, int], Any] = {}
        self._found: LRUCache[tuple[int, Any], _Found] = LRUCache(CACHE_CLAIMS)
        self._read = (
            # created_at only raw, as the stamp: claim_out does not need it converted.
            select(*(c for c in _CLAIMS.c if c.name != "created_at"), _STAMP.label("stamp"))
            .add_columns(ArticleRow.source, ArticleRow.url, ArticleRow.title)
            .join(ArticleRow, ArticleRow.id == _CLAIMS.c.article_id)
            .where(_CLAIMS.c.id.in_(bindparam("ids", expanding=True)))
        )

    async def run(
        self,
        session: AsyncSession,
        queries: Sequence[list[str]],
        exclude_articles: Sequence[int],
        limit: int,
    ) -> list[list[Candidate]]:
        """Candidates per query of lower-cased plain words (best first, ties by id)."""
        counts = await terms.frequencies(
            session, {w for words in queries for w in words}, sqlite=self.sqlite
        )
        matches: list[str] = []
        asked: list[int] = []  # the query each match answers
        for index, words in enumerate(queries):
            if picked := terms.pick(words, counts):
                matches.append(
                    " OR ".join(f'"{w}"' for w in picked) if self.sqlite else " | ".join(picked)
                )
                asked.append(index)
        hits: list[tuple[int, int, Any, float]] = []  # (match, claim id, stamp, rank)
        for first in range(0, len(matches), MAX_PARTS):
            part = matches[first : first + MAX_PARTS]
            params: dict[str, Any] = {f"q{i}": match for i, match in enumerate(part)}
            if exclude_articles:
                params["exclude"] = list(exclude_articles)
            statement = self._statement(len(part), bool(exclude_articles), limit)
            rows = (await session.execute(statement, params)).all()
            # Unpacked, not read by name: a Row's attribute lookup cost 3 µs, 17 times
            # unpacking, and a check reads hundreds of these rows between its LLM rounds.
            hits += [(first + q, claim_id, stamp, rank) for q, claim_id, stamp, rank in rows]

        # Resolved before anything is added: adding may evict entries this call needs.
        known: dict[tuple[int, Any], _Found] = {}
        missing: set[int] = set()
        for _, claim_id, stamp, _ in hits:
            if (claim_id, stamp) not in known:
                if (cached := self._found.get((claim_id, stamp))) is not None:
                    known[(claim_id, stamp)] = cached
                else:
                    missing.add(claim_id)
        ids = sorted(missing)
        for first in range(0, len(ids), MAX_READ):
            rows = await session.execute(self._read, {"ids": ids[first : first + MAX_READ]})
            for row in rows:
                found = _Found(claim_out(row), row.source, row.url, row.title)
                known[(row.id, row.stamp)] = self._found[(row.id, row.stamp)] = found
        results: list[list[Candidate]] = [[] for _ in queries]
        for match, claim_id, stamp, rank in sorted(hits, key=lambda h: (h[0], -h[3], h[1])):
            if (found := known.get((claim_id, stamp))) is None:
                continue  # deleted (or its id reused) between the two statements: no evidence
            results[asked[match]].append(
                Candidate(found.claim, found.source, found.url, found.title, float(rank))
            )
        return results

    def _statement(self, parts: int, exclude: bool, limit: int) -> TextClause:
        key = (parts, exclude, limit)
        if key not in self._statements:
            inner = _SQLITE_RANKED if self.sqlite else _PG_RANKED
            where = " AND claims.article_id NOT IN :exclude" if exclude else ""
            ranked = [
                _PART.format(i=i, ranked=inner[exclude].format(i=i, where=where, limit=int(limit)))
                for i in range(parts)
            ]
            statement = text("\nUNION ALL\n".join(ranked))
            if exclude:
                statement = statement.bindparams(bindparam("exclude", expanding=True))
            self._statements[key] = statement
        return self._statements[key]


# One claim's search, as SQL text: the hot path of every check, and SQLite plans it better
# written out (a bound LIMIT, or bm25 both selected and sorted on, cost it 40%). The index
# ranks its matches and keeps the best; only those rows are joined, for their stamps. With
# articles excluded, their claims must be dropped before the limit, so the join comes first.
_PART = (
    "SELECT {i} AS q, s.id AS id, claims.created_at AS stamp, s.rank AS rank "
    "FROM ({ranked}) AS s JOIN claims ON claims.id = s.id"
)
_SQLITE_RANKED = {
    # bm25 is lower-is-better; entities (third column) weigh double.
    False: "SELECT rowid AS id, -bm25(claims_fts, 1.0, 1.0, 2.0) AS rank FROM claims_fts "
    "WHERE claims_fts MATCH :q{i} ORDER BY rank DESC, rowid LIMIT {limit}",
    True: "SELECT claims.id AS id, -bm25(claims_fts, 1.0, 1.0, 2.0) AS rank "
    "FROM claims_fts JOIN claims ON claims.id = claims_fts.rowid "
    "WHERE claims_fts MATCH :q{i}{where} ORDER BY rank DESC, claims.id LIMIT {limit}",
}
_PG_RANKED = {
    exclude: "SELECT claims.id AS id, ts_rank(claims.search, query) AS rank "
    "FROM claims, to_tsquery('english', :q{i}) AS query "
    "WHERE claims.search @@ query{where} ORDER BY rank DESC, claims.id LIMIT {limit}"
    for exclude in (False, True)
}


def claim_out(row: Any) -> ClaimOut:
    """A claim from its ORM object or a plain result row (they share attribute names)."""
    return ClaimOut.model_validate(
        {
            "id": row.id,
            "article_id": row.article_id,
            "statement": row.statement,
            "quote": row.quote,
            "span": (row.span_start, row.span_end),
            "claimant": row.claimant,
            "entities": row.entities,
            "quantities": row.quantities,
            "time": row.time,
            "extractor": row.extractor,
            "model": row.model,
            "prompt_version": row.prompt_version,
        }
    )


__all__ = ["CACHE_CLAIMS", "ClaimSearch", "claim_out"]
