"""split(): verbatim chunks within the token budget, along paragraphs, then sentences."""

from __future__ import annotations

import re

import pytest

from service.pipeline.chunking import Chunk, estimate_tokens, split
from tests.recording import seed_stems, seed_text


def paragraph(n: int, words: int = 40) -> str:
    return " ".join(f"p{n}w{i}" for i in range(words)) + "."


def check_invariants(text: str, chunks: list[Chunk], max_tokens: int) -> None:
    for chunk in chunks:
        assert text[chunk.start : chunk.start + len(chunk.text)] == chunk.text
        assert chunk.text == chunk.text.strip()
        assert estimate_tokens(chunk.text) <= max_tokens
    starts = [chunk.start for chunk in chunks]
    assert starts == sorted(set(starts))
    # Nothing is lost: every non-space character is inside some chunk.
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.start + len(chunk.text)))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


@pytest.mark.parametrize(
    ("text", "tokens"),
    [("", 0), ("abcd", 1), ("abcde", 2), ("привет", 3), ("東京都", 3), ("a" * 4000, 1000)],
)
def test_estimate_tokens(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t\n"])
def test_blank_text_has_no_chunks(text: str) -> None:
    assert split(text, 100) == []


def test_short_article_is_one_trimmed_chunk() -> None:
    text = "\n  Putin held a meeting.\n\nSmirnov spoke.  \n"
    assert split(text, 100) == [Chunk("Putin held a meeting.\n\nSmirnov spoke.", 3)]


@pytest.mark.parametrize("stem", seed_stems())
def test_each_seed_is_one_chunk_at_the_default_budget(stem: str) -> None:
    text = seed_text(stem)
    (chunk,) = split(text, 1500)
    assert chunk.text == text.strip()
    assert chunk.start == len(text) - len(text.lstrip())


@pytest.mark.parametrize("stem", seed_stems())
@pytest.mark.parametrize("budget", [60, 120, 250, 500])
def test_seeds_at_small_budgets_keep_the_invariants(stem: str, budget: int) -> None:
    text = seed_text(stem)
    chunks = split(text, budget)
    assert len(chunks) > 1
    check_invariants(text, chunks, budget)


def test_paragraphs_are_packed_and_the_last_one_overlaps() -> None:
    paragraphs = [paragraph(n) for n in range(6)]
    text = "\n\n".join(paragraphs)
    budget = estimate_tokens("\n\n".join(paragraphs[:3]))
    chunks = split(text, budget)
    assert [c.text for c in chunks] == [
        "\n\n".join(paragraphs[0:3]),
        "\n\n".join(paragraphs[2:5]),
        "\n\n".join(paragraphs[4:6]),
    ]
    check_invariants(text, chunks, budget)


def test_no_overlap() -> None:
    paragraphs = [paragraph(n) for n in range(6)]
    text = "\n\n".join(paragraphs)
    budget = estimate_tokens("\n\n".join(paragraphs[:3]))
    assert [c.text for c in split(text, budget, overlap_paragraphs=0)] == [
        "\n\n".join(paragraphs[0:3]),
        "\n\n".join(paragraphs[3:6]),
    ]


def test_large_overlap_still_makes_progress() -> None:
    paragraphs = [paragraph(n) for n in range(8)]
    text = "\n\n".join(paragraphs)
    budget = estimate_tokens("\n\n".join(paragraphs[:2]))
    chunks = split(text, budget, overlap_paragraphs=5)
    assert chunks[-1].text.endswith(paragraphs[-1])
    assert len(chunks) == 7  # each chunk adds exactly one new paragraph
    check_invariants(text, chunks, budget)


def test_single_newlines_separate_paragraphs_without_blank_lines() -> None:
    lines = [paragraph(n) for n in range(4)]
    text = "\n".join(lines)
    budget = estimate_tokens(lines[0] + "\n" + lines[1])
    chunks = split(text, budget, overlap_paragraphs=0)
    assert [c.text for c in chunks] == ["\n".join(lines[0:2]), "\n".join(lines[2:4])]


def test_blank_lines_win_over_single_newlines() -> None:
    first = "Line one of paragraph one.\nLine two of paragraph one."
    second = "Paragraph two."
    text = f"{first}\n\n{second}"
    chunks = split(text, estimate_tokens(first), overlap_paragraphs=0)
    assert [c.text for c in chunks] == [first, second]


def test_oversized_paragraph_is_split_at_sentences() -> None:
    sentences = [f"Sentence {n} says {'many ' * 10}things." for n in range(10)]
    text = "Intro paragraph.\n\n" + " ".join(sentences) + "\n\nOutro paragraph."
    budget = 40
    chunks = split(text, budget, overlap_paragraphs=0)
    check_invariants(text, chunks, budget)
    for chunk in chunks:
        assert re.search(r"[.!?]$", chunk.text), chunk.text  # never mid-sentence


@pytest.mark.parametrize(
    ("sentences", "joiner"),
    [
        (["«Это первое предложение, и оно довольно длинное.»", "Второе — тоже длинное!"], " "),
        (["这是第一句话，内容比较长。", "这是第二句话，内容也比较长。"], ""),
        (['He said "we will win."', "Then he left?"], " "),
        (["قال المحافظ إن الوضع صعب؟", "نعم، صعب جدا."], " "),
    ],
)
def test_sentence_ends_in_other_scripts_and_after_quotes(sentences: list[str], joiner: str) -> None:
    text = joiner.join(sentences * 6)
    budget = max(estimate_tokens(s) for s in sentences) + 1
    chunks = split(text, budget, overlap_paragraphs=0)
    check_invariants(text, chunks, budget)
    assert {c.text for c in chunks} == set(sentences)  # one sentence a chunk, closers kept


def test_giant_sentence_is_cut_between_words() -> None:
    text = " ".join(f"word{i}" for i in range(500))
    chunks = split(text, 50, overlap_paragraphs=0)
    check_invariants(text, chunks, 50)
    words = set(text.split())
    assert all(set(chunk.text.split()) <= words for chunk in chunks)  # no word broken


def test_text_without_spaces_is_cut_anyway() -> None:
    text = "ж" * 1000  # 2 bytes each: 500 tokens
    chunks = split(text, 100)
    check_invariants(text, chunks, 100)
    assert "".join(c.text for c in chunks) == text


@pytest.mark.parametrize(("max_tokens", "overlap"), [(0, 1), (-5, 1), (100, -1)])
def test_bad_arguments(max_tokens: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        split("text", max_tokens, overlap)
