"""Report: per-claim verdicts with citations, a summary, and what produced them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from service.models import CheckedClaim, CheckReport, Citation, ClaimData, Summary, Usage
from service.pipeline.evidence import Assessed
from service.pipeline.verdict import Evidence, aggregate_claim
from service.store.tables import utcnow

CHECKED_ARTICLE = -1  # the article under check, in independence grouping


@dataclass(frozen=True)
class Provenance:
    extractor: str
    model: str | None
    prompt_version: str | None
    judge_prompt_version: str | None = None


def build_report(
    claims: list[ClaimData],
    claim_ids: list[int | None],
    assessed: list[list[Assessed]],
    groups: dict[int, int],
    *,
    article_id: int | None,
    provenance: Provenance,
    usage: Usage,
    dropped: int,
) -> CheckReport:
    """`groups` maps article ids (and CHECKED_ARTICLE) to their near-duplicate group."""
    own_group = groups.get(CHECKED_ARTICLE, CHECKED_ARTICLE)
    checked = []
    for claim, claim_id, items in zip(claims, claim_ids, assessed, strict=True):
        citations, evidence, notes = [], [], []
        for item in items:
            article = item.candidate.claim.article_id
            group = groups.get(article, article)
            citations.append(_citation(item, group))
            notes += item.notes
            if group == own_group:
                # A rewrite of the article under check repeats it; it cannot corroborate it.
                notes.append(f"{item.candidate.source or article} rewrites this article")
                continue
            evidence += [
                Evidence(
                    relation=relation,
                    article_id=article,
                    source=item.candidate.source,
                    group=group,
                    deterministic=item.method == "rules",
                    claimant_differs=item.claimant_differs,
                    aspect=_aspect_name(claim, aspect),
                )
                for aspect, relation in item.aspects
            ]
        assessment, parts = aggregate_claim(evidence)
        notes += parts
        checked.append(
            CheckedClaim(
                id=claim_id,
                **claim.model_dump(include={"statement", "quote", "span", "claimant"}),
                entities=claim.entities,
                quantities=claim.quantities,
                time=claim.time,
                verdict=assessment.verdict,
                confidence=assessment.confidence,
                independent_sources=assessment.independent_sources,
                citations=sorted(citations, key=lambda c: (c.relation, c.article_id, c.span)),
                notes=list(dict.fromkeys(notes)),
            )
        )
    verdicts = Counter(claim.verdict for claim in checked)
    now = utcnow()
    return CheckReport(
        id=0,
        article_id=article_id,
        status="done",
        extractor=provenance.extractor,
        model=provenance.model,
        prompt_version=provenance.prompt_version,
        judge_prompt_version=provenance.judge_prompt_version,
        created_at=now,
        finished_at=now,
        claims=checked,
        summary=Summary(claims=len(checked), dropped_ungrounded=dropped, **verdicts),
        usage=usage,
    )


def _aspect_name(claim: ClaimData, aspect: str) -> str:
    """ "figure 0" → "figure 35 km" for the notes a reader sees."""
    if aspect.startswith("figure "):
        return f"figure {claim.quantities[int(aspect.split()[1])].text!r}"
    return "date" if aspect == "time" else aspect


def _citation(item: Assessed, group: int) -> Citation:
    claim = item.candidate.claim
    return Citation(
        claim_id=claim.id,
        article_id=claim.article_id,
        source=item.candidate.source,
        url=item.candidate.url,
        title=item.candidate.title,
        quote=claim.quote,
        span=claim.span,
        claimant=claim.claimant,
        relation=item.relation,
        explanation=item.explanation,
        method="llm" if item.method == "llm" else "rules",
        independent_group=group,
    )
