"""Near-duplicate grouping, on the five seed articles about the Kursk incursion."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest

from service.pipeline.independence import (
    NEAR_DUPLICATE_CONTAINMENT,
    containment,
    group_near_duplicates,
    shingles,
)

SEEDS = {
    int(path.name[:3]): path.read_text(encoding="utf-8")
    for path in sorted((Path(__file__).parents[2] / "seeds").glob("*.txt"))
}

# Containment of word 4-shingles between the seeds (symmetric), measured when the threshold was
# chosen. 001 rewords CNN's 003; the others are independent reports of the same meeting.
#
#        000    001    002    003    004
#  000     -  0.015  0.031  0.015  0.025
#  001  0.015     -  0.012  0.207  0.007
#  002  0.031  0.012     -  0.020  0.007
#  003  0.015  0.207  0.020     -  0.012
#  004  0.025  0.007  0.007  0.012     -
#
# For comparison, 3-shingles give 0.289 for the rewrite but up to 0.075 for independent pairs
# (shared phrases like "of the kursk region"); 5-shingles give 0.150 against 0.012.
REWRITE_PAIR = (1, 3)


def test_seed_similarity_matrix_justifies_the_threshold() -> None:
    sets = {i: shingles(text) for i, text in SEEDS.items()}
    scores = {(a, b): containment(sets[a], sets[b]) for a, b in combinations(sets, 2)}
    assert scores[REWRITE_PAIR] == pytest.approx(0.207, abs=0.005)
    independent = max(score for pair, score in scores.items() if pair != REWRITE_PAIR)
    assert independent == pytest.approx(0.031, abs=0.005)
    # at least a factor of two of margin on both sides of the threshold
    assert scores[REWRITE_PAIR] >= 2 * NEAR_DUPLICATE_CONTAINMENT >= 4 * independent


def test_seeds_group_the_rewrite_and_keep_the_rest_apart() -> None:
    assert SEEDS.keys() == {0, 1, 2, 3, 4}
    assert group_near_duplicates(SEEDS) == {0: 0, 1: 1, 2: 2, 3: 1, 4: 4}


def test_group_is_named_by_smallest_id_whatever_the_order() -> None:
    texts = {30: SEEDS[3], 7: SEEDS[1], 12: SEEDS[0]}
    assert group_near_duplicates(texts) == {30: 7, 7: 7, 12: 12}


def test_grouping_is_transitive() -> None:
    # B splices the first half of 000 and the second half of 004: each end rewrites B, so all
    # three are one source, although 000 and 004 share almost nothing.
    w0, w4 = SEEDS[0].split(), SEEDS[4].split()
    spliced = " ".join(w0[: len(w0) // 2] + w4[len(w4) // 2 :])
    texts = {5: SEEDS[0], 6: spliced, 8: SEEDS[4], 9: SEEDS[2]}
    assert group_near_duplicates(texts) == {5: 5, 6: 5, 8: 5, 9: 9}


def test_an_excerpt_of_a_long_article_is_a_rewrite() -> None:
    # Containment, not Jaccard: a short excerpt shares few of the long article's shingles.
    excerpt = " ".join(SEEDS[3].split()[100:200])
    assert group_near_duplicates({1: SEEDS[3], 2: excerpt}) == {1: 1, 2: 1}


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        ({}, {}),
        ({4: "Putin vows to kick the enemy out."}, {4: 4}),
        ({1: "", 2: ""}, {1: 1, 2: 2}),  # nothing to compare is not evidence of copying
        ({1: "12 killed", 2: "12 killed!"}, {1: 1, 2: 1}),  # shorter than one shingle
        ({1: "12 killed", 2: "121 injured"}, {1: 1, 2: 2}),
        ({1: SEEDS[2], 2: SEEDS[2].upper().replace(",", " ")}, {1: 1, 2: 1}),
    ],
)
def test_edge_cases(texts: dict[int, str], expected: dict[int, int]) -> None:
    assert group_near_duplicates(texts) == expected


def test_threshold_is_a_parameter() -> None:
    assert set(group_near_duplicates(SEEDS, threshold=0.0).values()) == {0}
    assert group_near_duplicates(SEEDS, threshold=0.5) == {i: i for i in SEEDS}


def test_shingles_ignore_case_and_punctuation() -> None:
    assert shingles("Russia’s forces, advancing!") == shingles("russia s forces advancing")
    assert len(shingles("one two three four five")) == 2


def test_pairs_seen_before_are_not_intersected_again(monkeypatch) -> None:
    """The stored articles are cited check after check: only pairs with a new text cost work."""
    from service.pipeline import independence

    computed: list[int] = []
    real = independence.containment

    def counting(a, b):
        computed.append(1)
        return real(a, b)

    monkeypatch.setattr(independence, "containment", counting)
    monkeypatch.setattr(independence, "_PAIRS", {})
    stored = dict(SEEDS)
    first = group_near_duplicates({**stored, -1: "A draft about something else entirely."})
    assert len(computed) == 15  # 6 texts: every pair once
    computed.clear()
    again = group_near_duplicates({**stored, -2: "Another draft, on another topic."})
    assert len(computed) == 5  # only the new text against the five known ones
    assert {k: v for k, v in again.items() if k > 0} == {k: v for k, v in first.items() if k > 0}


def test_the_texts_seen_are_kept_within_a_size(monkeypatch) -> None:
    """Articles may be as long as the body limit allows: the cache counts bytes, not texts."""
    from cachetools import LRUCache

    from service.pipeline import independence

    small: LRUCache = LRUCache(20_000, getsizeof=lambda seen: seen.size)
    monkeypatch.setattr(independence, "_SEEN", small)
    monkeypatch.setattr(independence, "_PAIRS", {})
    groups = group_near_duplicates(dict(SEEDS))  # each seed is larger than the whole cache
    assert len(small) == 0
    assert groups == {0: 0, 1: 1, 2: 2, 3: 1, 4: 4}  # as with every seed kept
    drafts = {n: f"Draft {n} says officials met on day {n} in Sudzha." for n in range(300)}
    group_near_duplicates(drafts)
    assert 0 < small.currsize <= 20_000 and len(small) < 300
