"""Compare, applied: pairs each claim with its candidates, settles what the rules can, and asks
the LLM judge about the rest in batches (one call per batch of claims, never one per pair).

The judge only ever sees pairs the rules left open, so it cannot turn a measured conflict into
support. The rules compare only what is comparable:

- figures, when they measure the same thing (compare.measures_match) in the same place: claims
  naming different regions or districts ("Kursk region" vs "Belgorod region") count different
  people, so 120,000 there and 10,000 here is no contradiction; and, unless both claims name
  the same place, only figures within SCOPE_RATIO of each other: outlets misreport by a factor
  of two or three (12 km vs 30 km), while 121,000 against 10,000 counts a different scope
  (a region's evacuees against one district's);
- dates, when the same named person acts in both claims ("Putin ... on Tuesday" vs "Putin ...
  on Monday") and the days are at most DATE_WINDOW_DAYS apart: a misreported day is off by
  one or two, while the same person a week apart is doing something else. Without a shared
  actor two dates are two events, not a contradiction. Pairs the window leaves out stay open
  for the judge.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from functools import lru_cache

from service.llm.base import Judge, JudgePair
from service.models import ClaimData, Quantity, Relation, TimeRef, Usage
from service.pipeline.compare import compare_claims
from service.pipeline.retrieve import NAME_WORD as _NAME
from service.pipeline.retrieve import PLACE_KINDS, content_words
from service.pipeline.retrieve import TITLES as _TITLES
from service.pipeline.verdict import merge_findings
from service.store.base import Candidate

SAME_EVENT_OVERLAP = 0.3  # share of the shorter statement's content words both statements use
DATE_WINDOW_DAYS = 2
SCOPE_RATIO = 5.0
JUDGE_CANDIDATES_PER_CLAIM = 4  # what the judge sees per claim, best ranked first

# "Kursk region", "Krasnoyaruzhsky district": the capitalized word names the place.
_PLACE = re.compile(rf"\b([A-Z][\w'-]+)\s+({'|'.join(sorted(PLACE_KINDS))})\b")
_LOCAL = frozenset({"district", "county"})  # finer than a region: a subset of its people


@dataclass(frozen=True)
class Assessed:
    """What one candidate says about one claim."""

    candidate: Candidate
    relation: Relation
    method: str  # "rules" or "llm"
    explanation: str
    notes: tuple[str, ...] = ()
    claimant_differs: bool = False
    # What the candidate says about each part of the claim: ("figure 0", "conflicts"),
    # ("time", "supports"); an LLM judgement is about the whole ("claim", ...).
    aspects: tuple[tuple[str, Relation], ...] = ()


@dataclass
class Assessment:
    per_claim: list[list[Assessed]]
    usage: Usage = field(default_factory=Usage)
    judged_pairs: int = 0


def same_event(a: ClaimData, b: ClaimData) -> bool:
    words_a, words_b = content_words(a.statement), content_words(b.statement)
    if not words_a or not words_b:
        return False
    return len(words_a & words_b) / min(len(words_a), len(words_b)) >= SAME_EVENT_OVERLAP


def places(claim: ClaimData, *, local: bool = False) -> frozenset[str]:
    """Regions and districts (only districts with local=True) a claim names: {"kursk"}."""
    return _places((*claim.entities, claim.statement), local)


@lru_cache(maxsize=65_536)  # asked for every pair a stored claim is in
def _places(texts: tuple[str, ...], local: bool) -> frozenset[str]:
    return frozenset(
        m.group(1).casefold()
        for t in texts
        for m in _PLACE.finditer(t)
        if not local or m.group(2) in _LOCAL
    )


def actors(claim: ClaimData) -> tuple[frozenset[str], frozenset[str]]:
    """(surnames of the people the claim says acted, its other one-word names).

    Multi-word capitalized names that are not places ("Vladimir Putin") give surnames. A name
    the statement mentions only after its time ("... entered last Tuesday, told Putin") is
    left out: the date belongs to what came before it.
    """
    when = claim.time.text if claim.time is not None else None
    return _actors(claim.statement, when, tuple(claim.entities))


@lru_cache(maxsize=65_536)  # asked for both sides of every pair
def _actors(
    statement: str, when: str | None, entities: tuple[str, ...]
) -> tuple[frozenset[str], frozenset[str]]:
    statement = statement.casefold()
    cut = len(statement)
    if when is not None and when.casefold() in statement:
        cut = statement.index(when.casefold())
    surnames, singles = set(), set()
    for entity in entities:
        name = _surname(entity) if _is_person(entity) else entity.casefold()
        if not 0 <= statement.find(name) < cut:
            continue
        if _is_person(entity):
            surnames.add(name)
        elif len(entity.split()) == 1:
            singles.add(name)
    return frozenset(surnames), frozenset(singles)


def _same_scale(a: Quantity, b: Quantity) -> bool:
    low, high = sorted((abs(a.upper or a.value), abs(b.upper or b.value)))
    return low > 0 and high / low <= SCOPE_RATIO


def _near(a: TimeRef | None, b: TimeRef | None) -> bool:
    if a is None or b is None or a.date is None or b.date is None:
        return True
    return abs((a.date - b.date).days) <= DATE_WINDOW_DAYS


def same_actor(a: ClaimData, b: ClaimData) -> bool:
    """A person named in both; a one-word name counts when the other side names it in full."""
    surnames_a, singles_a = actors(a)
    surnames_b, singles_b = actors(b)
    return bool(surnames_a & (surnames_b | singles_b) or surnames_b & singles_a)


def _surname(name: str) -> str:
    words = [w for w in _NAME.findall(name) if w.casefold() not in _TITLES]
    return words[-1].casefold() if words else name.casefold()


def _is_person(entity: str) -> bool:
    words = entity.split()
    return len(words) >= 2 and all(w[:1].isupper() for w in words) and not _PLACE.search(entity)


def comparable_places(a: ClaimData, b: ClaimData) -> bool:
    """Same place, or no place said. A district's figure counts part of a region's people, so
    it only compares with a figure for the same district."""
    if places(a, local=True) != places(b, local=True):
        return False
    places_a, places_b = places(a), places(b)
    return not (places_a and places_b) or bool(places_a & places_b)


def claimants_differ(a: str | None, b: str | None) -> bool:
    """Both attributed, to people who share no name ("Alexei Smirnov" ~ "Smirnov")."""
    if not a or not b:
        return False
    names_a = {w.casefold() for w in _NAME.findall(a)} - _TITLES
    names_b = {w.casefold() for w in _NAME.findall(b)} - _TITLES
    return bool(names_a and names_b) and not names_a & names_b


@dataclass
class Settled:
    """What the rules concluded, and the pairs they left open for the judge (by claim)."""

    assessment: Assessment
    open_pairs: dict[int, list[Candidate]]


async def assess(
    claims: list[ClaimData],
    candidates: list[list[Candidate]],
    judge: Judge | None,
    *,
    batch_claims: int = 8,
    concurrency: int = 4,
) -> Assessment:
    """The rules, then the judge on what they left open."""
    settled = settle(claims, candidates)
    return await judge_open(
        claims, settled, judge, batch_claims=batch_claims, concurrency=concurrency
    )


def settle(claims: list[ClaimData], candidates: list[list[Candidate]]) -> Settled:
    """The rules alone: CPU only, no I/O (service.pipeline.rounds admits a few checks at a time)."""
    result = Assessment(per_claim=[[] for _ in claims])
    open_pairs: dict[int, list[Candidate]] = {}
    for index, (claim, found) in enumerate(zip(claims, candidates, strict=True)):
        for candidate in found:
            other = candidate.claim
            related = same_event(claim, other)
            same_place = comparable_places(claim, other)
            dated = same_place and same_actor(claim, other) and _near(claim.time, other.time)
            # Each figure of the claim, and its date, is an aspect with its own finding, so
            # a supported date does not make a contradicted figure "mixed".
            scale = None if places(claim) & places(other) else _same_scale
            theirs = other.quantities if same_place else []
            per_aspect = {
                f"figure {i}": compare_claims([mine], None, theirs, None, comparable=scale)
                for i, mine in enumerate(claim.quantities if same_place else [])
            }
            if dated:
                per_aspect["time"] = compare_claims([], claim.time, [], other.time)
            findings = [f for aspect in per_aspect.values() for f in aspect]
            merged = merge_findings(findings)
            if merged is not None:
                aspects = tuple(
                    (name, m.relation)
                    for name, found in per_aspect.items()
                    if (m := merge_findings(found)) is not None
                )
                # A conflict's findings are its explanation; other notes are caveats.
                notes = merged.notes if merged.relation == "supports" else ()
                result.per_claim[index].append(
                    _assessed(claim, candidate, merged.relation, "rules", findings, notes, aspects)
                )
            elif related or dated:
                open_pairs.setdefault(index, []).append(candidate)
    return Settled(result, open_pairs)


async def judge_open(
    claims: list[ClaimData],
    settled: Settled,
    judge: Judge | None,
    *,
    batch_claims: int = 8,
    concurrency: int = 4,
) -> Assessment:
    result = settled.assessment
    if judge is not None and settled.open_pairs:
        await _judge(claims, settled.open_pairs, judge, result, batch_claims, concurrency)
    return result


def _assessed(claim, candidate, relation, method, findings, notes=(), aspects=()) -> Assessed:
    explanation = "; ".join(f.explanation for f in findings if f.relation != "unrelated")
    differs = claimants_differ(claim.claimant, candidate.claim.claimant)
    if differs:
        notes = (
            *notes,
            f"attributed to {claim.claimant} here, to {candidate.claim.claimant} "
            f"by {candidate.source or 'the other article'}",
        )
    aspects = aspects or (("claim", relation),)
    return Assessed(candidate, relation, method, explanation, tuple(notes), differs, aspects)


async def _judge(claims, open_pairs, judge, result, batch_claims, concurrency) -> None:
    indexes = sorted(open_pairs)
    batches = [indexes[i : i + batch_claims] for i in range(0, len(indexes), batch_claims)]
    limit = asyncio.Semaphore(concurrency)

    async def run(batch: list[int]) -> None:
        pairs: dict[str, tuple[int, Candidate]] = {}
        for index in batch:
            for candidate in open_pairs[index][:JUDGE_CANDIDATES_PER_CLAIM]:
                pairs[f"c{index}-e{candidate.claim.id}"] = (index, candidate)
        request = [
            JudgePair(
                pair_id=pair_id,
                claim=claims[index].statement,
                claim_quote=claims[index].quote,
                evidence=candidate.claim.statement,
                evidence_quote=candidate.claim.quote,
                evidence_source=candidate.source,
            )
            for pair_id, (index, candidate) in pairs.items()
        ]
        async with limit:
            judging = await judge.judge(request)
        result.usage.add(judging.usage)
        result.judged_pairs += len(request)
        for judgement in judging.judgements:
            if judgement.pair_id not in pairs or judgement.relation == "unrelated":
                continue
            index, candidate = pairs[judgement.pair_id]
            assessed = _assessed(claims[index], candidate, judgement.relation, "llm", [])
            result.per_claim[index].append(
                Assessed(**{**assessed.__dict__, "explanation": judgement.explanation})
            )

    await asyncio.gather(*(run(batch) for batch in batches))
