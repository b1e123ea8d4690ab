"""How many stored claims each word is in, so a search asks the index only for rare words.

A full-text OR query costs what its words' posting lists cost: "officials" is in a tenth of a
large corpus, a village's name in a few dozen claims. The store keeps a count per word stem
(table `terms`, updated in the transaction that adds or deletes claims) and a search keeps the
rarest of a claim's words, up to a budget of postings. The cost of a search then follows how
much is written about its subject, not how large the corpus is, and the rare words (names,
places, figures) are also the ones that find the same event. Common words add little to
relevance anyway; the candidates' re-ranking (service.pipeline.retrieve) sees all of them.

Stems are Snowball English, which is what PostgreSQL's `english` configuration indexes (and
close to the Porter stemmer of SQLite's FTS5 index), so a count matches a posting list.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from service.store.tables import TermRow

# Claims the picked words may match, summed over the words. 250, not 500: a check's index
# statement then cost half the CPU (SQLite, 500-word checks against 68 articles of one event:
# 11.9 -> 6.4 ms a check), and the five seeds checked against one another inside 100k
# synthetic claims of other events got the same 75 verdicts and citations with 500, 250 or 150.
POSTINGS_BUDGET = 250
ALL_CLAIMS = ""  # the row under the empty stem counts every claim stored
_WORDS = re.compile(r"\w+")
_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word.lower())[:100]


def claim_stems(statement: str, quote: str, entities: Iterable[str]) -> set[str]:
    """The stems one claim is indexed under (each counted once per claim)."""
    text = " ".join([statement, quote, *entities])
    return {stem(word) for word in _WORDS.findall(text)}


def pick(words: list[str], counts: dict[str, int]) -> list[str]:
    """The words to ask the index for: rarest first, while their postings fit the budget.

    The rarest word that occurs at all is always kept, so a claim about a common subject still
    finds something. A word no stored claim has cannot match, so it is left out. While the
    whole store holds fewer claims than the budget, no query can cost more, so every word goes.
    """
    known = [(counts.get(stem(w), 0), i, w) for i, w in enumerate(words)]
    known = [item for item in known if item[0] > 0]
    if counts.get(ALL_CLAIMS, 0) <= POSTINGS_BUDGET:
        return [w for _, _, w in known]
    picked: list[str] = []
    spent = 0
    for n, _, word in sorted(known):
        if picked and spent + n > POSTINGS_BUDGET:
            break
        picked.append(word)
        spent += n
    return picked


# The stems go as one parameter (a JSON array on SQLite, an array on PostgreSQL), not as an IN
# list of one parameter each: a check asks for about 200, and rendering and binding that list,
# and on SQLite preparing it anew (each length is another statement to its cache), cost more
# than the lookups. Same rows; 4.4-6.3 -> 2.6-2.7 ms a 500-word check (SQLite, in process,
# runs of both taken in turns, AMD EPYC).
_FREQUENCIES = {
    True: text(
        "SELECT term, claims FROM terms WHERE term IN (SELECT value FROM json_each(:stems))"
    ),
    False: text("SELECT term, claims FROM terms WHERE term = ANY(:stems)"),
}


async def frequencies(
    session: AsyncSession, words: Iterable[str], *, sqlite: bool
) -> dict[str, int]:
    stems = list({stem(w) for w in words} | {ALL_CLAIMS})
    rows = await session.execute(
        _FREQUENCIES[sqlite], {"stems": json.dumps(stems) if sqlite else stems}
    )
    return dict(rows.all())


def tally(claims: Iterable[tuple[str, str, Iterable[str]]]) -> Counter[str]:
    """Claims per stem, for (statement, quote, entities) of each claim; ALL_CLAIMS counts all."""
    counts: Counter[str] = Counter()
    for statement, quote, entities in claims:
        counts.update(claim_stems(statement, quote, entities))
        counts[ALL_CLAIMS] += 1
    return counts


async def add_counts(
    session: AsyncSession | AsyncConnection, insert, counts: Counter[str], sign: int = 1
) -> None:
    """Add (or, with sign=-1, take away) claim counts, in the caller's transaction.

    Rows are written in sorted order, so two transactions counting the same words lock them
    in the same order and cannot deadlock.
    """
    if not counts:
        return
    rows = [{"term": term, "claims": sign * n} for term, n in sorted(counts.items())]
    # One statement executed for many rows (not .values(rows)), so SQLAlchemy compiles it once
    # per process rather than once per article: compiling was most of an ingest's CPU.
    statement = insert(TermRow)
    statement = statement.on_conflict_do_update(
        index_elements=["term"], set_={"claims": TermRow.claims + statement.excluded.claims}
    )
    await session.execute(statement, rows)
