"""Grounding: find where a claim's quote sits in the article, despite typographic drift.

Models (and people) retype quotes: curly quotes become straight, dashes become hyphens, a
paragraph break becomes a space, "…" becomes "...", an accent arrives decomposed. `locate`
compares a *folded* copy of quote and text and maps the hit back to offsets in the original
text, so the span always points at the article's own characters. Everything else, case
included, must match: a quote that differs in wording is not grounded.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from functools import lru_cache

_SINGLE = "'‘’‚‛′‹›ʼ`´"
_DOUBLE = '"“”„‟″«»〝〞＂'
_DASHES = "-‐‑‒–—―−﹘﹣－"
# Invisible characters that change nothing a reader sees (soft hyphen, zero-width marks,
# word joiner, BOM, Arabic tatweel used for justification): dropped before comparing.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff\u0640"

_FOLD = str.maketrans(
    {
        **{c: "'" for c in _SINGLE},
        **{c: '"' for c in _DOUBLE},
        **{c: "-" for c in _DASHES},
        **{c: None for c in _INVISIBLE},
    }
)
# Characters a quote may carry at its edges without the text having them (or vice versa):
# the model wraps a passage in quotation marks, or ends it with the sentence's period/comma.
_EDGE_LEAD = "'\" "
_EDGE_TRAIL = "'\" .,;:"

# The fast path of `fold`. Printable ASCII that `_FOLD` leaves alone (NFKC never changes
# ASCII) folds to itself 1:1, single spaces between such characters included; a run of ASCII
# whitespace folds to one space. A run stops before its last character if a non-ASCII one
# follows, since that could be a combining mark that must be normalized with it.
_PLAIN = re.escape("".join(c for c in map(chr, range(0x21, 0x7F)) if c.translate(_FOLD) == c))
_FAST_RUN = re.compile(rf"(?:[{_PLAIN}]+(?: [{_PLAIN}]+)*|([\t-\r ]+))(?![^\x00-\x7f])")


def _joins_previous(ch: str) -> bool:
    # Combining marks and Hangul vowel/final jamo compose with the preceding character, so
    # they are normalized together with it (NFC vs NFD must fold to the same string).
    return unicodedata.combining(ch) != 0 or "\u1160" <= ch <= "\u11ff"


def fold(text: str) -> tuple[str, list[int], list[int]]:
    """Return the folded text and, for each folded character, its [start, end) in `text`.

    One pass over the text: each base character with its combining marks is NFKC-normalized
    and folded (quotes, dashes, invisibles), and every whitespace run becomes one space.
    """
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        if run := _FAST_RUN.match(text, i):
            j = run.end()
            if not run.group(1):
                out += run.group()
                # starts and ends share the int objects: allocating them dominates long texts
                offsets = list(range(i, j + 1))
                starts += offsets[:-1]
                ends += offsets[1:]
            elif out and out[-1] == " ":
                ends[-1] = j
            else:
                out.append(" ")
                starts.append(i)
                ends.append(j)
            i = j
            continue
        j = i + 1
        while j < n and _joins_previous(text[j]):
            j += 1
        folded = unicodedata.normalize("NFKC", text[i:j].translate(_FOLD)).translate(_FOLD)
        for ch in folded:
            if ch.isspace():
                if out and out[-1] == " ":
                    ends[-1] = j  # extend the run; it never becomes a span edge
                    continue
                ch = " "
            out.append(ch)
            starts.append(i)
            ends.append(j)
        i = j
    return "".join(out), starts, ends


@lru_cache(maxsize=16)
def _fold_text(text: str) -> tuple[str, list[int], list[int]]:
    # The pipeline grounds every claim of an article against the same text.
    return fold(text)


def locate(quote: str, text: str, start: int = 0) -> tuple[int, int] | None:
    """Find `quote` in `text` at or after offset `start`; return its [start, end) or None.

    The returned span is in `text`'s own offsets, trimmed of outer whitespace. Quotation
    marks around the quote and a final period or comma are optional on either side: when
    the text has them too, the span includes them.
    """
    needle, _, _ = fold(quote)
    lead = len(needle) - len(needle.lstrip(_EDGE_LEAD))
    trail = len(needle) - len(needle.rstrip(_EDGE_TRAIL))
    core = needle[lead : len(needle) - trail]
    if not core:
        return None

    hay, starts, ends = _fold_text(text)
    hit = hay.find(core, bisect_left(starts, start))
    if hit < 0:
        return None
    first, last = hit, hit + len(core)  # folded [first, last)

    # Take back the edge characters the quote had, as far as the text has them as well.
    prefix = needle[:lead].strip()
    while prefix and first > 0 and hay[first - 1] == prefix[-1]:
        first, prefix = first - 1, prefix[:-1]
    suffix = needle[len(needle) - trail :].strip()
    while suffix and last < len(hay) and hay[last] == suffix[0]:
        last, suffix = last + 1, suffix[1:]

    return starts[first], ends[last - 1]


__all__ = ["fold", "locate"]
