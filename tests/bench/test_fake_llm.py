"""The benchmark's fake LLM: the service's real extractor and judge (openai + instructor, every
mode) parse its answers, its quotes pass grounding, and its counters count what it served."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime

import httpx
import instructor
import pytest

from service.bench import driver, fake_answers
from service.bench.articles import ArticleFactory
from service.bench.fake_llm import FakeLLM, running, union_length
from service.bench.processes import BenchError
from service.bench.throughput import (
    Batch,
    ThroughputResults,
    _between_rounds,
    _between_rounds_note,
    _cores_needed,
    _floor,
    _phases,
    _service_cpu,
    _spans,
    throughput_table,
)
from service.llm.base import JudgePair
from service.llm.client import build_client
from service.llm.judge import LLMJudge
from service.llm.llm_extractor import LLMExtractor
from service.models import ArticleIn
from service.pipeline.extract import extract_claims
from service.settings import Settings
from tests.conftest import SEEDS

MODES = ["tools", "json", "json_schema", "md_json"]
Backends = Callable[..., tuple[LLMExtractor, LLMJudge]]
SEED_000 = (SEEDS / "000_645ecb53b1ed8b97.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[str, FakeLLM]]:
    with running() as server:
        yield server


@pytest.fixture
def llm(fake: tuple[str, FakeLLM]) -> tuple[str, FakeLLM]:
    url, app = fake
    app.stats = type(app.stats)()  # what POST /reset does
    return url, app


@pytest.fixture
async def backends(llm: tuple[str, FakeLLM]) -> AsyncIterator[Backends]:
    """backends(mode) -> (LLMExtractor, LLMJudge) on the fake server, as the factory builds
    them: one openai client, closed after the test."""
    clients: list[instructor.AsyncInstructor] = []

    def make(mode: str = "tools") -> tuple[LLMExtractor, LLMJudge]:
        values = {"llm_base_url": llm[0], "llm_api_key": "bench", "llm_mode": mode}
        settings = Settings(_env_file=None, seed_dir=None, **values)  # type: ignore[call-arg]
        clients.append(build_client(settings))
        return LLMExtractor(settings, client=clients[-1]), LLMJudge(settings, client=clients[-1])

    yield make
    for client in clients:
        await client.client.close()


@pytest.mark.parametrize("mode", MODES)
async def test_extraction_answers_parse_and_ground(
    llm: tuple[str, FakeLLM], backends: Backends, mode: str
) -> None:
    _, app = llm
    extractor, _ = backends(mode)
    article = ArticleIn(text=SEED_000, source="Wire", published_at=datetime(2024, 8, 13, 8))
    result = await extract_claims(article, extractor)

    assert len(result.claims) >= 8
    assert result.dropped == 0  # every quote is verbatim article text
    smirnov = next(c for c in result.claims if "12 people had been killed" in c.quote)
    assert smirnov.claimant == "Alexei Smirnov"
    assert [(q.value, q.measure) for q in smirnov.quantities] == [
        (12, "people killed"),
        (121, "people injured"),
    ]
    monday = next(c for c in result.claims if c.quote.startswith("Putin held a meeting"))
    assert monday.time is not None and monday.time.date.isoformat() == "2024-08-12"

    served = app.stats.extraction
    assert served.calls == result.usage.llm_calls == 1
    assert served.prompt_tokens == result.usage.prompt_tokens > 1000  # reported in `usage`
    assert served.completion_tokens == result.usage.completion_tokens > 0
    assert app.stats.judge.calls == 0


async def test_long_article_one_call_per_chunk(
    llm: tuple[str, FakeLLM], backends: Backends
) -> None:
    _, app = llm
    extractor, _ = backends()
    text = "\n\n".join(path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt")))
    result = await extract_claims(ArticleIn(text=text), extractor, chunk_tokens=800)

    assert result.usage.llm_calls == app.stats.extraction.calls >= 4
    assert result.dropped == 0


@pytest.mark.parametrize("mode", MODES)
async def test_judge_answers_every_pair(
    llm: tuple[str, FakeLLM], backends: Backends, mode: str
) -> None:
    _, app = llm
    _, judge = backends(mode)
    pairs = [
        JudgePair("c0-e1", "12 people were killed.", "12 were killed", "12 died.", "12 died"),
        JudgePair("c0-e2", "12 people were killed.", "12 were killed", "Putin met.", "He met"),
        JudgePair("c1-e1", "28 villages were taken.", "28 villages", "12 died.", "12 died"),
    ]
    judging = await judge.judge(pairs)

    relations = {j.pair_id: j.relation for j in judging.judgements}
    assert relations == {"c0-e1": "supports", "c0-e2": "unrelated", "c1-e1": "unrelated"}
    assert app.stats.judge.calls == judging.usage.llm_calls == 1
    assert app.stats.judge.prompt_tokens == judging.usage.prompt_tokens > 0
    assert app.stats.extraction.calls == 0


async def test_stats_reset_and_config_over_http(
    llm: tuple[str, FakeLLM], backends: Backends
) -> None:
    url, app = llm
    _, judge = backends()
    before = time.monotonic()
    await judge.judge([JudgePair("p", "1 a", "1 a", "1 b", "1 b")])
    after = time.monotonic()
    async with httpx.AsyncClient(base_url=url.removesuffix("/v1")) as client:
        stats = (await client.get("/stats")).json()
        assert stats["judge"]["calls"] == 1 and stats["max_in_flight"] == 1
        assert stats["busy_seconds"] > 0
        # On the machine-wide monotonic clock, so the benchmark can compare it with its own.
        [(kind, arrived, answered)] = stats["timeline"]
        # "answered" is taken once the server has sent the answer, which the client may
        # already hold: it can come after the client's own `after`.
        assert kind == "judge" and before <= arrived <= answered and arrived <= after
        assert (await client.post("/reset")).json()["judge"]["calls"] == 0
        config = (await client.post("/config", json={"judge_latency": 0.05})).json()
        assert config["judge_latency"] == 0.05
        refused = await client.post("/v1/chat/completions", json={"messages": []})
        assert refused.status_code == 400
    app.config.judge_latency = None
    assert app.stats.rejected == 1


def test_a_sentence_is_read_once_whatever_outlet_sends_it() -> None:
    # Every benchmark article has its own outlet; the sentences are the seeds'.
    def prompt(outlet: str) -> str:
        return f"Outlet: {outlet}\nPublication date: 2024-08-13\n<article>\n{SEED_000}\n</article>"

    fake_answers._read.cache_clear()
    first = fake_answers.claims(prompt("BenchWire1"))
    read = fake_answers._read.cache_info()
    second = fake_answers.claims(prompt("BenchWire2"))
    again = fake_answers._read.cache_info()
    assert first and len(second) == len(first)
    assert again.misses == read.misses  # nothing read twice
    assert all(c["statement"].startswith("According to BenchWire2, ") for c in second)
    assert [c["statement"][26:] for c in second] == [c["statement"][26:] for c in first]
    assert [c["quote"] for c in second] == [c["quote"] for c in first]


def test_union_counts_overlaps_once() -> None:
    assert union_length([(0, 2), (1, 3), (5, 6), (5.5, 5.7)]) == pytest.approx(4.0)
    assert union_length([]) == 0


def test_throughput_note_says_when_each_round_left() -> None:
    phases = _spans({"extraction calls": [0.5, 0.1], "judge calls": [1.2, 2.7], "answers": []})
    assert phases == {"extraction calls": (0.1, 0.5), "judge calls": (1.2, 2.7)}
    batch = Batch("SQLite", 2, 64, 4.0, [4.0], 128, 64, 1, 0, 0, 0.5, 0, 0, phases)
    note = _phases(ThroughputResults("SQLite", 2, 500, 2.1, 0.1, 2, [batch]), batch)
    assert note.endswith("extraction calls 0.10–0.50 s, judge calls 1.20–2.70 s")


def test_the_service_cpu_note_leaves_the_verdict_to_the_cpu_floor() -> None:
    # 64 checks, 5.12 s of service CPU, 2 workers: 80 ms a check, 2.56 s over 2 cores. That
    # alone would fit 1.3x of a 2.1 s check; the note must not say so (the floor decides).
    batch = Batch("SQLite", 2, 64, 4.0, [4.0], 128, 64, 5.12, 0, 0, 0.5, 0, 0, {})
    note = _service_cpu(ThroughputResults("SQLite", 2, 500, 2.1, 0.1, 2, [batch]), batch, 2)
    assert "5.12 s of service CPU (80 ms a check), 2.56 s spread over 2 core(s)" in note
    assert "target" not in note and "CPU floor" in note


def test_the_cpu_floor_counts_the_work_after_the_first_extraction_answer() -> None:
    # Machine CPU seconds sampled over a batch; the first extraction call left at 0.1 s, so its
    # answer came at 1.1 s at the earliest, and 104.2 - 101.0 s of work was done after it.
    busy = [(0.0, 100.0), (0.5, 100.5), (1.1, 101.0), (1.2, 101.2), (3.0, 104.2)]
    phases = {"extraction calls": (0.1, 0.5), "judge calls": (1.2, 2.7)}
    assert _floor(busy, phases, cores=2) == pytest.approx(1.1 + 3.2 / 2)
    assert _floor(busy, phases, cores=1) == pytest.approx(1.1 + 3.2)
    assert _floor(busy, {}, cores=2) is None  # no timeline: no floor


def test_cores_needed_spreads_the_floor_work_over_what_the_target_leaves(monkeypatch) -> None:
    # First extraction answer at 1.1 s, 3.2 core-seconds after it (floor 2.7 s on 2 cores); one
    # check 2.0 s, so 1.3x leaves 2.6 - 1.1 = 1.5 s: at least 3.2 / 1.5 = 2.13 cores.
    monkeypatch.setattr("service.bench.throughput.usable_cores", lambda: 2)
    phases = {"extraction calls": (0.1, 0.5), "judge calls": (1.2, 2.7)}
    batch = Batch("SQLite", 2, 64, 4.0, [4.0], 128, 64, 1, 0, 0, 0.5, 0, 0, phases, floor=2.7)
    assert _cores_needed(batch, 2.0, cores=2) == pytest.approx(3.2 / 1.5)
    table = throughput_table([ThroughputResults("SQLite", 2, 500, 2.0, 0.1, 2, [batch])])
    assert table.rows[0][table.columns.index("cores for ≤1.3×")] == "≥2.1"
    # No timeline, or a target that ends before the first answer: no figure.
    assert (
        _cores_needed(Batch("SQLite", 2, 64, 4.0, [4.0], 128, 64, 1, 0, 0, 0.5, 0, 0, {}), 2.0, 2)
        is None
    )
    assert _cores_needed(batch, 0.8, cores=2) is None


def test_between_the_rounds_is_the_work_from_first_extraction_answer_to_last_judge_call():
    busy = [(0.0, 100.0), (1.0, 100.4), (1.2, 101.0), (2.0, 102.5), (2.3, 103.0), (3.0, 103.2)]
    phases = {"extraction calls": (0.1, 0.5), "judge calls": (1.2, 2.1)}
    # The answer came at 1.1 s (sample at 1.0 s), the last judge call left at 2.1 s (sample
    # at 2.0 s): 102.5 - 100.4 s of work.
    start, end, cpu = _between_rounds(busy, phases)
    assert (start, end, cpu) == (pytest.approx(1.1), 2.1, pytest.approx(2.1))
    assert _between_rounds(busy, {"extraction calls": (0.1, 0.5)}) is None
    batch = Batch("SQLite", 2, 64, 4.0, [4.0], 128, 64, 1, 0, 0, 0.5, 0, 0, phases)
    batch.between_rounds = (start, end, cpu)
    note = _between_rounds_note(ThroughputResults("SQLite", 2, 500, 2.0, 0.1, 2, [batch]), batch, 2)
    assert "did 2.10 s of CPU work (33 ms a check), 105% of its 2 cores" in note
    assert note.endswith("the last one had to leave by 1.60 s")


def test_the_table_shows_stolen_cpu_and_warns_when_the_hypervisor_took_much(
    monkeypatch,
) -> None:
    monkeypatch.setattr("service.bench.throughput.usable_cores", lambda: 2)
    calm = Batch("SQLite", 2, 16, 2.5, [2.5], 32, 16, 1, 0, 0, 0.5, 0, 0, {}, stolen_cpu=0.2)
    robbed = Batch("SQLite", 2, 64, 4.0, [4.0], 128, 64, 5, 0, 0, 0.5, 0, 0, {}, stolen_cpu=0.8)
    table = throughput_table([ThroughputResults("SQLite", 2, 500, 2.0, 0.1, 2, [calm, robbed])])
    column = table.columns.index("CPU stolen")
    assert [row[column] for row in table.rows] == ["0.20 s", "0.80 s"]
    # 0.2 s of 2 cores x 2.5 s is 4%: no warning; 0.8 s of 2 x 4 s is 10%.
    warnings = [n for n in table.notes if n.startswith("WARNING: the hypervisor")]
    assert len(warnings) == 1
    assert "SQLite 2 worker(s) × 64 (10%)" in warnings[0] and "× 16" not in warnings[0]


async def test_checks_in_flight_each_get_a_connection_of_their_own() -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):  # no body: GETs
                await asyncio.sleep(0.05)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
                await writer.drain()
        except asyncio.IncompleteReadError:  # the client closed the connection
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(slow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    bench = driver.Driver(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}")
    transport = bench.checks._transport
    try:
        await asyncio.gather(*(bench.checks.get("/") for _ in range(3)))
        assert (transport.idle, transport.busy) == (3, 0)  # three at once: three connections
        await bench.checks.get("/")
        assert transport.idle == 3  # one alone reuses one of them
    finally:
        await bench.close()
        server.close()
        await asyncio.sleep(0.05)  # the handlers see the connections close


async def test_a_check_that_gets_no_answer_is_a_bench_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A service that takes the request and never answers: the run stops with a readable
    # error after the patience, instead of hanging for as long as the client allows.
    done = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await done.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setattr(driver, "CHECK_PATIENCE", 0.3)
    bench = driver.Driver(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}")
    article = ArticleFactory(SEEDS).make(300)
    try:
        started = time.monotonic()
        with pytest.raises(BenchError, match=rf"check {article.serial} got no answer"):
            await bench.check(article)
        assert time.monotonic() - started < 5
    finally:
        await bench.close()
        done.set()
        server.close()
        await server.wait_closed()


async def test_a_service_that_is_gone_is_a_bench_error() -> None:
    bench = driver.Driver("http://127.0.0.1:9", "http://127.0.0.1:9")
    try:
        with pytest.raises(BenchError, match="got no answer: ConnectError"):
            await bench.check(ArticleFactory(SEEDS).make(300))
    finally:
        await bench.close()
