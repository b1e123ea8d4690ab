"""Retrieve: for each claim, the stored claims of other articles most likely to bear on it.

Each claim becomes one full-text query (its entities, content words and figures, OR-ed) that
the store answers from its index, best first, so the cost follows the index, not the number of
stored claims. Shared entities and figures of the same dimension then re-rank the candidates.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Collection
from functools import lru_cache

from service.models import ClaimData
from service.pipeline.compare import measures_match
from service.store.base import Candidate, Store

MAX_TERMS = 24
CANDIDATES_PER_QUERY = 30  # what the index returns per claim, before re-ranking
SEARCH_CONCURRENCY = 4  # batches of claims searched at once (each holds a connection)
SEARCH_BATCH_MIN = 16  # claims per batch at least: a batch is one statement, a session costs
KEEP_PER_CLAIM = 12  # what comparison sees per claim (rules are cheap; the judge sees fewer)

_WORDS = re.compile(r"\w+")
NAME_WORD = re.compile(r"[^\W\d_]{3,}")  # a word of a name: letters only, 3 or more
# Words that say what a name is, not which one: "Mr Putin" and "Vladimir Putin" are one
# person, "Kursk" and "the Kursk region" one place, while "Kursk region" and "Belgorod
# region" share only a kind.
TITLES = frozenset("acting governor head president minister general gen mr mrs ms chief".split())
PLACE_KINDS = frozenset("region district oblast province county state".split())
_STOP = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our out over own said same says
    she should so some such than that the their them then there these they this those through to
    too under until up very was we were what when where which while who whom why will with would
    you your told tells according added adds later also""".split()
)


@lru_cache(maxsize=65_536)  # a stored claim is compared with many; its words do not change
def content_words(text: str) -> frozenset[str]:
    """Lower-cased content words, crudely singularized: enough to tell two claims share a topic."""
    words = (w.lower() for w in _WORDS.findall(text))
    return frozenset(
        _singular(w) for w in words if len(w) > 2 and w not in _STOP and not w.isdigit()
    )


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def search_terms(claim: ClaimData) -> list[str]:
    """The words a claim is found by: entities first, then content words, then figures."""
    words: list[str] = []
    for entity in claim.entities:
        words += _WORDS.findall(entity)
    words += _WORDS.findall(claim.statement)
    for quantity in claim.quantities:
        words += _WORDS.findall(quantity.measure)
    terms = [w for w in words if len(w) > 2 and w.lower() not in _STOP and not w.isdigit()]
    # Figures as written ("121,000" → 121, 000 in both indexes) find restatements of a number.
    terms += [w for q in claim.quantities for w in _WORDS.findall(q.text) if w.isdigit()]
    return list(dict.fromkeys(t.lower() for t in terms))[:MAX_TERMS]


@lru_cache(maxsize=65_536)  # asked for every entity of every candidate
def name_words(entity: str) -> frozenset[str]:
    """The words of a name that tell it apart: "Vladimir Putin" → {"vladimir", "putin"}."""
    return frozenset(w.casefold() for w in NAME_WORD.findall(entity)) - TITLES - PLACE_KINDS


@lru_cache(maxsize=65_536)  # a stored claim is a candidate of many claims
def _named(entities: tuple[str, ...]) -> frozenset[str]:
    return frozenset().union(*(name_words(e) for e in entities))


def rerank(claim: ClaimData, candidates: list[Candidate]) -> list[Candidate]:
    """Index rank, plus shared entities, figures that measure the same thing, and a date
    when the candidate names someone or somewhere the claim names.

    The index rank is scaled to 0..1 within the result, since bm25 and ts_rank differ in scale.
    An entity is shared when the candidate names it by any of its words ("Putin", "Mr Putin"
    and "Vladimir Putin"): outlets name one person or place differently. A date counts like a
    figure, since the rules can settle it (service.pipeline.evidence), but only beside a shared
    entity: two dates alone are two events. Without it, once the store held a few thousand
    claims of other events, the index was asked for rare words only (service.store.terms) and
    "Mr Putin ... on Monday" fell out of the kept candidates of seed 002's "Putin on Tuesday
    ordered": the conflict was lost (tests/pipeline/test_seed_scenario.py). The five seeds
    checked against one another with the rules, alone and inside 100k synthetic claims: 3 and
    1 conflicting claims before, 3 and 2 after, with no claim losing a citation.
    """
    top = max((c.rank for c in candidates), default=0.0) or 1.0
    entities = [words for e in claim.entities if (words := name_words(e))]

    def score(candidate: Candidate) -> float:
        other = candidate.claim
        named = _named(tuple(other.entities))
        shared = sum(1 for words in entities if words & named)
        figures = 0.0
        for mine in claim.quantities:
            for theirs in other.quantities:
                if mine.dimension == theirs.dimension:
                    same = measures_match(mine.measure, theirs.measure)
                    figures = max(figures, 1.0 if same else 0.2)
        dated = (
            0.3
            if shared and claim.time and other.time and claim.time.date and other.time.date
            else 0.0
        )
        return candidate.rank / top + 0.2 * shared + figures + dated

    return sorted(candidates, key=score, reverse=True)[:KEEP_PER_CLAIM]


async def retrieve(
    claims: list[ClaimData], store: Store, exclude_articles: Collection[int]
) -> list[list[Candidate]]:
    """Candidates for each claim, in claim order; never from the excluded articles.

    The claims go to the store in at most SEARCH_CONCURRENCY batches at once, each one call
    (one connection, one lookup of word counts, one index statement): bounded, since a
    connection per claim would ask the database for as many as the article has claims (500
    claims exhausted PostgreSQL's max_connections in a test), and cheap, since 10,000 claims
    then cost a few sessions, not 10,000. A short article is one batch: under load, the
    sessions a check opens are CPU every other check waits for.
    """
    if not claims:
        return []
    size = max(math.ceil(len(claims) / SEARCH_CONCURRENCY), SEARCH_BATCH_MIN)
    batches = [claims[i : i + size] for i in range(0, len(claims), size)]
    found = await asyncio.gather(
        *(
            store.search_claims(
                [search_terms(c) for c in batch], exclude_articles, CANDIDATES_PER_QUERY
            )
            for batch in batches
        )
    )
    return [
        rerank(claim, candidates)
        for claim, candidates in zip(claims, (c for batch in found for c in batch), strict=True)
    ]
