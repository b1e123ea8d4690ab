"""Batch inputs: find article files and read each as an ArticleIn (.txt/.md/.html/.json).

Every way a file can be unusable (not UTF-8, empty, invalid JSON or HTML without text) raises
BadInput with one readable line that names the file, so a batch lists it and moves on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from bs4 import BeautifulSoup, Tag
from bs4.dammit import EncodingDetector
from pydantic import ValidationError

from service.errors import InvalidInput
from service.models import ArticleIn
from service.pipeline.ingest import find_article_files, read_article_file

SUFFIXES = {".txt", ".md", ".html", ".htm", ".json"}
JSON_FIELDS = ("text", "title", "url", "source", "published_at")
# Elements that start a new line of text; inline ones (a, em, span) join their neighbours.
BLOCKS = (
    "address article aside blockquote dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table td th tr ul"
).split()
NOT_TEXT = ["script", "style", "noscript", "template", "svg", "iframe", "form", "nav", "aside"]


class BadInput(Exception):
    """A file that cannot be checked; str() is one line naming the file."""


def find_inputs(paths: list[Path]) -> Iterator[Path]:
    """Files to check, in a stable order; folders are walked recursively."""
    return find_article_files(paths, SUFFIXES)


def read_input(path: Path) -> ArticleIn:
    suffix = path.suffix.lower()
    try:
        if suffix in {".html", ".htm"}:
            return read_html(path)
        if suffix == ".json":
            return read_json(path)
        return read_article_file(path)
    except InvalidInput as exc:
        raise BadInput(exc.detail) from None


def read_json(path: Path) -> ArticleIn:
    """An object with `text` and optional title/url/source/published_at; other keys ignored."""
    raw = _read_bytes(path)
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except ValueError as exc:
        raise BadInput(f"{path}: invalid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a JSON object with a 'text' field")
    fields = {key: data[key] for key in JSON_FIELDS if data.get(key) is not None}
    fields.setdefault("source", path.stem)
    try:
        return ArticleIn.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'article'}: {e['msg']}" for e in exc.errors()
        )
        raise BadInput(f"{path}: invalid article ({problems})") from None


def read_html(path: Path) -> ArticleIn:
    """The page's readable text; title from <title> (else <h1>); outlet, URL and date from
    the usual meta tags when present, else the file name stands for the outlet."""
    soup = BeautifulSoup(_decode_html(path), "html.parser")
    title = _text(soup.title) or _text(soup.find("h1"))
    source = _meta(soup, "og:site_name", 200) or path.stem
    url = _meta(soup, "og:url", 2000) or _link(soup, "canonical")
    published = _meta(soup, "article:published_time", 100)
    text = html_text(soup)
    if not text:
        raise BadInput(f"{path}: no text in the page")
    article = ArticleIn(text=text, title=title, source=source, url=url)
    if published:
        try:  # a malformed date in a page's metadata is not worth losing the article over
            return ArticleIn.model_validate({**article.model_dump(), "published_at": published})
        except ValidationError:
            pass
    return article


def html_text(soup: BeautifulSoup) -> str:
    """Paragraphs of the article (or main, or body) as plain text, one blank line apart."""
    for tag in soup.find_all(NOT_TEXT):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    for br in root.find_all("br"):
        br.replace_with("\n")
    for block in root.find_all(BLOCKS):
        block.insert_before("\n")
        block.insert_after("\n")
    lines = (" ".join(line.split()) for line in root.get_text().splitlines())
    return "\n\n".join(line for line in lines if line)


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror})") from None
    if not raw.strip():
        raise BadInput(f"{path}: the file is empty")
    return raw


def _decode_html(path: Path) -> str:
    """UTF-8, unless the page declares another charset (saved pages often do)."""
    raw = _read_bytes(path)
    declared = EncodingDetector.find_declared_encoding(raw, is_html=True)
    try:
        return raw.decode(declared or "utf-8")
    except (UnicodeDecodeError, LookupError) as exc:
        reason = getattr(exc, "reason", str(exc))
        raise BadInput(f"{path}: not {declared or 'UTF-8'} text ({reason})") from None


def _text(tag: object) -> str | None:
    if not isinstance(tag, Tag):
        return None
    return " ".join(tag.get_text().split())[:1000] or None


def _meta(soup: BeautifulSoup, name: str, limit: int) -> str | None:
    tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
    return _attr(tag, "content", limit)


def _link(soup: BeautifulSoup, rel: str) -> str | None:
    return _attr(soup.find("link", rel=rel), "href", 2000)


def _attr(tag: object, name: str, limit: int) -> str | None:
    value = tag.get(name) if isinstance(tag, Tag) else None
    if not isinstance(value, str):
        return None
    return value.strip()[:limit] or None
