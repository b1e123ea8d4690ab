"""fold()'s fast path for plain ASCII returns exactly what the per-character fold did."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.pipeline import grounding
from service.pipeline.grounding import _FOLD, _joins_previous, fold, locate

SEED_DIR = Path(__file__).resolve().parents[2] / "seeds"
SEEDS = sorted([*SEED_DIR.glob("*.txt"), *SEED_DIR.glob("*.md")])


def _reference_fold(text: str) -> tuple[str, list[int], list[int]]:
    # fold() before the fast path: every character through NFKC, one at a time.
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and _joins_previous(text[j]):
            j += 1
        folded = unicodedata.normalize("NFKC", text[i:j].translate(_FOLD)).translate(_FOLD)
        for ch in folded:
            if ch.isspace():
                if out and out[-1] == " ":
                    ends[-1] = j
                    continue
                ch = " "
            out.append(ch)
            starts.append(i)
            ends.append(j)
        i = j
    return "".join(out), starts, ends


SPECIALS = (
    "'‘’‚‛′‹›ʼ`´\"“”„‟″«»〝〞＂-‐‑‒–—―−﹘﹣－…ﬃ１２"  # quotes, dashes, NFKC forms
    "\u00ad\u200b\u200c\u200d\u2060\ufeff\u0640"  # invisibles
    "\u00a0\u2009\u3000\u2028\x1c\x0b\x0c\r\t\n "  # whitespace
    "\u0301\u0308\u030c\u0327\u20dd\u1161\u11a8"  # combining marks, Hangul medial/final jamo
    "\u1100é漢字😀👍🏽"
)

EXAMPLES = [
    "",
    " ",
    "a",
    "`",
    "\u0301",
    "\u0301abc",
    "«Ukraine’s»\u00a0\u00a0forces…",
    "He said “no” — twice – and ‘maybe’; don't `quote` me…",
    "NBSP\u00a0thin\u2009ideographic\u3000soft\u00adhy\u200bzero\u200dwidth\ufeffbom",
    unicodedata.normalize("NFD", "Café naïve Škoda façade"),
    unicodedata.normalize("NFD", "한국어 텍스트"),
    "\u1100\u1161\u11a8 \u1112\u1161\u11ab",  # conjoining jamo
    "a\u0301 b\u0301\u0308c e \u0301 x\t\u0301",
    "漢字とかなの文章。東京都",
    "emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇺🇦!",
    "  \t\n leading whitespace",
    "trailing whitespace \t\n  ",
    "middle  \t\n\n   runs\r\nhere \x0b\x0c there",
    "\n\n\n",
    "ａｂｃ　ＡＢＣ １２３",
    "x\u00a0 \u00a0y",
    "a  b c   d e",
    "ends with combining e\u0301",
]


def assert_same(text: str) -> None:
    assert fold(text) == _reference_fold(text)


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_seed_articles(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert_same(text)
    assert_same(unicodedata.normalize("NFD", text))


def test_seeds_found() -> None:
    assert len(SEEDS) == 5


@pytest.mark.parametrize("text", EXAMPLES)
def test_examples(text: str) -> None:
    assert_same(text)


@settings(max_examples=1000, database=None)
@given(st.text())
def test_arbitrary_text(text: str) -> None:
    assert_same(text)


@settings(max_examples=1000, database=None)
@given(st.text(st.sampled_from("abcXYZ019.,' \"-`" + SPECIALS)))
def test_text_with_special_characters(text: str) -> None:
    assert_same(text)


# Article-like: ASCII words joined by spaces, whitespace runs or special characters, so that
# fast runs meet every kind of neighbour (hypothesis rarely builds "word  word" on its own).
WORDS = st.text("abcXYZ019.,'\"-`", min_size=1, max_size=6)
GAPS = st.one_of(
    st.sampled_from([" ", "  ", "\n", " \t"]), st.text(st.sampled_from(SPECIALS), max_size=3)
)


@settings(max_examples=1000, database=None)
@given(st.lists(st.tuples(WORDS, GAPS)).map(lambda parts: "".join(w + g for w, g in parts)))
def test_article_like_text(text: str) -> None:
    assert_same(text)


def test_locate_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    text = SEEDS[-1].read_text(encoding="utf-8")
    article = f"He said\u00a0 “{unicodedata.normalize('NFD', 'café')} – naïve”…\n\n{text}"
    quotes = ['"café - naïve"...', "said café", "not in the text", *text.splitlines()[:8]]

    def spans() -> list[tuple[int, int] | None]:
        grounding._fold_text.cache_clear()
        return [locate(quote, article, start) for quote in quotes for start in (0, 5)]

    new = spans()
    monkeypatch.setattr(grounding, "fold", _reference_fold)
    assert spans() == new
    assert any(new)
    grounding._fold_text.cache_clear()
