"""Batch inputs and summary as pure functions: what an .html or .json file becomes, and the
Markdown an editor reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.batch.inputs import BadInput, read_input
from service.batch.summary import FileResult, summarize, to_markdown
from service.models import CheckedClaim, CheckReport, Citation, Summary

PAGE = """<!doctype html><html><head><meta charset="{charset}">
<title>Troops advance | Example Times</title>
<meta property="og:site_name" content="Example Times">
<link rel="canonical" href="https://example.org/a/1">
<meta property="article:published_time" content="2024-08-13T08:00:00Z">
<style>p {{ color: red }}</style></head>
<body><nav>Home | World</nav>
<article><h1>Troops advance</h1>
<p>Ukrainian forces advanced <b>30</b> kilometers, <a href="#">officials</a> said.</p>
<p>Smirnov said 121,000 people left.<br>More to go.</p><script>var x = 1;</script>
</article><footer>© Example</footer></body></html>"""


def test_html_article_text_title_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(PAGE.format(charset="utf-8"), encoding="utf-8")
    article = read_input(path)
    assert article.text == (
        "Troops advance\n\nUkrainian forces advanced 30 kilometers, officials said.\n\n"
        "Smirnov said 121,000 people left.\n\nMore to go."
    )
    assert article.title == "Troops advance | Example Times"
    assert article.source == "Example Times"
    assert article.url == "https://example.org/a/1"
    assert article.published_at == datetime(2024, 8, 13, 8, tzinfo=UTC)


def test_html_declared_charset_and_fallbacks(tmp_path: Path) -> None:
    latin = tmp_path / "latin.html"
    latin.write_bytes(PAGE.format(charset="iso-8859-1").replace("©", "é").encode("latin-1"))
    assert read_input(latin).source == "Example Times"

    bare = tmp_path / "bare.html"
    bare.write_text("<h1>Headline</h1><div>Twelve people were killed.</div>", encoding="utf-8")
    article = read_input(bare)
    assert (article.title, article.source) == ("Headline", "bare")
    assert article.text == "Headline\n\nTwelve people were killed."


def test_json_article_ignores_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "wire.json"
    path.write_text(json.dumps({"text": "Twelve killed.", "url": "https://x.org", "id": 7}))
    article = read_input(path)
    assert (article.text, article.source, article.url) == (
        "Twelve killed.",
        "wire",
        "https://x.org",
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.json", b"[1, 2]", "expected a JSON object"),
        ("b.json", b'{"text": "  "}', "text: Value error, must contain non-whitespace text"),
        ("c.json", b'{"text": "x", "published_at": "soon"}', "published_at"),
        ("d.json", b"\xff\xfe{}", "not UTF-8"),
        ("e.html", b"<html><script>x</script></html>", "no text in the page"),
        ("f.html", b"\xff\xfe<p>x</p>", "not UTF-8"),
        ("g.md", b"", "the file is empty"),
    ],
)
def test_bad_inputs_are_one_line(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BadInput) as caught:
        read_input(path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_markdown_lists_flagged_claims_with_citations() -> None:
    citation = Citation(
        claim_id=9, article_id=3, source="Wire | Daily", url="https://w.example/3", title=None,
        quote="advanced 12\nkilometers", span=(0, 22), relation="conflicts",
        explanation="30 km vs 12 km", method="rules", independent_group=1,
    )  # fmt: skip
    claim = CheckedClaim(
        id=1, statement="Forces advanced 30 km.", quote="advanced 30 kilometers", span=(0, 22),
        verdict="conflicting", confidence=0.8, independent_sources=1, citations=[citation],
    )  # fmt: skip
    report = CheckReport(
        id=5, article_id=2, status="done", extractor="offline", model=None, prompt_version=None,
        created_at=datetime(2024, 8, 13, tzinfo=UTC), claims=[claim],
        summary=Summary(claims=1, conflicting=1),
    )  # fmt: skip
    done = FileResult(path="a|b.txt", status="checked", report="a.1.json", counts=report.summary)
    bad = FileResult(path="c.json", status="skipped", error="c.json: invalid JSON (x)")
    summary = summarize([(done, report), (bad, None)], "http://api")
    assert summary.has("conflicting") and summary.has("mixed")
    assert summary.totals.conflicting == 1 and summary.totals.skipped == 1
    markdown = to_markdown(summary)
    assert "| `a\\|b.txt` | 1 | 0 | 1 | 0 | 0 | checked | a.1.json |" in markdown
    assert "> advanced 30 kilometers" in markdown
    assert (
        "**Wire | Daily** (article 3, https://w.example/3) conflicts: “advanced 12 kilometers”"
        in markdown
    )
    assert "30 km vs 12 km" in markdown
    assert "- `c.json`, skipped (bad input): invalid JSON (x)" in markdown
