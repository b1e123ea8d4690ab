"""Benchmark articles: distinct texts of a given length, built from the seed articles.

Each article is seed paragraphs in a shuffled order, repeated as needed to reach its length,
with about a third of its figures changed a little (so some claims agree with the seeds and some
contradict them), under a headline with its serial number. No two articles share a text, so no
check is answered from the extraction cache unless it is meant to be (a repeat).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PUBLISHED = "2024-08-13T08:00:00Z"  # the seeds' day, so their relative dates compare
_NUMBER = re.compile(r"(?<![\w.,])\d[\d,]*(?![\w,]*\d)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"])")


@dataclass(frozen=True)
class BenchArticle:
    serial: int
    text: str

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def source(self) -> str:
        # One word, unique: statements that name their outlet share no words across articles.
        return f"BenchWire{self.serial}"

    def request(self, *, store: bool = True) -> dict[str, Any]:
        """The POST /v1/checks body."""
        return {
            "text": self.text,
            "title": self.text.split("\n", 1)[0],
            "source": self.source,
            "published_at": PUBLISHED,
            "store": store,
        }


class ArticleFactory:
    """Makes articles of about `words` words; deterministic for a given random seed."""

    def __init__(self, seed_dir: Path, seed: int = 6) -> None:
        paragraphs = []
        for path in sorted(seed_dir.glob("*.txt")):
            text = path.read_text(encoding="utf-8")
            paragraphs += [p.strip() for p in re.split(r"\n\s*\n", text) if len(p.split()) >= 8]
        if not paragraphs:
            raise ValueError(f"no seed paragraphs in {seed_dir}")
        self.paragraphs = paragraphs
        self.random = random.Random(seed)
        self.serial = 0

    def make(self, words: int) -> BenchArticle:
        self.serial += 1
        headline = f"Bench dispatch {self.serial}: the Kursk incursion, day {self.serial % 30 + 1}"
        body: list[str] = []
        count = len(headline.split())
        while count < words:
            order = self.paragraphs[:]
            self.random.shuffle(order)
            for paragraph in order:
                paragraph = self._vary(paragraph)
                size = len(paragraph.split())
                if count + size > words:
                    paragraph = self._cut(paragraph, words - count)
                    size = len(paragraph.split())
                if size:
                    body.append(paragraph)
                    count += size
                if count >= words - 5:
                    break
            else:
                continue
            break
        return BenchArticle(self.serial, headline + "\n\n" + "\n\n".join(body))

    def _vary(self, paragraph: str) -> str:
        def change(match: re.Match[str]) -> str:
            written = match.group()
            value = int(written.replace(",", ""))
            if 1900 <= value <= 2100 or self.random.random() > 0.3:  # years stay
                return written
            step = max(1, round(value * 0.1)) * self.random.choice((-2, -1, 1, 2))
            new = max(1, value + step)
            return f"{new:,}" if "," in written else str(new)

        return _NUMBER.sub(change, paragraph)

    @staticmethod
    def _cut(paragraph: str, words: int) -> str:
        """The paragraph's first sentences, up to about `words` words."""
        kept: list[str] = []
        for sentence in _SENTENCE_END.split(paragraph):
            if kept and len(" ".join([*kept, sentence]).split()) > words:
                break
            kept.append(sentence)
        text = " ".join(kept)
        return text if len(text.split()) <= words + 15 else ""


__all__ = ["PUBLISHED", "ArticleFactory", "BenchArticle"]
