"""Group cited articles that rewrite one another, so one story told twice counts as one source.

Two articles are near-duplicates when a large share of the word 4-shingles of the shorter one
also occurs in the other (containment, not Jaccard, so a shortened rewrite of a long article
still counts). Grouping is transitive (union–find): if B rewrites A and C rewrites B, all three
are one source. Each group is named by its smallest article id.

Measured on the five seed articles (one event, five outlets; the matrix is in
tests/pipeline/test_independence.py): the one rewrite pair (001 rewords CNN's 003) has
containment 0.207; every other pair is at most 0.031. The threshold 0.1 sits between them with a
factor of two either side. 3-word shingles are shared by any two reports of one event ("of the
kursk region": up to 0.075 between independent seeds). The main risk for independent outlets is a
shared verbatim quote: with 4 words a 20-word quote in a 300-word article adds about 0.06 to the
~0.03 baseline, still under 0.1; with 5 words the rewrite itself only reaches 0.150, so the
threshold would have to sit near 0.05, where one such quote would merge two independent outlets.

It runs on the handful of articles cited for one check, so comparing every pair (O(k²)) is fine.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

from cachetools import LRUCache

SHINGLE_WORDS = 4
NEAR_DUPLICATE_CONTAINMENT = 0.1
# What the cache of texts seen (below) may hold, in bytes as _Seen.size estimates them: about
# 230 articles of 5,000 words. Bounded by size, not by texts: with 256 texts at the 1 MB body
# limit (max_article_bytes), their shingle sets alone would have taken gigabytes.
CACHE_BYTES = 64_000_000
SHINGLE_BYTES = 56  # one shingle in a frozenset: its int (32 bytes) and its slot in the table


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[int]:
    """Word n-grams after lowercasing and dropping punctuation (curly quotes included), each
    kept as its 64-bit hash: sets of ints intersect several times faster than sets of tuples
    (a tuple's hash is not cached, so every lookup rehashes it), and among the few thousand
    shingles of an article a collision, which would only nudge a containment, is a 1 in 10^12
    event. The hashes are per process (str hashing is seeded), as is the cache of them below."""
    words = re.findall(r"[^\W_]+", text.lower())
    if len(words) < size:
        return frozenset([hash(tuple(words))]) if words else frozenset()
    count = len(words) - size + 1
    return frozenset(hash(tuple(words[i : i + size])) for i in range(count))


def containment(a: frozenset[int], b: frozenset[int]) -> float:
    """Share of the smaller shingle set found in the other (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


@dataclass(frozen=True, slots=True)
class _Seen:
    digest: bytes
    shingles: frozenset[int]
    size: int  # bytes it keeps alive, roughly: the text (the cache's key) and the set


# The same stored articles are cited check after check (service.store.texts hands out the same
# string each time, so finding one here costs no hashing of its text).
_SEEN: LRUCache[str, _Seen] = LRUCache(CACHE_BYTES, getsizeof=lambda seen: seen.size)


def _seen(text: str) -> _Seen:
    found = _SEEN.get(text)
    if found is None:
        sets = shingles(text)
        digest = hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
        found = _Seen(digest, sets, len(text) + SHINGLE_BYTES * len(sets))
        if found.size <= _SEEN.maxsize:  # a larger one would not fit at all
            _SEEN[text] = found
    return found


# Containment of pairs of texts seen before, by the texts' digests. The same stored articles are
# cited check after check, so of the k² pairs a check needs only the k with its own text are new
# (the pairwise intersections were most of the grouping's CPU). Bounded; oldest out first.
_PAIRS: dict[tuple[bytes, bytes], float] = {}
MAX_PAIRS = 50_000


def _known_containment(a: _Seen, b: _Seen) -> float:
    # Containment is symmetric: one entry per pair, whichever side comes first.
    key = (a.digest, b.digest) if a.digest <= b.digest else (b.digest, a.digest)
    value = _PAIRS.get(key)
    if value is None:
        value = containment(a.shingles, b.shingles)
        if len(_PAIRS) >= MAX_PAIRS:
            del _PAIRS[next(iter(_PAIRS))]
        _PAIRS[key] = value
    return value


def group_near_duplicates(
    texts: Mapping[int, str], threshold: float = NEAR_DUPLICATE_CONTAINMENT
) -> dict[int, int]:
    """Map each article id to its group: the smallest id among the articles it rewrites."""
    parent = {article_id: article_id for article_id in texts}

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    seen = {article_id: _seen(text) for article_id, text in texts.items()}
    for a, b in combinations(seen, 2):
        if _known_containment(seen[a], seen[b]) >= threshold:
            ra, rb = root(a), root(b)
            parent[max(ra, rb)] = min(ra, rb)  # the smaller id stays the root, naming the group
    return {article_id: root(article_id) for article_id in texts}
