"""Chunking: cut an article into pieces that fit the extractor's token budget.

Chunks follow the article's own structure: paragraphs (blank-line separated, or one per line
when the article has no blank lines), and sentences only inside a paragraph too large for
one chunk. Each chunk is a verbatim slice, `article[chunk.start:chunk.start + len(chunk.text)]`,
so quotes found in a chunk can be grounded against the whole article. Consecutive chunks
share `overlap_paragraphs` units so a claim that spans a boundary is seen whole once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_LINE = re.compile(r"\n")
# A sentence ends at . ! ? … ؟ । plus any closing quotes or brackets, then whitespace; CJK
# full stops need no whitespace after them. Group 1 is the gap between the sentences.
_CLOSERS = "\"'”’»)\\]"
_SENTENCE_END = re.compile(rf"(?:[.!?…؟।][{_CLOSERS}]*(?=\s)|[。！？][{_CLOSERS}]*)(\s*)")


@dataclass(frozen=True)
class Chunk:
    text: str
    start: int


def estimate_tokens(text: str) -> int:
    """Estimate the tokens `text` costs: one token per 4 bytes of UTF-8.

    No tokenizer download (tiktoken fetches its encodings at run time). Four bytes per token
    matches BPE tokenizers on English prose; UTF-8 makes it scale with the script: Cyrillic
    or Greek (2 bytes a letter) counts about 2 letters a token, CJK (3 bytes) about 1.3
    characters a token, both close to what cl100k/o200k produce, erring a little high.
    """
    return math.ceil(len(text.encode("utf-8")) / 4)


def split(text: str, max_tokens: int, overlap_paragraphs: int = 1) -> list[Chunk]:
    """Split `text` into chunks of at most `max_tokens` (estimated), in article order.

    A short article is one chunk. Units (paragraphs; sentences of an oversized paragraph;
    word-cut pieces of an oversized sentence) are packed greedily; the next chunk starts with
    the last `overlap_paragraphs` units of the previous one, as far as the budget allows.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be positive")
    if overlap_paragraphs < 0:
        raise ValueError("overlap_paragraphs must not be negative")
    whole = _trim(text, 0, len(text))
    if whole is None:
        return []
    if estimate_tokens(text[whole[0] : whole[1]]) <= max_tokens:
        return [Chunk(text[whole[0] : whole[1]], whole[0])]

    units = [unit for paragraph in _paragraphs(text) for unit in _fit(text, paragraph, max_tokens)]
    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last = first  # inclusive; one unit always fits (_fit guarantees it)
        while last + 1 < len(units) and _cost(text, units[first], units[last + 1]) <= max_tokens:
            last += 1
        chunks.append(Chunk(text[units[first][0] : units[last][1]], units[first][0]))
        if last + 1 == len(units):
            break
        # Overlap, but always make progress: the next chunk must add at least one new unit.
        nxt = max(last + 1 - overlap_paragraphs, first + 1)
        while nxt <= last and _cost(text, units[nxt], units[last + 1]) > max_tokens:
            nxt += 1
        first = nxt
    return chunks


def _cost(text: str, first: tuple[int, int], last: tuple[int, int]) -> int:
    return estimate_tokens(text[first[0] : last[1]])


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _pieces(text: str, start: int, end: int, separator: re.Pattern[str]) -> list[tuple[int, int]]:
    """Trimmed, non-empty [start, end) spans of text[start:end] between separators."""
    spans, cursor = [], start
    for match in separator.finditer(text, start, end):
        gap = match.span(1) if separator.groups else match.span()
        spans.append((cursor, gap[0]))
        cursor = gap[1]
    spans.append((cursor, end))
    return [t for s, e in spans if (t := _trim(text, s, e)) is not None]


def _paragraphs(text: str) -> list[tuple[int, int]]:
    separator = _BLANK_LINE if _BLANK_LINE.search(text) else _LINE
    return _pieces(text, 0, len(text), separator)


def _fit(text: str, span: tuple[int, int], max_tokens: int) -> list[tuple[int, int]]:
    """Return `span` as units of at most `max_tokens`: whole, by sentences, or by words."""
    if estimate_tokens(text[span[0] : span[1]]) <= max_tokens:
        return [span]
    sentences = _pieces(text, *span, _SENTENCE_END)
    if len(sentences) > 1:
        return [unit for sentence in sentences for unit in _fit(text, sentence, max_tokens)]
    return _cut(text, span, max_tokens)


def _cut(text: str, span: tuple[int, int], max_tokens: int) -> list[tuple[int, int]]:
    """Last resort for one giant sentence: cut at whitespace, or anywhere if there is none."""
    budget = max_tokens * 4  # bytes, the inverse of estimate_tokens
    units: list[tuple[int, int]] = []
    start, end = span
    while start < end:
        stop, size = start, 0
        while stop < end and size + len(text[stop].encode("utf-8")) <= budget:
            size += len(text[stop].encode("utf-8"))
            stop += 1
        stop = max(stop, start + 1)
        cut = stop
        if stop < end:
            while cut > start and not text[cut].isspace():
                cut -= 1
            cut = cut if cut > start else stop
        if (unit := _trim(text, start, cut)) is not None:
            units.append(unit)
        start = cut
    return units


__all__ = ["Chunk", "estimate_tokens", "split"]
