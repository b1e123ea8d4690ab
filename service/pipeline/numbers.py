"""Reading numbers: digits, scale words ('1.5bn'), spelled-out numbers, and vague plurals.

Vague plurals ("dozens", "tens of thousands") are ranges, not lower bounds: "tens of thousands"
does not describe 121,000, and "dozens" does not describe 150. A plural means at least two of
its unit ("dozens" ≥ 24, "thousands" ≥ 2,000) and less than the next word a writer would have
used ("hundreds", "tens of thousands"). "scores" (of 20) is 40..99. "millions" and "billions"
are read wide (up to 999 of the unit), since writers use them for any multi-million figure
("millions of dollars") rather than reach for "tens"/"hundreds of millions".
"""

from __future__ import annotations

import re

from text_to_num import text2num

DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "billion": 1e9}
SCALES |= {"bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12}
_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty "
    "ninety hundred thousand million billion trillion dozen"
).split()
_WORD = "|".join(sorted(_WORDS, key=len, reverse=True))
SPELLED = (
    rf"(?:(?:a|an)\s+(?=(?:hundred|thousand|million|billion|dozen)\b))?"
    rf"\b(?:{_WORD})(?:(?:\s+and\s+|[\s-]+)(?:{_WORD}))*\b"
)
_DIGIT_NUMBER = re.compile(rf"({DIGITS})\s*(thousand|million|billion|trillion|bn|mn|tn|[kmb])?")

# (lowest, highest) value each vague plural allows; see the module docstring.
VAGUE_RANGES: dict[str, tuple[float, float]] = {
    "dozens": (24, 99),
    "scores": (40, 99),
    "hundreds": (200, 999),
    "thousands": (2_000, 9_999),
    "tens of thousands": (20_000, 99_999),
    "hundreds of thousands": (200_000, 999_999),
    "millions": (2e6, 9.99e8),
    "tens of millions": (2e7, 99_999_999),
    "hundreds of millions": (2e8, 999_999_999),
    "billions": (2e9, 9.99e11),
}


def parse_number(text: str) -> float | None:
    """'121,000' → 121000, 'twelve' → 12, '1.2 million' → 1.2e6, '1.5bn' → 1.5e9; else None."""
    t = " ".join(text.strip().lower().split())
    if half := re.fullmatch(r"(.+?)\s+and\s+(?:a\s+)?half", t):
        base = parse_number(half.group(1))
        return None if base is None else base + 0.5
    if m := _DIGIT_NUMBER.fullmatch(t):
        return float(m.group(1).replace(",", "")) * SCALES.get(m.group(2) or "", 1.0)
    t = re.sub(r"^an?\s+", "one ", t)
    if dozen := re.fullmatch(r"(?:(.+?)\s+)?dozen", t):
        base = parse_number(dozen.group(1)) if dozen.group(1) else 1.0
        return None if base is None else base * 12
    if not t or not re.fullmatch(r"[a-z -]+", t):
        return None
    try:
        return float(text2num(t, "en"))
    except (ValueError, IndexError, KeyError):  # text2num's ways of saying "not a number"
        return None


def vague_range(text: str) -> tuple[float, float] | None:
    """'tens of thousands' → (20000, 99999); None for words that are not a vague plural."""
    return VAGUE_RANGES.get(" ".join(text.lower().split()))
