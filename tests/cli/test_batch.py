"""`factcheck check` against a real server: uvicorn in a thread, temporary SQLite, offline
extractor. A recording ASGI wrapper counts requests and can script failures."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import respx
import uvicorn
from typer.testing import CliRunner

from service.app import create_app
from service.batch import checkers
from service.batch.checkers import ApiChecker, CheckFailed, RetryPolicy
from service.cli import app
from service.models import CheckIn, CheckReport
from service.store import db
from tests.conftest import SEEDS, make_settings

runner = CliRunner()
SEED_002 = "002_53ffd6e50b0f3c6f"
PUBLISHED = "2024-08-13T08:00:00Z"
FAST = RetryPolicy(attempts=3, first_wait=0.01, max_wait=0.05)


@dataclass
class Recorder:
    """ASGI wrapper: records each request; answers scripted statuses to the next checks."""

    app: object
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    script: list[tuple[int, str]] = field(default_factory=list)  # (status, Retry-After)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            self.requests.append((scope["method"], scope["path"], headers))
            if scope["path"] == "/v1/checks" and self.script:
                status, retry_after = self.script.pop(0)
                body = json.dumps({"status": status, "detail": "scripted failure"}).encode()
                head = [(b"content-type", b"application/problem+json")]
                if retry_after:
                    head.append((b"retry-after", retry_after.encode()))
                await send({"type": "http.response.start", "status": status, "headers": head})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)  # type: ignore[operator]

    def posts(self) -> int:
        return sum(
            1 for method, path, _ in self.requests if (method, path) == ("POST", "/v1/checks")
        )


@dataclass
class Server:
    url: str
    recorder: Recorder


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'server.db'}"
    asyncio.run(_migrate(database_url))
    recorder = Recorder(create_app(make_settings(database_url=database_url)))
    config = uvicorn.Config(recorder, host="127.0.0.1", port=0, log_level="warning", ws="none")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "test server did not start"
        time.sleep(0.01)
    port = uv.servers[0].sockets[0].getsockname()[1]
    yield Server(f"http://127.0.0.1:{port}", recorder)
    uv.should_exit = True
    thread.join(10)


async def _migrate(url: str) -> None:
    engine = db.create_engine(url)
    await db.migrate(engine)
    await engine.dispose()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(checkers, "DEFAULT_RETRY", FAST)
    return {
        "FACTCHECK_API_KEY": None,
        "FACTCHECK_API_URL": None,
        "FACTCHECK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'local.db'}",
    }


def check(env: dict, *args: str):
    result = runner.invoke(app, ["check", *args], env=env)
    assert "Traceback" not in result.output
    return result


def ingest_others(server: Server) -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        if not path.name.startswith("002"):
            body = {"text": path.read_text(encoding="utf-8"), "source": path.stem}
            assert httpx.post(f"{server.url}/v1/articles", json=body).status_code == 201


def test_seeds_reports_summary_and_resumable_rerun(server: Server, env, tmp_path: Path) -> None:
    ingest_others(server)  # 002 is then checked against all four others, whatever the order
    out = tmp_path / "out"
    result = check(env, str(SEEDS), "--api", server.url, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert server.recorder.posts() == 5
    reports = sorted(p.name for p in out.glob("0*.json"))
    assert len(reports) == 5
    assert {name.split(".")[0] for name in reports} == {p.stem for p in SEEDS.glob("*.txt")}
    assert (out / "manifest.json").is_file()

    report = CheckReport.model_validate_json(next(out.glob(f"{SEED_002}.*.json")).read_bytes())
    km = next(c for c in report.claims if "30 kilometers" in c.quote)
    assert km.verdict == "conflicting"
    assert {c.source for c in km.citations} == {
        p.stem for p in SEEDS.glob("*.txt") if p.stem != SEED_002
    }

    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"]["files"] == summary["totals"]["checked"] == 5
    row = next(f for f in summary["files"] if SEED_002 in f["path"])
    assert row["counts"]["conflicting"] == report.summary.conflicting
    flagged = next(c for c in summary["flagged"] if "30 kilometers" in c["quote"])
    assert flagged["verdict"] == "conflicting"
    assert all(c["quote"] and c["explanation"] and c["article_id"] for c in flagged["citations"])
    markdown = (out / "summary.md").read_text()
    assert "30 kilometers into Russian territory" in markdown
    assert "12 kilometers" in markdown  # a cited passage from another outlet
    assert f"| `{SEEDS / (SEED_002 + '.txt')}` |" in markdown

    # Rerun: every text already has its report, so nothing is sent; the gate still applies.
    again = check(
        env, str(SEEDS), "--api", server.url, "--out", str(out), "--fail-on", "conflicting"
    )
    assert again.exit_code == 5, again.output
    assert server.recorder.posts() == 5
    assert again.output.count("already checked: ") == 5
    assert json.loads((out / "summary.json").read_text())["totals"]["reused"] == 5


def test_retries_503_and_429_then_succeeds(server: Server, env, tmp_path: Path) -> None:
    # FAST caps any wait at 0.05 s, so the Retry-After asked for stays under the cap.
    server.recorder.script = [(503, "0"), (429, "0.04")]
    started = time.monotonic()
    result = check(
        env, str(SEEDS / "000_645ecb53b1ed8b97.txt"), "--api", server.url, "--out", "out"
    )
    assert result.exit_code == 0, result.output
    assert server.recorder.posts() == 3
    assert time.monotonic() - started >= 0.04  # Retry-After honoured
    assert len(list((tmp_path / "out").glob("000_*.json"))) == 1


def test_a_file_that_keeps_failing_is_reported_others_complete(
    server: Server, env, tmp_path: Path
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("Officials said 12 people were killed.")
    (tmp_path / "in" / "b.txt").write_text("Officials said 40 people were injured.")
    server.recorder.script = [(503, "0")] * FAST.attempts  # all of a.txt's tries
    result = check(env, "in", "--api", server.url, "--out", "out", "--concurrency", "1")
    assert result.exit_code == 1, result.output
    assert "failed: in/a.txt: HTTP 503" in result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    statuses = {f["path"]: f["status"] for f in summary["files"]}
    assert statuses == {"in/a.txt": "failed", "in/b.txt": "checked"}
    assert "scripted failure" in (tmp_path / "out" / "summary.md").read_text()


def test_api_key_is_sent_and_a_refusal_stops_sending(server: Server, env, tmp_path) -> None:
    (tmp_path / "a.txt").write_text("Officials said 12 people were killed.")
    (tmp_path / "b.txt").write_text("Officials said 40 people were injured.")
    server.recorder.script = [(401, "")]
    keyed = {**env, "FACTCHECK_API_KEY": "s3cret"}
    result = runner.invoke(
        app,
        ["check", "a.txt", "b.txt", "--api", server.url, "--out", "o", "--concurrency", "1"],
        env=keyed,
    )
    assert result.exit_code == 1, result.output
    assert "refused" in result.output and "--api-key" in result.output
    assert "not sent" in result.output
    assert server.recorder.posts() == 1
    sent = [h for m, _, h in server.recorder.requests if m == "POST"]
    assert sent[0]["authorization"] == "Bearer s3cret"
    assert "s3cret" not in result.output


def test_html_and_json_inputs_are_read(server: Server, env, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "page.html").write_text(
        "<html><head><title>Troops advance</title>"
        '<meta property="og:site_name" content="Example Times"></head>'
        "<body><nav>Home | World</nav><article><h1>Troops advance</h1>"
        "<p>Ukrainian forces advanced <b>30</b> kilometers, officials said.</p>"
        "<script>var x = 1;</script></article></body></html>",
        encoding="utf-8",
    )
    (tmp_path / "in" / "wire.json").write_text(
        json.dumps(
            {
                "text": "Officials said 121,000 people were evacuated.",
                "source": "Wire",
                "published_at": PUBLISHED,
            }
        )
    )
    result = check(env, "in", "--api", server.url, "--out", "out")
    assert result.exit_code == 0, result.output
    articles = httpx.get(f"{server.url}/v1/articles").json()["items"]
    assert {(a["source"], a["title"]) for a in articles} == {
        ("Example Times", "Troops advance"),
        ("Wire", None),
    }
    stored = httpx.get(f"{server.url}/v1/articles/{articles[-1]['id']}").json()
    assert len(list((tmp_path / "out").glob("*.json"))) == 4  # 2 reports, manifest, summary
    assert stored["text"]


def test_no_store_keeps_nothing(server: Server, env, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Officials said 12 people were killed.")
    result = check(env, "a.txt", "--api", server.url, "--out", "out", "--no-store")
    assert result.exit_code == 0, result.output
    assert httpx.get(f"{server.url}/v1/articles").json()["total"] == 0


def test_bad_files_are_skipped_with_a_readable_line(server: Server, env, tmp_path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "binary.txt").write_bytes(b"\xff\xfe\x00\x81binary")
    (folder / "empty.md").write_text("  \n")
    (folder / "broken.json").write_text('{"text": ')
    (folder / "notext.json").write_text('{"title": "x"}')
    (folder / "good.txt").write_text("Officials said 12 people were killed.")
    result = check(env, "in", "--api", server.url, "--out", "out")
    assert result.exit_code == 2, result.output
    for line in (
        "skipped: in/binary.txt: not UTF-8",
        "skipped: in/empty.md: the file is empty",
        "skipped: in/broken.json: invalid JSON",
        "skipped: in/notext.json: invalid article (text: Field required)",
        "checked: in/good.txt",
    ):
        assert line in result.output
    assert server.recorder.posts() == 1
    markdown = (tmp_path / "out" / "summary.md").read_text()
    assert (
        "## Not checked" in markdown
        and "`in/broken.json`, skipped (bad input): invalid JSON" in markdown
    )


def test_unreachable_api_exits_4_with_one_line(env, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Officials said 12 people were killed.")
    result = check(env, "a.txt", "--api", "http://127.0.0.1:1", "--out", "out")
    assert result.exit_code == 4, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("factcheck: API unavailable at http://127.0.0.1:1: ")
    assert not (tmp_path / "out" / "summary.md").exists()


def test_no_files_and_missing_paths_exit_2(env, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert check(env, "empty", "--out", "out").exit_code == 2
    missing = check(env, "nope", "--out", "out")
    assert missing.exit_code == 2
    assert "no such file or folder" in missing.output
    (tmp_path / "a.txt").write_text("Twelve people were killed.")
    bad_url = check(env, "a.txt", "--out", "out", "--api", "localhost:8000")
    assert bad_url.exit_code == 2
    assert "--api must be an http:// or https:// URL" in bad_url.output


def test_local_runs_without_a_server(env, tmp_path: Path) -> None:
    unmigrated = check(env, str(SEEDS), "--local", "--out", "out")
    assert unmigrated.exit_code == 4
    assert "factcheck migrate" in unmigrated.output

    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0
    result = check(env, str(SEEDS), "--local", "--out", "out", "--concurrency", "1")
    assert result.exit_code == 0, result.output
    assert result.output.count("checked: ") == 5
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["checked_with"].startswith("local pipeline")
    # Sorted and one at a time: 002 is checked against 000 and 001, and contradicts them.
    assert any("30 kilometers" in c["quote"] for c in summary["flagged"])


@respx.mock
async def test_retries_connection_errors_and_gives_up_bounded() -> None:
    calls: list[int] = []
    report = CheckReport(
        id=1,
        article_id=None,
        status="done",
        extractor="x",
        model=None,
        prompt_version=None,
        created_at=PUBLISHED,  # type: ignore[arg-type]
    )

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        if len(calls) == 2:
            return httpx.Response(502)
        return httpx.Response(200, content=report.model_dump_json())

    route = respx.post("http://api.test/v1/checks").mock(side_effect=answer)
    checker = ApiChecker("http://api.test/", "k", retry=FAST)
    try:
        assert (await checker.check(CheckIn(text="x"))).id == 1
        assert len(calls) == 3

        route.reset()
        route.mock(side_effect=None, return_value=httpx.Response(504))
        with pytest.raises(CheckFailed, match=r"HTTP 504 Gateway Timeout.*after 3 tries"):
            await checker.check(CheckIn(text="x"))
        assert route.call_count == FAST.attempts
    finally:
        await checker.aclose()
