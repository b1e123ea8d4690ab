"""The extractor interface: what any claim extractor (LLM or rules) returns for one chunk.

Extractors return *drafts*: figures as written, quotes as the extractor saw them. The pipeline
(service.pipeline.extract) grounds the quotes and normalizes the figures, so every extractor gets
the same checks and no extractor can store an ungrounded quote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

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


class Extractor(Protocol):
    """Turns one chunk of an article into draft claims."""

    name: str  # recorded on every claim and report, e.g. "offline-rules/1", "llm/instructor"
    model: str | None
    prompt_version: str | None

    async def extract(self, chunk: str, context: ArticleContext) -> Extraction: ...
