"""locate(): quotes found despite typographic drift, offsets always in the original text."""

from __future__ import annotations

import unicodedata

import pytest

from service.pipeline.grounding import fold, locate
from tests.recording import seed_text

NFD_CAFE = unicodedata.normalize("NFD", "café")

# (quote, text, the passage text[start:end] must be, or None when it must not ground)
CASES = [
    # identical
    (
        "12 people had been killed",
        "He said 12 people had been killed.",
        "12 people had been killed",
    ),
    # apostrophes and quotation marks, both directions
    ("Ukraine's forces", "Ukraine’s forces advanced", "Ukraine’s forces"),
    ("Ukraine’s forces", "Ukraine's forces advanced", "Ukraine's forces"),
    ("Ukrainʼs forces", "Ukrain’s forces", "Ukrain’s forces"),
    ('a "worthy response"', "a “worthy response” for", "a “worthy response”"),
    ('a "worthy response"', "a «worthy response» for", "a «worthy response»"),
    ("a “worthy response”", 'a "worthy response" for', 'a "worthy response"'),
    ('Er sagte "nein"', "Er sagte „nein“ dazu", "Er sagte „nein“"),
    # dashes
    ("Kursk region - which", "Kursk region – which", "Kursk region – which"),
    ("Kursk region - which", "Kursk region — which", "Kursk region — which"),
    ("cross-border", "cross‑border strikes", "cross‑border"),
    ("cross-border", "cross‐border strikes", "cross‐border"),
    ("cross–border", "cross-border strikes", "cross-border"),
    # ellipsis
    ("instructions... we've", "As per your instructions… we’ve divided", "instructions… we’ve"),
    ("instructions… we've", "As per your instructions... we've divided", "instructions... we've"),
    # whitespace runs, newlines, tabs, no-break and thin spaces
    ("forces. Putin noted", "forces.\n\nPutin noted", "forces.\n\nPutin noted"),
    ("about 2,000 Russian", "about\u00a02,000   Russian", "about\u00a02,000   Russian"),
    ("12 km deep", "12\u2009km\tdeep", "12\u2009km\tdeep"),
    ("  12 killed  ", "so 12 killed then", "12 killed"),
    ("12\nkilled", "so 12 killed then", "12 killed"),
    # Unicode normalization (NFC/NFD, NFKC compatibility forms)
    ("café", f"the {NFD_CAFE} was shut", NFD_CAFE),
    (NFD_CAFE, "the café was shut", "café"),
    ("official", "the oﬃcial said", "oﬃcial"),
    ("12 km", "about １２ km deep", "１２ km"),
    # invisible characters in the article
    ("Krasnoyaruzhsky", "Krasno\u00adyaruzhsky district", "Krasno\u00adyaruzhsky"),
    ("Kursk region", "Kursk\u200b region", "Kursk\u200b region"),
    # leading/trailing quotation marks and final punctuation, either side
    ('"kick the enemy out"', "to kick the enemy out of", "kick the enemy out"),
    ("kick the enemy out", "to “kick the enemy out” of", "kick the enemy out"),
    ('"kick the enemy out"', "to “kick the enemy out” of", "“kick the enemy out”"),
    ("The total is 180,000 people.", "The total is 180,000 people", "The total is 180,000 people"),
    ("The total is 180,000 people", "The total is 180,000 people.", "The total is 180,000 people"),
    (
        "The total is 180,000 people.",
        "The total is 180,000 people. Next",
        "The total is 180,000 people.",
    ),
    (
        '"The total is 180,000 people."',
        "said: “The total is 180,000 people.” Then",
        "“The total is 180,000 people.”",
    ),
    (
        "“improve its negotiation position,”",
        "Ukraine to “improve its negotiation position,” questioning",
        "“improve its negotiation position,”",
    ),
    # Cyrillic, Greek, Arabic: nothing is ASCII-only
    (
        'Путин сказал: "выбить противника" - и всё.',
        "Путин сказал: «выбить противника» — и всё.",
        "Путин сказал: «выбить противника» — и всё.",
    ),
    ("погибли 12 человек", "В Курской области погибли 12\u00a0человек.", "погибли 12\u00a0человек"),
    ("Ο Πούτιν είπε", "«Ο  Πούτιν είπε»", "Ο  Πούτιν είπε"),
    (
        "قال المحافظ إن 12 شخصا قتلوا",
        "وقال المحافظ إن 12 شخصا قتلوا أمس",
        "قال المحافظ إن 12 شخصا قتلوا",
    ),
    ("قال المحافظ", "وقـال المحافظ", "قـال المحافظ"),  # tatweel
    ("لا يوجد", "ﻻ يوجد", "ﻻ يوجد"),  # lam-alef presentation form (NFKC)
    # must NOT ground: wording, case, digits, missing words
    ("putin held a meeting", "Putin held a meeting", None),
    ("12 people had died", "12 people had been killed", None),
    ("121,000 people", "120,000 people", None),
    ("Putin held meeting", "Putin held a meeting", None),
    ("Putin held a meeting on Tuesday", "Putin held a meeting on Monday", None),
    ("", "anything", None),
    ('""', 'a "" b', None),
    (" . ", "a . b", None),
]


@pytest.mark.parametrize(("quote", "text", "passage"), CASES)
def test_locate(quote: str, text: str, passage: str | None) -> None:
    span = locate(quote, text)
    if passage is None:
        assert span is None
    else:
        assert span is not None, f"{quote!r} not found"
        assert text[span[0] : span[1]] == passage


def test_offsets_are_in_the_original_text() -> None:
    text = "A\u00a0“quoted”  passage — with café\n\nand more."
    span = locate('"quoted" passage - with café and', text)
    assert span == (2, len(text) - len(" more."))


def test_start_finds_the_next_occurrence() -> None:
    text = seed_text("004_7ec25a11b7a99eb0")  # repeats one sentence verbatim
    quote = "The governor of the Kursk region - which Ukraine entered last Tuesday"
    first = locate(quote, text)
    assert first is not None
    second = locate(quote, text, start=first[1])
    assert second is not None and second[0] > first[1]
    assert text[first[0] : first[1]] == text[second[0] : second[1]]
    assert locate(quote, text, start=second[1]) is None


def test_start_inside_a_match_skips_it() -> None:
    assert locate("abc", "abc abc", start=1) == (4, 7)


def test_all_seed_sentences_ground_after_retyping() -> None:
    """Every seed line, retyped the way a model would (straight quotes, hyphens), grounds."""
    retype = str.maketrans({"’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
    for stem in ("000_645ecb53b1ed8b97", "003_16ac1f2c99ced3be", "004_7ec25a11b7a99eb0"):
        text = seed_text(stem)
        for line in filter(None, (line.strip() for line in text.splitlines())):
            span = locate(line.translate(retype), text)
            assert span is not None, line
            assert text[span[0] : span[1]].translate(retype).strip('"') == line.translate(
                retype
            ).strip('"')


def test_fold_maps_every_character_back() -> None:
    text = "«Ukraine’s»\u00a0\u00a0forces…"
    folded, starts, ends = fold(text)
    assert folded == '"Ukraine\'s" forces...'
    assert len(folded) == len(starts) == len(ends)
    assert all(0 <= s < e <= len(text) for s, e in zip(starts, ends, strict=True))
    assert starts == sorted(starts)
