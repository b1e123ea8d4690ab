"""Concurrency on both databases, against real servers: many requests in flight at once.

Two instances of the service share one database, each with its own app, uvicorn server, event
loop (in a thread of its own) and database pool, like the processes of `serve --workers 2`. One
httpx client sends a whole burst at once, alternating between them. The apps run on the real
SQL store with a counter around `add_article`: the first callers wait there until `hold` of
them are inside, so the race on an article's unique content hash really happens, and the test
can show it did. An ASGI counter shows how many HTTP requests were in flight together.

Afterwards the database is read directly: one row per article, and every article holds exactly
the claims the offline extractor gives for its text, none twice, none missing.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from litestar.testing import AsyncTestClient
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.app import create_app
from service.llm.offline import OfflineExtractor
from service.models import ArticleIn, ClaimData
from service.pipeline.extract import extract_claims
from service.pipeline.ingest import content_hash
from service.settings import Settings
from service.store import db
from service.store.sql import SqlStore
from service.store.tables import ArticleRow, CheckRow, ClaimRow, ExtractionRow
from tests.conftest import PG_URL, engine_for, make_settings

INSTANCES = 2
HOLD_SECONDS = 5.0  # how long the first add_article callers wait for the others to arrive
PUBLISHED = "2024-08-13T08:00:00Z"


class Overlap:
    """How many callers are inside a section at once, across threads. With `hold`, callers
    wait inside until `hold` of them are in at the same time (or HOLD_SECONDS pass)."""

    def __init__(self) -> None:
        self.hold = 0
        self.inside = 0
        self.peak = 0
        self.entered = 0
        self._lock = threading.Lock()

    @asynccontextmanager
    async def section(self) -> AsyncIterator[None]:
        with self._lock:
            self.inside += 1
            self.entered += 1
            self.peak = max(self.peak, self.inside)
        try:
            deadline = time.monotonic() + HOLD_SECONDS
            # Polled: the callers run on the event loops of several threads, and an
            # asyncio.Event belongs to one loop.
            while self.peak < self.hold and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
            yield
        finally:
            with self._lock:
                self.inside -= 1


@dataclass
class Traffic:
    """HTTP requests in flight, by kind, and the most of each kind in flight together."""

    inside: Counter[str] = field(default_factory=Counter)
    peak: Counter[str] = field(default_factory=Counter)
    # The most check requests in flight while at least one ingest was, and vice versa.
    mixed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, app: ASGIApp) -> ASGIApp:
        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["method"] != "POST":
                await app(scope, receive, send)
                return
            kind = "articles" if scope["path"].startswith("/v1/articles") else "checks"
            self._enter(kind, +1)
            try:
                await app(scope, receive, send)
            finally:
                self._enter(kind, -1)

        return counted

    def _enter(self, kind: str, step: int) -> None:
        with self.lock:
            self.inside[kind] += step
            self.inside["all"] += step
            for key in (kind, "all"):
                self.peak[key] = max(self.peak[key], self.inside[key])
            both = min(self.inside["articles"], self.inside["checks"])
            self.mixed = max(self.mixed, both)


class RacingStore(SqlStore):
    """The real SQL store; add_article counts its overlapping callers and who lost the race."""

    def __init__(self, engine: AsyncEngine, inserts: Overlap, outcomes: Counter[str]) -> None:
        super().__init__(engine)
        self.inserts = inserts
        self.outcomes = outcomes

    async def add_article(self, article, content_hash, claims):  # type: ignore[no-untyped-def]
        async with self.inserts.section():
            stored, created = await super().add_article(article, content_hash, claims)
        self.outcomes["created" if created else "existing"] += 1
        return stored, created


@dataclass
class Cluster:
    urls: list[str]
    traffic: Traffic
    inserts: Overlap
    outcomes: Counter[str]
    settings: Settings

    async def send(
        self, requests: list[tuple[str, dict[str, Any], dict[str, str]]]
    ) -> list[httpx.Response]:
        """Every request at once, spread over the instances; the responses in order."""
        limits = httpx.Limits(max_connections=len(requests) + 10)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            return await asyncio.gather(
                *(
                    client.post(f"{self.urls[n % len(self.urls)]}{path}", json=body, headers=hdrs)
                    for n, (path, body, hdrs) in enumerate(requests)
                )
            )


def _service_engine(database_url: str) -> AsyncEngine:
    """A pooled engine, as the service builds one (conftest's engines open one per use)."""
    if "#schema=" in database_url:
        schema = database_url.split("#schema=")[1]
        return db.create_engine(PG_URL, server_settings={"search_path": schema})
    return db.create_engine(database_url)


@pytest.fixture
def cluster(database_url: str) -> Iterator[Cluster]:
    settings = make_settings(rate_limit_per_minute=0, job_poll_seconds=0.05)
    traffic, inserts, outcomes = Traffic(), Overlap(), Counter[str]()
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []
    urls = []
    try:
        for n in range(INSTANCES):
            store = RacingStore(_service_engine(database_url), inserts, outcomes)
            app = traffic.wrap(create_app(settings, store=store))
            config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
            server = uvicorn.Server(config)
            thread = threading.Thread(target=server.run, name=f"instance-{n}", daemon=True)
            thread.start()
            servers.append((server, thread))
            deadline = time.monotonic() + 20
            while not server.started:
                assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
                time.sleep(0.01)
            port = server.servers[0].sockets[0].getsockname()[1]
            urls.append(f"http://127.0.0.1:{port}")
        yield Cluster(urls, traffic, inserts, outcomes, settings)
    finally:
        for server, _ in servers:
            server.should_exit = True
        for _, thread in servers:
            thread.join(timeout=30)
            assert not thread.is_alive(), "server did not stop"


async def expected_claims(article: ArticleIn, settings: Settings) -> list[ClaimData]:
    """What the offline extractor gives for this article: the oracle for stored claims."""
    result = await extract_claims(
        article,
        OfflineExtractor(),
        chunk_tokens=settings.chunk_tokens,
        concurrency=settings.llm_concurrency,
    )
    assert result.claims, "a test article without claims proves nothing"
    return result.claims


def identity(claims: list[Any]) -> list[tuple[int, int, str]]:
    """Claims (models or JSON) as sorted (span start, span end, statement)."""
    out = []
    for claim in claims:
        data = claim if isinstance(claim, dict) else claim.model_dump(mode="json")
        out.append((data["span"][0], data["span"][1], data["statement"]))
    return sorted(out)


async def stored_state(database_url: str) -> tuple[dict[str, ArticleRow], dict[int, list]]:
    """Articles by content hash, and every claim row by article id, read directly."""
    engine = engine_for(database_url)
    try:
        async with engine.connect() as conn:
            articles = (await conn.execute(select(ArticleRow))).all()
            claims = (await conn.execute(select(ClaimRow))).all()
            duplicates = (
                await conn.execute(
                    select(ClaimRow.article_id, ClaimRow.span_start, ClaimRow.statement)
                    .group_by(
                        ClaimRow.article_id,
                        ClaimRow.span_start,
                        ClaimRow.span_end,
                        ClaimRow.statement,
                    )
                    .having(func.count() > 1)
                )
            ).all()
    finally:
        await engine.dispose()
    assert duplicates == [], f"claims stored twice: {duplicates}"
    by_hash: dict[str, Any] = {}
    for row in articles:
        assert row.content_hash not in by_hash, f"article stored twice: {row.content_hash}"
        by_hash[row.content_hash] = row
    by_article: dict[int, list] = defaultdict(list)
    for row in claims:
        by_article[row.article_id].append(row)
    for row in by_hash.values():
        for claim in by_article[row.id]:  # every quote is the stored text at its offsets
            assert row.text[claim.span_start : claim.span_end] == claim.quote
    return by_hash, by_article


def claim_rows_identity(rows: list) -> list[tuple[int, int, str]]:
    """Claim rows as sorted (span start, span end, statement), to compare with `identity`."""
    return sorted((r.span_start, r.span_end, r.statement) for r in rows)


async def count(database_url: str, query) -> int:  # type: ignore[no-untyped-def]
    engine = engine_for(database_url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(query)).scalar_one()
    finally:
        await engine.dispose()


async def test_fifty_concurrent_posts_of_one_article_store_it_once(
    cluster: Cluster, database_url: str, seed_texts: dict[str, str]
) -> None:
    text = seed_texts["000_645ecb53b1ed8b97"]
    body = {"text": text, "source": "NHK", "published_at": PUBLISHED}
    cluster.inserts.hold = 10  # ten posts reach the insert together before any commits

    responses = await cluster.send([("/v1/articles", body, {})] * 50)

    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {200, 201}, [r.text for r in responses if r.status_code >= 300][:3]
    assert statuses[201] == 1, statuses
    bodies = [r.json() for r in responses]
    assert len({b["id"] for b in bodies}) == 1
    assert all(b["claims"] == bodies[0]["claims"] for b in bodies)  # the same claims, same ids

    # The requests overlapped: many in flight on the two servers, and ten (at least) inside
    # add_article at once, of which all but one found the hash taken by the unique constraint.
    assert cluster.traffic.peak["articles"] >= 10, cluster.traffic.peak
    assert cluster.inserts.peak >= 10, cluster.inserts.peak
    assert cluster.outcomes["created"] == 1
    assert cluster.outcomes["existing"] >= 9, cluster.outcomes

    expected = await expected_claims(ArticleIn.model_validate(body), cluster.settings)
    articles, claims = await stored_state(database_url)
    assert list(articles) == [content_hash(text)]
    (article,) = articles.values()
    assert article.id == bodies[0]["id"]
    assert claim_rows_identity(claims[article.id]) == identity(expected)
    assert identity(bodies[0]["claims"]) == identity(expected)
    assert await count(database_url, select(func.count()).select_from(ClaimRow)) == len(expected)
    extractions = select(func.count()).select_from(ExtractionRow)
    assert await count(database_url, extractions) == 1


@dataclass
class Plan:
    """The texts of the mixed test, by role, with the metadata every request of a text sends."""

    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    ingested: list[str] = field(default_factory=list)  # POST /v1/articles (and some checks)
    checked_new: list[str] = field(default_factory=list)  # only checked, with store=true
    checked_only: list[str] = field(default_factory=list)  # only checked, with store=false

    def add(self, name: str, text: str, role: list[str]) -> None:
        self.bodies[name] = {"text": text, "source": f"outlet {name}", "published_at": PUBLISHED}
        role.append(name)


def mixed_plan(seed_texts: dict[str, str]) -> Plan:
    """Five seeds and three variants of each: with an update (ingested), the first half in
    reverse order (checked and stored), the first half with another update (checked only).
    Halves keep the test fast: a check costs in proportion to its claims."""
    plan = Plan()
    for n, (stem, text) in enumerate(seed_texts.items()):
        paragraphs = [line for line in text.splitlines() if line.strip()]
        half = paragraphs[: len(paragraphs) // 2]
        plan.add(stem, text, plan.ingested)
        update = f"Officials said {40 + n} more people had been evacuated from Sudzha on Tuesday."
        plan.add(f"{stem}+update", f"{text.rstrip()}\n\n{update}\n", plan.ingested)
        plan.add(f"{stem}+reordered", "\n\n".join(reversed(half)), plan.checked_new)
        other = f"The governor said {200 + n} homes had been damaged in Belgorod on Monday."
        plan.add(f"{stem}+other", "\n\n".join([*half, other]), plan.checked_only)
    assert len({content_hash(b["text"]) for b in plan.bodies.values()}) == len(plan.bodies)
    return plan


async def test_checks_while_articles_are_ingested_lose_and_duplicate_no_claims(
    cluster: Cluster, database_url: str, seed_texts: dict[str, str]
) -> None:
    plan = mixed_plan(seed_texts)
    articles, checks = "/v1/articles", "/v1/checks"
    sent: list[tuple[str, str, dict[str, Any], dict[str, str]]] = []  # (name, path, body, hdrs)
    for name in plan.ingested:
        sent += [(name, articles, plan.bodies[name], {})] * 3
        # A check of the same text, stored and not, while it is being ingested.
        sent.append((name, checks, {**plan.bodies[name], "store": name in seed_texts}, {}))
    for name in plan.checked_new:
        sent.append((name, checks, {**plan.bodies[name], "store": True}, {}))
        # The same text again, as a job the workers of both instances race to run.
        sent.append((name, checks, plan.bodies[name], {"Prefer": "respond-async"}))
    for name in plan.checked_only:
        sent.append((name, checks, {**plan.bodies[name], "store": False}, {}))
    random.Random(6).shuffle(sent)
    cluster.inserts.hold = 4

    responses = await cluster.send([(path, body, hdrs) for _, path, body, hdrs in sent])

    failed = [(r.status_code, r.text[:300]) for r in responses if r.status_code not in {200, 201}]
    assert all(r.status_code == 202 for r in responses if r.status_code not in {200, 201}), failed
    # Checks and ingests really ran together, on both instances.
    assert cluster.traffic.peak["articles"] >= 10, cluster.traffic.peak
    assert cluster.traffic.peak["checks"] >= 10, cluster.traffic.peak
    assert cluster.traffic.mixed >= 5, cluster.traffic.mixed
    assert cluster.inserts.peak >= 4, cluster.inserts.peak

    reports = await finished_reports(cluster, sent, responses)
    expected = {
        name: await expected_claims(ArticleIn.model_validate(body), cluster.settings)
        for name, body in plan.bodies.items()
    }
    stored, claims = await stored_state(database_url)
    stored_names = plan.ingested + plan.checked_new
    assert set(stored) == {content_hash(plan.bodies[n]["text"]) for n in stored_names}
    ids = {n: stored[content_hash(plan.bodies[n]["text"])].id for n in stored_names}
    for name in stored_names:  # exactly the extraction's claims: none lost, none twice
        assert claim_rows_identity(claims[ids[name]]) == identity(expected[name]), name
    total = sum(len(expected[n]) for n in stored_names)
    assert await count(database_url, select(func.count()).select_from(ClaimRow)) == total
    assert await count(database_url, select(func.count()).select_from(ExtractionRow)) == len(
        plan.bodies
    )

    # Every ingest of one text answered the one stored article; it was created once (by an
    # ingest, unless a stored check of the same text came first).
    for name in plan.ingested:
        ingests = [
            r
            for (n, path, _, _), r in zip(sent, responses, strict=True)
            if n == name and path == articles
        ]
        assert {r.json()["id"] for r in ingests} == {ids[name]}
        created = sum(r.status_code == 201 for r in ingests)
        assert created == 1 if name not in seed_texts else created <= 1, (name, created)

    claim_ids = {
        ids[n]: {(c.span_start, c.span_end, c.statement): c.id for c in claims[ids[n]]}
        for n in stored_names
    }
    for name, body, report in reports:
        assert report["status"] == "done", report
        assert identity(report["claims"]) == identity(expected[name]), name
        summary = report["summary"]
        verdicts = sum(summary[v] for v in ("supported", "conflicting", "mixed", "unverified"))
        assert summary["claims"] == verdicts == len(report["claims"]) == len(expected[name])
        stored_id = ids.get(name)
        if body.get("store", True):
            assert report["article_id"] == stored_id, (name, report["article_id"])
        else:  # unless the same text was stored already when the check started
            assert report["article_id"] in {None, stored_id}, (name, report["article_id"])
        for claim in report["claims"]:
            key = (claim["span"][0], claim["span"][1], claim["statement"])
            own = claim_ids[stored_id][key] if report["article_id"] else None
            assert claim["id"] == own, (name, claim)
            for citation in claim["citations"]:  # evidence only from other articles, even
                assert citation["article_id"] != stored_id, (name, claim)  # one stored meanwhile

    checks_made = sum(path == checks for _, path, _, _ in sent)
    done = select(func.count()).select_from(CheckRow).where(CheckRow.status == "done")
    assert await count(database_url, done) == checks_made == len(reports)


async def finished_reports(
    cluster: Cluster, sent: list, responses: list[httpx.Response]
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(text name, request body, report) of every check: synchronous ones as answered and as
    stored; jobs once a worker has finished them."""
    out = []
    async with httpx.AsyncClient(base_url=cluster.urls[0], timeout=30) as client:
        for (name, path, body, _), response in zip(sent, responses, strict=True):
            if path != "/v1/checks":
                continue
            report = response.json()
            if response.status_code == 202:
                deadline = time.monotonic() + 20
                while report["status"] in ("queued", "running"):
                    assert time.monotonic() < deadline, f"job {report['id']} never finished"
                    await asyncio.sleep(0.05)
                    report = (await client.get(f"/v1/checks/{report['id']}")).json()
            else:
                again = (await client.get(f"/v1/checks/{report['id']}")).json()
                assert again == report
            out.append((name, body, report))
    return out


# Two races the first version of the tests above found, reproduced deterministically: a check
# citing its own text stored meanwhile, and cached spans reused for another wrapping of a text.


class StoredMidCheck(SqlStore):
    """The real store, with `article` ingested by someone else just as a check starts looking
    for evidence: what a concurrent POST /v1/articles of the same text does."""

    def __init__(self, engine: AsyncEngine, article: ArticleIn, claims: list[ClaimData]) -> None:
        super().__init__(engine)
        self.pending: tuple[ArticleIn, list[ClaimData]] | None = (article, claims)

    async def search_claims(self, queries, exclude_articles, limit):  # type: ignore[no-untyped-def]
        if self.pending is not None:
            (article, claims), self.pending = self.pending, None
            await self.add_article(article, content_hash(article.text), claims)
        return await super().search_claims(queries, exclude_articles, limit)


async def test_text_stored_while_its_check_runs_is_not_its_own_evidence(
    database_url: str, seed_texts: dict[str, str]
) -> None:
    settings = make_settings()
    draft = ArticleIn(text=seed_texts["002_53ffd6e50b0f3c6f"], source="draft")
    store = StoredMidCheck(engine_for(database_url), draft, await expected_claims(draft, settings))
    for stem in ("000_645ecb53b1ed8b97", "001_ffa75115645ef01b"):  # other outlets' evidence
        other = ArticleIn(text=seed_texts[stem], source=stem)
        await store.add_article(
            other, content_hash(other.text), await expected_claims(other, settings)
        )
    app = create_app(settings, store=store)
    async with AsyncTestClient(app) as client:
        response = await client.post("/v1/checks", json={**draft.model_dump(), "store": True})
    assert response.status_code == 200, response.text
    report = response.json()
    assert store.pending is None  # the same text was stored while the check ran
    cited = {c["article_id"] for claim in report["claims"] for c in claim["citations"]}
    assert cited, "the check found no evidence at all"
    assert report["article_id"] not in cited


async def test_concurrent_posts_of_rewrapped_copies_keep_quotes_on_the_stored_text(
    client: AsyncTestClient, seed_texts: dict[str, str]
) -> None:
    text = seed_texts["000_645ecb53b1ed8b97"]
    rewrapped = "  " + text.replace("\n", "\n   ").replace(". ", ".  ")
    assert content_hash(rewrapped) == content_hash(text)  # the same article, whitespace aside
    checked = await client.post("/v1/checks", json={"text": rewrapped, "store": False})
    assert checked.status_code == 200
    copies = [text, rewrapped] * 5
    responses = await asyncio.gather(
        *(client.post("/v1/articles", json={"text": copy}) for copy in copies)
    )
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    article = responses[0].json()
    assert article["claims"]
    for claim in article["claims"]:
        start, end = claim["span"]
        assert article["text"][start:end] == claim["quote"], claim
