"""The extractor interface: what any claim extractor (LLM or rules) returns for one chunk.

Extractors return *drafts*: figures as written, quotes as the extractor saw them. The pipeline
(service.pipeline.extract) grounds the quotes and normalizes the figures, so every extractor gets
the same checks and no extractor can store an ungrounded quote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from service.models import Qualifier, Usage


class DraftQuantity(BaseModel):
    text: str = Field(description="The figure exactly as written in the quote, units included.")
    value: float = Field(description="The number as stated, e.g. 7.5 for '7.5 miles'.")
    upper: float | None = Field(default=None, description="Upper bound, for ranges only.")
    unit: str | None = Field(
        default=None, description="Unit as stated ('miles', 'sq km'); null for plain counts."
    )
    measure: str = Field(
        description="What the number counts or measures, e.g. 'people killed', 'advance depth'."
    )
    qualifier: Qualifier = Field(
        default="exact", description="exact, about, more_than, less_than or range."
    )


class DraftClaim(BaseModel):
    statement: str = Field(description="The claim as one self-contained sentence, no pronouns.")
    quote: str = Field(description="The exact passage of the article the claim rests on.")
    claimant: str | None = Field(
        default=None, description="Who makes the claim ('Alexei Smirnov'), null if the outlet."
    )
    entities: list[str] = Field(default_factory=list, description="People, places, organizations.")
    quantities: list[DraftQuantity] = Field(default_factory=list)
    time_text: str | None = Field(
        default=None, description="When the event happened, as written ('on Monday')."
    )
    event_date: date | None = Field(
        default=None, description="That time as a calendar date, if it can be resolved."
    )


@dataclass
class ArticleContext:
    """What an extractor may know about the article beyond the chunk it reads."""

    title: str | None = None
    source: str | None = None
    published_at: date | None = None


@dataclass
class Extraction:
    claims: list[DraftClaim]
    usage: Usage = field(default_factory=Usage)


@runtime_checkable
class Extractor(Protocol):
    """Turns one chunk of an article into draft claims."""

    name: str  # recorded on every claim and report, e.g. "offline-rules/1", "llm/instructor"
    model: str | None
    prompt_version: str | None

    async def extract(self, chunk: str, context: ArticleContext) -> Extraction: ...


JudgeRelation = Literal["supports", "conflicts", "unrelated"]


@dataclass(frozen=True)
class JudgePair:
    """One claim and one stored claim from another outlet that the rules could not settle."""

    pair_id: str  # opaque, unique within one judge call; the judge must answer with it
    claim: str  # the checked claim's statement
    claim_quote: str
    evidence: str  # the other outlet's statement
    evidence_quote: str
    evidence_source: str | None = None


class Judgement(BaseModel):
    pair_id: str = Field(description="The id of the pair judged, exactly as given.")
    relation: JudgeRelation = Field(
        description="supports: same fact, agrees; conflicts: same fact, disagrees; "
        "unrelated: different facts or not comparable."
    )
    explanation: str = Field(description="One line: why.")


@dataclass
class Judging:
    judgements: list[Judgement]
    usage: Usage = field(default_factory=Usage)


@runtime_checkable
class Judge(Protocol):
    """Judges many claim–evidence pairs in ONE LLM call (the caller batches by claims)."""

    model: str | None
    prompt_version: str | None

    async def judge(self, pairs: list[JudgePair]) -> Judging: ...
