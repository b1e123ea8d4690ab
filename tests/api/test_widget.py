"""The reviewer widget's files: served as package data, locked down, article text never as HTML.

The browser test (tests/e2e/test_widget_browser.py) runs the widget itself.
"""

from __future__ import annotations

import re
from importlib import resources

import pytest
from litestar.testing import AsyncTestClient

from service.settings import Settings
from tests.conftest import make_settings

CMS = "https://cms.example.org"


@pytest.fixture
def settings() -> Settings:
    return make_settings(cors_origins=[CMS])


@pytest.mark.parametrize(
    ("path", "media_type"),
    [("/widget", "text/html"), ("/widget.js", "text/javascript"), ("/widget.css", "text/css")],
)
async def test_widget_files_are_served(client: AsyncTestClient, path: str, media_type: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert response.headers["x-content-type-options"] == "nosniff"
    name = "widget.html" if path == "/widget" else path.lstrip("/")
    assert response.text == (resources.files("service") / "widget" / name).read_text("utf-8")


async def test_widget_page_runs_only_its_own_files(client: AsyncTestClient) -> None:
    response = await client.get("/widget")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "default-src 'none'" in policy
    assert f"frame-ancestors 'self' {CMS}" in policy
    # CSP forbids inline code, so the page must have none.
    assert not re.search(r"<script>|<style|\son\w+=", response.text)
    assert '<script src="widget.js">' in response.text


def test_widget_script_never_parses_html() -> None:
    script = (resources.files("service") / "widget" / "widget.js").read_text("utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script
