"""Verdict aggregation and finding merging: the rules, then their properties on random evidence."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import pytest

from service.pipeline.compare import Finding
from service.pipeline.verdict import Assessment, Evidence, Merged, aggregate, merge_findings


def ev(
    relation: str = "supports",
    group: int = 1,
    deterministic: bool = True,
    claimant_differs: bool = False,
    article_id: int | None = None,
) -> Evidence:
    return Evidence(
        relation=relation,
        article_id=group if article_id is None else article_id,
        source=f"outlet {group}",
        group=group,
        deterministic=deterministic,
        claimant_differs=claimant_differs,
    )


SUP = Finding("supports", "12 vs 12: agree within rounding and qualifiers")
MINOR = Finding("minor_discrepancy", "about 10,000 vs about 11,000: differ by 10%")
CON = Finding("conflicts", "12 km vs 30 km: differ by 150%")
UNREL = Finding("unrelated", "different measures")

SUPPORT = Merged("supports", True)
MINOR_NOTE, CON_NOTE = (MINOR.explanation,), (CON.explanation,)

MERGE_CASES = [
    ("nothing", [], None, None),
    ("only unrelated", [UNREL], None, None),
    ("support", [SUP, UNREL], None, SUPPORT),
    ("minor counts as support, with a note", [MINOR], None, Merged("supports", True, MINOR_NOTE)),
    (
        "one conflict wins over supports",
        [SUP, CON, MINOR],
        None,
        Merged("conflicts", True, CON_NOTE),
    ),
    ("LLM cannot overturn a rule conflict", [CON], "supports", Merged("conflicts", True, CON_NOTE)),
    ("LLM conflict beats agreeing figures", [SUP], "conflicts", Merged("conflicts", False)),
    (
        "LLM conflict keeps minor notes",
        [MINOR],
        "conflicts",
        Merged("conflicts", False, MINOR_NOTE),
    ),
    ("rules win over LLM support", [SUP], "supports", SUPPORT),
    ("LLM support alone", [UNREL], "supports", Merged("supports", False)),
    ("LLM conflict alone", [], "conflicts", Merged("conflicts", False)),
]


@pytest.mark.parametrize(
    ("findings", "llm", "expected"), [c[1:] for c in MERGE_CASES], ids=[c[0] for c in MERGE_CASES]
)
def test_merge_findings(findings: list[Finding], llm: str | None, expected: Merged | None) -> None:
    assert merge_findings(findings, llm) == expected
    assert merge_findings(reversed(findings), llm) == expected  # order does not matter


def sup(n: int) -> Assessment:
    return Assessment("supported", round(1 - 0.4**n, 4), n)


AGGREGATE_CASES = [
    ("no evidence", [], Assessment("unverified", 0.0, 0)),
    ("one rule support", [ev()], sup(1)),
    ("a rewrite counts once", [ev(group=1), ev(group=1, article_id=3)], sup(1)),
    ("two independent supports", [ev(group=1), ev(group=2)], sup(2)),
    ("three independent supports", [ev(group=g) for g in (1, 2, 4)], sup(3)),
    ("one rule conflict", [ev("conflicts")], Assessment("conflicting", 0.6, 1)),
    (
        "two conflicting groups",
        [ev("conflicts", 1), ev("conflicts", 2)],
        Assessment("conflicting", 0.84, 2),
    ),
    (
        "mixed counts all groups",
        [ev(group=1), ev(group=2), ev("conflicts", 4)],
        Assessment("mixed", 0.468, 3),
    ),
    ("mixed within one group", [ev(group=1), ev("conflicts", 1)], Assessment("mixed", 0.3, 1)),
]


@pytest.mark.parametrize(
    ("evidence", "expected"), [c[1:] for c in AGGREGATE_CASES], ids=[c[0] for c in AGGREGATE_CASES]
)
def test_aggregate(evidence: list[Evidence], expected: Assessment) -> None:
    assert aggregate(evidence) == expected


def test_weaker_evidence_gives_lower_confidence() -> None:
    rule = aggregate([ev()]).confidence
    llm = aggregate([ev(deterministic=False)]).confidence
    other_claimant = aggregate([ev(claimant_differs=True)]).confidence
    both = aggregate([ev(deterministic=False, claimant_differs=True)]).confidence
    assert rule > llm > both > 0
    assert rule > other_claimant > both
    # within a group the strongest item counts: an LLM echo adds nothing to a rule finding
    assert aggregate([ev(), ev(deterministic=False)]).confidence == rule


# --- properties over random evidence ------------------------------------------------------------

DETERMINING = {
    "supported": {"supports"},
    "conflicting": {"conflicts"},
    "mixed": {"supports", "conflicts"},
}


def random_evidence(rng: random.Random) -> list[Evidence]:
    return [
        ev(
            rng.choice(["supports", "conflicts"]),
            group=rng.randint(1, 5),
            deterministic=rng.random() < 0.5,
            claimant_differs=rng.random() < 0.3,
            article_id=rng.randint(1, 9),
        )
        for _ in range(rng.randint(0, 6))
    ]


CASES = [random_evidence(random.Random(seed)) for seed in range(400)]


@pytest.mark.parametrize("evidence", CASES[:50])
def test_assessment_invariants(evidence: list[Evidence]) -> None:
    result = aggregate(evidence)
    assert 0.0 <= result.confidence < 1.0
    assert (result.verdict == "unverified") == (not evidence) == (result.confidence == 0.0)
    groups = {e.group for e in evidence if e.relation in DETERMINING.get(result.verdict, ())}
    assert result.independent_sources == len(groups)
    assert aggregate(list(reversed(evidence))) == result


def test_confidence_is_monotonic() -> None:
    rng = random.Random(7)
    for evidence in CASES:
        before = aggregate(evidence)
        if before.verdict == "unverified":
            continue
        relation = rng.choice(sorted(DETERMINING[before.verdict]))
        if before.verdict == "mixed":
            # A measured conflict added to judged-only support makes it conflicting (below).
            relation = "supports"
        # 1. more evidence that keeps the verdict never lowers confidence
        for extra in (ev(relation, rng.randint(1, 9)), ev(relation, 99, deterministic=False)):
            after = aggregate([*evidence, extra])
            assert after.verdict == before.verdict
            assert after.confidence >= before.confidence
        # 2. a new independent group always raises it (while far from saturation)
        if before.independent_sources < 5:
            assert aggregate([*evidence, ev(relation, 99)]).confidence > before.confidence
        # 3. making an item deterministic never lowers it; a different claimant never raises it
        for i, item in enumerate(evidence):
            det = [*evidence[:i], replace(item, deterministic=True), *evidence[i + 1 :]]
            if aggregate(det).verdict == before.verdict:
                assert aggregate(det).confidence >= before.confidence
            other = [*evidence[:i], replace(item, claimant_differs=True), *evidence[i + 1 :]]
            assert aggregate(other).confidence <= before.confidence


def test_measured_conflict_outranks_judged_support() -> None:
    judged_support = ev("supports", 1, deterministic=False)
    measured_conflict = ev("conflicts", 2)
    assert aggregate([judged_support, measured_conflict]).verdict == "conflicting"
    assert aggregate([judged_support, measured_conflict]).independent_sources == 1
    # Measured on both sides: genuinely mixed.
    assert aggregate([ev("supports", 1), measured_conflict]).verdict == "mixed"
    # Judged on both sides: mixed as well; the rules said nothing.
    assert aggregate([judged_support, ev("conflicts", 2, deterministic=False)]).verdict == "mixed"


def test_mixed_is_less_confident_than_agreement_on_the_same_sources() -> None:
    for evidence in CASES:
        if aggregate(evidence).verdict != "mixed":
            continue
        agreeing = [replace(e, relation="supports") for e in evidence]
        assert aggregate(evidence).confidence < aggregate(agreeing).confidence


def test_confidence_has_diminishing_returns() -> None:
    confidences = [aggregate([ev(group=g) for g in range(n)]).confidence for n in range(1, 7)]
    gains = [b - a for a, b in itertools.pairwise(confidences)]
    assert all(g > 0 for g in gains)
    assert gains == sorted(gains, reverse=True)


def test_a_claim_is_as_bad_as_its_worst_part() -> None:
    from service.pipeline.verdict import aggregate_claim

    day_agrees = [replace(ev("supports", g), aspect="date") for g in (1, 2)]
    figure_conflicts = [replace(ev("conflicts", g), aspect="figure '35 km'") for g in (1, 3)]
    assessment, notes = aggregate_claim([*day_agrees, *figure_conflicts])
    assert assessment.verdict == "conflicting"
    assert assessment.independent_sources == 2
    assert notes == ["the date is supported"]

    # Support and conflict on the same part is genuinely mixed.
    split = [
        replace(ev("supports", 1), aspect="figure '12 km'"),
        replace(ev("conflicts", 2), aspect="figure '12 km'"),
    ]
    assert aggregate_claim(split)[0].verdict == "mixed"
    # A mixed part outranks a supported one, a supported part outranks silence.
    assert aggregate_claim([*split, *day_agrees])[0].verdict == "mixed"
    assert aggregate_claim(day_agrees)[0].verdict == "supported"
    assert aggregate_claim([]) == (Assessment("unverified", 0.0, 0), [])
