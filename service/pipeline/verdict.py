"""Turn the evidence about one claim into a verdict, a confidence and its independent sources.

Two steps, both pure:

1. `merge_findings` reduces everything said about one pair of claims (the rule findings of
   compare.py and, optionally, the LLM's judgement) to one relation. Conflict wins, whichever
   judge saw it: a rule conflict stands whatever the LLM says (an LLM never turns a measured
   disagreement into support), and an LLM conflict is not hidden by figures that happen to
   agree. A minor_discrepancy counts as support, and its explanation travels as a note so the
   report can say "supported, but 10,000 vs 11,000".
2. `aggregate` turns the merged evidence of all cited articles into an `Assessment`.

Confidence, for the evidence that determined the verdict (supporting evidence for supported,
conflicting for conflicting, all of it for mixed):

    weight(item)  = 1.0 if deterministic else LLM_WEIGHT, times CLAIMANT_WEIGHT if the article
                    attributes the figure to someone else
    weight(group) = the largest weight of its items (rewrites of one story count once)
    confidence    = 1 - (1 - PER_SOURCE) ** sum(weight(group)), times MIXED_FACTOR if mixed

so it grows with each independent source with diminishing returns (one deterministic source
0.6, two 0.84, three 0.94), never reaches 1, and is 0 for unverified. It is monotonic: adding
evidence that keeps the verdict, making an item deterministic or the same claimant never lowers it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from service.models import Relation, Verdict
from service.pipeline.compare import Finding

PER_SOURCE = 0.6
"""Confidence one independent, deterministic, same-claimant source gives on its own."""
LLM_WEIGHT = 0.6
"""An LLM judgement counts as 0.6 of a rule-based comparison."""
CLAIMANT_WEIGHT = 0.5
"""Evidence attributed to a different claimant corroborates less: it is another person's word."""
MIXED_FACTOR = 0.5
"""Mixed evidence is reported with half the confidence the same sources would otherwise give."""


@dataclass(frozen=True)
class Evidence:
    relation: Relation
    article_id: int
    source: str | None
    group: int  # independence group of the article (independence.group_near_duplicates)
    deterministic: bool  # rules (compare.py) rather than LLM judgement
    claimant_differs: bool = False
    aspect: str = "claim"  # the part of the claim it bears on: "figure 0", "time", "claim"


@dataclass(frozen=True)
class Assessment:
    verdict: Verdict
    confidence: float
    independent_sources: int


@dataclass(frozen=True)
class Merged:
    """One relation between a pair of claims, with what it rests on."""

    relation: Relation
    deterministic: bool
    notes: tuple[str, ...] = ()


def merge_findings(findings: Iterable[Finding], llm: Relation | None = None) -> Merged | None:
    """One relation from the rule findings and the LLM's judgement of a pair of claims.

    None when neither says anything (all findings unrelated and no LLM judgement)."""
    findings = list(findings)
    conflicts = [f.explanation for f in findings if f.relation == "conflicts"]
    minor = [f.explanation for f in findings if f.relation == "minor_discrepancy"]
    supports = [f for f in findings if f.relation == "supports"]
    if conflicts:
        return Merged("conflicts", deterministic=True, notes=tuple(conflicts))
    if llm == "conflicts":
        return Merged("conflicts", deterministic=False, notes=tuple(minor))
    if supports or minor:
        return Merged("supports", deterministic=True, notes=tuple(minor))
    if llm == "supports":
        return Merged("supports", deterministic=False)
    return None


def _weight(e: Evidence) -> float:
    return (1.0 if e.deterministic else LLM_WEIGHT) * (
        CLAIMANT_WEIGHT if e.claimant_differs else 1.0
    )


def _confidence(evidence: Sequence[Evidence]) -> float:
    groups: dict[int, float] = {}
    for e in evidence:
        groups[e.group] = max(groups.get(e.group, 0.0), _weight(e))
    return 1 - (1 - PER_SOURCE) ** sum(groups.values())


def aggregate(evidence: Sequence[Evidence]) -> Assessment:
    """The verdict on one claim from the merged evidence of the articles cited for it.

    A measured disagreement outranks a judged agreement: when the rules find a conflict and
    only the LLM finds support, the claim is conflicting, not mixed (the LLM's support stays
    in the citations). "Putin on Tuesday ordered..." is not made mixed by articles that agree
    he ordered it, when the same articles date the order to Monday.
    """
    supporting = [e for e in evidence if e.relation == "supports"]
    conflicting = [e for e in evidence if e.relation == "conflicts"]
    if any(e.deterministic for e in conflicting) and not any(e.deterministic for e in supporting):
        supporting = []
    verdict: Verdict
    if supporting and conflicting:
        verdict, basis, factor = "mixed", [*supporting, *conflicting], MIXED_FACTOR
    elif supporting:
        verdict, basis, factor = "supported", supporting, 1.0
    elif conflicting:
        verdict, basis, factor = "conflicting", conflicting, 1.0
    else:
        return Assessment("unverified", 0.0, 0)
    sources = len({e.group for e in basis})
    return Assessment(verdict, round(factor * _confidence(basis), 4), sources)


def aggregate_claim(evidence: Sequence[Evidence]) -> tuple[Assessment, list[str]]:
    """The verdict on a claim whose parts (each figure, its date, the whole) are judged apart.

    Each aspect gets `aggregate`; the claim is then as bad as its worst part: conflicting if
    any part conflicts, else mixed if any part is mixed, else supported if any part is. "Smirnov
    told Putin on Monday that troops pushed 35 km" is conflicting (the distance), not mixed,
    because other outlets agree on the day. The notes name the parts that fared better.
    """
    by_aspect: dict[str, list[Evidence]] = {}
    for item in evidence:
        by_aspect.setdefault(item.aspect, []).append(item)
    assessed = {aspect: aggregate(items) for aspect, items in by_aspect.items()}
    for verdict in ("conflicting", "mixed", "supported"):
        deciding = [a for a in assessed.values() if a.verdict == verdict]
        if deciding:
            best = max(deciding, key=lambda a: (a.independent_sources, a.confidence))
            others = sorted(
                f"the {aspect} is {a.verdict}"
                for aspect, a in assessed.items()
                if a.verdict != verdict and a.verdict != "unverified"
            )
            return best, others
    return Assessment("unverified", 0.0, 0), []
