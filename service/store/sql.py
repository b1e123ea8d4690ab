"""The SQL store (SQLite by default, PostgreSQL in production) behind the Store interface."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.errors import NotFound, StoreUnavailable
from service.models import (
    ArticleIn,
    ArticleOut,
    ArticleSummary,
    CheckReport,
    ClaimData,
    Page,
)
from service.store import db, jobs, terms
from service.store.base import CachedJudgement, Candidate, ExtractionKey
from service.store.search import ClaimSearch, claim_out
from service.store.tables import (
    ArticleRow,
    CheckRow,
    ClaimRow,
    ExtractionRow,
    JudgementRow,
    utcnow,
)
from service.store.texts import ArticleTexts
from service.store.writes import Writers

# Errors that mean "the database is not there", as opposed to a bug in a query.
_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout, OSError, TimeoutError)
_WORD = re.compile(r"^\w+$")


class SqlStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # Reads on PostgreSQL run without BEGIN and COMMIT, two round trips of each session
        # that bought nothing: at READ COMMITTED every statement takes its own snapshot inside
        # a transaction too. On SQLite a read transaction is one snapshot (and switching
        # modes would cost a trip to the connection's thread), so reads keep theirs.
        self._reads = (
            self._sessions
            if engine.dialect.name == "sqlite"
            else async_sessionmaker(
                engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
            )
        )
        self._insert = db.insert_for(engine.dialect.name)
        self._search = ClaimSearch(engine.dialect.name)
        self._texts = ArticleTexts()
        self._writers = Writers(serial=engine.dialect.name == "sqlite")

    @classmethod
    def from_url(cls, url: str) -> SqlStore:
        return cls(db.create_engine(url))

    def _session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session that only reads (writers use _writing)."""
        return guarded_session(self._reads)

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        """A session for a transaction that writes: on SQLite, after this process's previous
        writers (service.store.writes)."""
        async with self._writers.turn(), guarded_session(self._sessions) as session:
            yield session

    async def add_article(
        self, article: ArticleIn, content_hash: str, claims: list[ClaimData]
    ) -> tuple[ArticleOut, bool]:
        async with self._writing() as session:
            inserted = await session.execute(
                self._insert(ArticleRow)
                .values(
                    text=article.text,
                    title=article.title,
                    url=article.url,
                    source=article.source,
                    published_at=article.published_at,
                    content_hash=content_hash,
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["content_hash"])
                .returning(ArticleRow.id)
            )
            article_id = inserted.scalar_one_or_none()
            if article_id is not None:
                session.add_all(_claim_row(article_id, claim) for claim in claims)
                counts = terms.tally((c.statement, c.quote, c.entities) for c in claims)
                await terms.add_counts(session, self._insert, counts)
        if article_id is None:
            existing = await self.find_article(content_hash)
            if existing is None:  # deleted between our insert and this read
                raise StoreUnavailable("article changed concurrently; retry the request")
            return existing, False
        return await self.get_article(article_id), True

    async def find_article(self, content_hash: str) -> ArticleOut | None:
        async with self._session() as session:
            row = await session.scalar(
                select(ArticleRow).where(ArticleRow.content_hash == content_hash)
            )
            return await _article_out(session, row) if row else None

    async def article_id(self, content_hash: str) -> int | None:
        async with self._session() as session:
            return await session.scalar(
                select(ArticleRow.id).where(ArticleRow.content_hash == content_hash)
            )

    async def cached_extraction(self, key: ExtractionKey) -> tuple[list[ClaimData], int] | None:
        async with self._session() as session:
            row = await session.scalar(
                select(ExtractionRow).where(
                    ExtractionRow.content_hash == key.content_hash,
                    ExtractionRow.extractor == key.extractor,
                    ExtractionRow.model == (key.model or ""),
                    ExtractionRow.prompt_version == (key.prompt_version or ""),
                )
            )
            if row is None:
                return None
            return [ClaimData.model_validate(c) for c in row.claims], row.dropped

    async def cache_extraction(
        self, key: ExtractionKey, claims: list[ClaimData], dropped: int
    ) -> None:
        async with self._writing() as session:
            await session.execute(
                self._insert(ExtractionRow)
                .values(
                    content_hash=key.content_hash,
                    extractor=key.extractor,
                    model=key.model or "",
                    prompt_version=key.prompt_version or "",
                    claims=[c.model_dump(mode="json") for c in claims],
                    dropped=dropped,
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing()
            )

    async def cached_judgements(self, keys: Collection[str]) -> dict[str, CachedJudgement]:
        if not keys:
            return {}
        async with self._session() as session:
            rows = await session.scalars(
                select(JudgementRow).where(JudgementRow.key.in_(list(keys)))
            )
            return {
                row.key: CachedJudgement(
                    row.relation, row.explanation, row.model or None, row.prompt_version or None
                )
                for row in rows
            }

    async def cache_judgements(self, judgements: dict[str, CachedJudgement]) -> None:
        if not judgements:
            return
        now = utcnow()
        rows = [
            {
                "key": key,
                "relation": j.relation,
                "explanation": j.explanation,
                "model": j.model or "",
                "prompt_version": j.prompt_version or "",
                "created_at": now,
            }
            # Sorted: a check's judge batches (and other checks) write overlapping keys at
            # once, and unique-index waits taken in different orders deadlocked on PostgreSQL.
            for key, j in sorted(judgements.items())
        ]
        async with self._writing() as session:  # executemany: compiled once, not per batch
            await session.execute(self._insert(JudgementRow).on_conflict_do_nothing(), rows)

    async def get_article(self, article_id: int) -> ArticleOut:
        async with self._session() as session:
            row = await session.get(ArticleRow, article_id)
            if row is None:
                raise NotFound(f"article {article_id} not found")
            return await _article_out(session, row)

    async def list_articles(self, limit: int, offset: int) -> Page:
        counts = (
            select(ClaimRow.article_id, func.count().label("n"))
            .group_by(ClaimRow.article_id)
            .subquery()
        )
        async with self._session() as session:
            total = await session.scalar(select(func.count()).select_from(ArticleRow)) or 0
            rows = await session.execute(
                select(ArticleRow, func.coalesce(counts.c.n, 0))
                .outerjoin(counts, counts.c.article_id == ArticleRow.id)
                .order_by(ArticleRow.created_at.desc(), ArticleRow.id.desc())
                .limit(limit)
                .offset(offset)
            )
            items = [_summary(row, n) for row, n in rows.all()]
        return Page(items=items, total=total, limit=limit, offset=offset)

    async def delete_article(self, article_id: int) -> None:
        async with self._writing() as session:
            # Claims go explicitly, not only by cascade, so no backend setting can leave
            # orphaned evidence behind (and their words are counted out).
            gone = await session.execute(
                delete(ClaimRow)
                .where(ClaimRow.article_id == article_id)
                .returning(ClaimRow.statement, ClaimRow.quote, ClaimRow.entities)
            )
            await terms.add_counts(session, self._insert, terms.tally(gone.all()), sign=-1)
            result = await session.execute(delete(ArticleRow).where(ArticleRow.id == article_id))
            if result.rowcount == 0:
                raise NotFound(f"article {article_id} not found")

    async def search_claims(
        self, queries: Sequence[list[str]], exclude_articles: Collection[int], limit: int
    ) -> list[list[Candidate]]:
        # Search terms reach the FTS query syntax only as plain words: no input injects
        # operators. A claim with no word worth asking for costs nothing.
        cleaned = [list(dict.fromkeys(t.lower() for t in q if _WORD.match(t))) for q in queries]
        if not any(cleaned):
            return [[] for _ in cleaned]
        async with self._session() as session:
            return await self._search.run(session, cleaned, sorted(exclude_articles), limit)

    async def article_texts(self, article_ids: Collection[int]) -> dict[int, str]:
        if not article_ids:
            return {}
        async with self._session() as session:
            return await self._texts.read(session, article_ids)

    async def save_check(self, report: CheckReport) -> CheckReport:
        # One INSERT: the stored report leaves its id to the row (every read takes the id,
        # status and error from the row: jobs.progress), so no flush-then-UPDATE for it.
        # A synchronous check saves its report at the end of its work, and under a burst
        # that second statement was the larger part of a save's CPU.
        async with self._writing() as session:
            check_id = await session.scalar(
                insert(CheckRow)
                .values(
                    article_id=report.article_id,
                    status=report.status,
                    error=report.error,
                    created_at=report.created_at,
                    finished_at=report.finished_at,
                    report=report.model_dump(mode="json", exclude={"id"}),
                )
                .returning(CheckRow.id)
            )
        return report.model_copy(update={"id": check_id})

    async def finish_check(self, check_id: int, report: CheckReport) -> CheckReport:
        async with self._writing() as session:
            row = await session.get(CheckRow, check_id, with_for_update=True)
            if row is None:
                raise NotFound(f"check {check_id} not found")
            saved = report.model_copy(update={"id": row.id, "created_at": row.created_at})
            jobs.finish(row, saved)
        return saved

    async def get_check(self, check_id: int) -> CheckReport:
        async with self._session() as session:
            row = await session.get(CheckRow, check_id)
            if row is None or row.report is None:
                raise NotFound(f"check {check_id} not found")
            # The article may have been deleted since; the report keeps what it cited.
            # A job's row holds its current status, error and delivery; its report, until it
            # is done, holds what is already known (id, extractor, created_at).
            return CheckReport.model_validate(
                {**row.report, "article_id": row.article_id, **jobs.progress(row)}
            )

    async def count_checks(self, status: str) -> int:
        async with self._session() as session:
            query = select(func.count()).select_from(CheckRow).where(CheckRow.status == status)
            return (await session.execute(query)).scalar_one()

    async def ready(self) -> tuple[str | None, str]:
        try:
            current = await db.current_revision(self.engine)
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"database unavailable: {_reason(exc)}") from exc
        return current, db.head_revision()

    async def close(self) -> None:
        await self.engine.dispose()


@asynccontextmanager
async def guarded_session(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session in a transaction; an unreachable database becomes StoreUnavailable (503)."""
    try:
        async with sessions() as session, session.begin():
            yield session
    except _UNAVAILABLE as exc:
        raise StoreUnavailable(f"database unavailable: {_reason(exc)}") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailable(f"database connection lost: {_reason(exc)}") from exc
        raise


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):  # its cause is only the cancelled wait
        return "no answer within the timeout (service.store.db)"
    cause = getattr(exc, "orig", None) or exc.__cause__ or exc
    return f"{type(cause).__name__}: {cause}".splitlines()[0][:300]


def _claim_row(article_id: int, claim: ClaimData) -> ClaimRow:
    data = claim.model_dump(mode="json")
    start, end = data.pop("span")
    return ClaimRow(article_id=article_id, span_start=start, span_end=end, **data)


async def _article_out(session: AsyncSession, row: ArticleRow) -> ArticleOut:
    claims = await session.scalars(
        select(ClaimRow).where(ClaimRow.article_id == row.id).order_by(ClaimRow.span_start)
    )
    return ArticleOut(
        id=row.id,
        text=row.text,
        title=row.title,
        url=row.url,
        source=row.source,
        published_at=row.published_at,
        content_hash=row.content_hash,
        created_at=row.created_at,
        claims=[claim_out(claim) for claim in claims],
    )


def _summary(row: ArticleRow, claim_count: int) -> ArticleSummary:
    return ArticleSummary(
        id=row.id,
        title=row.title,
        url=row.url,
        source=row.source,
        published_at=row.published_at,
        content_hash=row.content_hash,
        created_at=row.created_at,
        claim_count=claim_count,
    )
