"""The reviewer widget end to end: the real server (uvicorn) and headless Debian Chromium.

Playwright's pip package drives the system browser (/usr/bin/chromium, no browser download).
Without Chromium or Playwright's driver the test skips with the reason, unless
FACTCHECK_REQUIRE_BROWSER=1 (CI sets it), which turns the skip into a failure. The screenshot
lands in test-artifacts/widget.png.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.settings import PROJECT_ROOT
from tests.conftest import SEEDS

CHROMIUM = os.environ.get("FACTCHECK_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
REQUIRE_BROWSER = os.environ.get("FACTCHECK_REQUIRE_BROWSER") == "1"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
EVIDENCE = ("000_645ecb53b1ed8b97", "001_ffa75115645ef01b", "003_16ac1f2c99ced3be")
EVIDENCE += ("004_7ec25a11b7a99eb0",)
DRAFT = "002_53ffd6e50b0f3c6f"


def _unavailable(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (FACTCHECK_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:
        _unavailable(f"Playwright for Python is not installed: {exc}")
    try:
        manager = sync_playwright().start()
    except Exception as exc:
        _unavailable(f"Playwright's driver does not start: {type(exc).__name__}: {exc}")
    try:
        browser = manager.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    except Error as exc:
        manager.stop()
        _unavailable(f"Chromium at {CHROMIUM} does not launch: {exc.message.splitlines()[0]}")
    yield browser
    browser.close()
    manager.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`factcheck serve` on a free port: temporary SQLite, offline extractor, four seeds."""
    home = tmp_path_factory.mktemp("widget-e2e")
    seeds = home / "seeds"
    seeds.mkdir()
    for name in EVIDENCE:
        shutil.copy(SEEDS / f"{name}.txt", seeds)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FACTCHECK_", "OPENAI_"))}
    env |= {
        "FACTCHECK_DATABASE_URL": f"sqlite+aiosqlite:///{home / 'e2e.db'}",
        "FACTCHECK_SEED_DIR": str(seeds),
        "FACTCHECK_HOST": "127.0.0.1",
        "FACTCHECK_PORT": str(port),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    base = f"http://127.0.0.1:{port}"
    log = home / "server.log"
    with log.open("wb") as out:
        # cwd: the temporary folder, so no .env of the checkout leaks in.
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve"], cwd=home, env=env, stdout=out, stderr=out
        )
    try:
        _wait_until_up(base, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"server not ready within 90 s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def page(browser, server: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1360, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/widget")
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_widget_marks_claims_and_shows_citations(page, seed_texts: dict[str, str]) -> None:
    draft = seed_texts[DRAFT]
    page.get_by_label("Draft").fill(draft)
    page.get_by_role("button", name="Check claims").click()
    page.wait_for_selector("mark.fc-claim", timeout=30_000)

    marks = page.locator("mark.fc-claim")
    verdicts = {marks.nth(i).get_attribute("data-verdict") for i in range(marks.count())}
    assert {"supported", "conflicting", "unverified"} <= verdicts
    for verdict in verdicts:
        classes = page.locator(f'mark[data-verdict="{verdict}"]').first.get_attribute("class")
        assert f"fc-{verdict}" in classes.split()
    # The article is shown exactly as pasted: marks wrap spans, nothing is added or lost.
    assert page.locator(".fc-article").text_content() == draft
    summary = page.locator(".fc-summary").text_content()
    assert re.fullmatch(r"\d+ claims: \d+ supported, [1-9]\d* conflicting, .*", summary), summary

    kilometers = page.locator("mark.fc-claim", has_text="30 kilometers")
    assert kilometers.get_attribute("data-verdict") == "conflicting"
    assert "fc-conflicting" in kilometers.get_attribute("class").split()
    assert kilometers.get_attribute("title").startswith("Conflicts with other outlets")
    kilometers.click()
    assert kilometers.get_attribute("aria-pressed") == "true"

    details = page.locator(".fc-details")
    assert details.locator(".fc-verdict").text_content() == "Conflicts with other outlets"
    quotes = details.locator(".fc-citation-quote")
    assert quotes.count() >= 2
    citation = details.locator(".fc-citation", has_text="12 kilometers").first
    assert "12 kilometers" in citation.locator(".fc-citation-quote").text_content()
    assert citation.locator(".fc-outlet").text_content().startswith("00")
    assert citation.locator(".fc-relation").text_content() == "Contradicts the claim"
    assert citation.locator(".fc-citation-explanation").text_content().strip()
    assert citation.locator("a.fc-citation-link").get_attribute("href").startswith("http")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget.png"), full_page=True)


def test_cms_api_and_messages_render_text_not_html(page) -> None:
    hostile = '<img src=x onerror="window.pwned=1"> Smirnov said 12 people had been killed.'
    report = page.evaluate("text => FactcheckWidget.check(text)", hostile)
    assert report["status"] == "done"
    article = page.locator(".fc-article")
    assert article.text_content() == hostile
    assert article.locator("img").count() == 0
    assert page.evaluate("window.pwned") is None

    # A CMS on the same page posts a draft; the widget answers with the report.
    answer = page.evaluate(
        """text => new Promise(resolve => {
            window.addEventListener("message", event => {
                if (event.data.type === "factcheck:result") resolve(event.data.report);
            });
            window.postMessage({type: "factcheck:check", text}, location.origin);
        })""",
        "Alexei Smirnov said 121 people were injured.",
    )
    assert answer["summary"]["claims"] == len(answer["claims"])
    assert page.get_by_label("Draft").input_value().startswith("Alexei Smirnov")
