"""Ingest: identify an article by its content and read articles from files."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Collection, Iterator
from pathlib import Path

from service.errors import InvalidInput
from service.models import ArticleIn

ARTICLE_SUFFIXES = {".txt", ".md"}


def content_hash(text: str) -> str:
    """The article's identity: the same words in the same order are the same article.

    Unicode NFC and whitespace runs are normalized so that a re-wrapped or re-encoded copy of a
    wire story is recognized; case and punctuation are kept, since they can change a claim.
    """
    normalized = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def find_article_files(
    paths: list[Path], suffixes: Collection[str] = ARTICLE_SUFFIXES
) -> Iterator[Path]:
    """Files to read, in a stable order; folders are walked recursively for `suffixes`."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
            )
        elif path.is_file():
            yield path
        else:
            raise InvalidInput(f"{path}: no such file or folder")


def read_article_file(path: Path, source: str | None = None) -> ArticleIn:
    """An article from a .txt/.md file; without a source, the file name stands for the outlet."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read ({exc.strerror})") from None
    if not text.strip():
        raise InvalidInput(f"{path}: the file is empty")
    lines = text.strip().splitlines()
    # A short first line followed by more text reads as a headline; anything else is body.
    title = lines[0].strip().strip("“”\"'") if len(lines) > 1 and len(lines[0]) <= 200 else None
    return ArticleIn(text=text, title=title or None, source=source or path.stem)
