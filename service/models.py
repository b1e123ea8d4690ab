"""The API contract: pydantic models every endpoint accepts or returns (exported to schemas/)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    UrlConstraints,
    field_validator,
)

Qualifier = Literal["exact", "about", "more_than", "less_than", "range"]
Verdict = Literal["supported", "conflicting", "mixed", "unverified"]
Relation = Literal["supports", "conflicts"]
CheckStatus = Literal["queued", "running", "done", "failed"]
DeliveryStatus = Literal["pending", "delivered", "failed"]
CallbackUrl = Annotated[
    AnyHttpUrl, UrlConstraints(max_length=2000, allowed_schemes=["http", "https"])
]

Span = tuple[int, int]
CalendarDate = date  # TimeRef has a field named `date`, which would shadow the type


class Contract(BaseModel):
    """Base for request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain non-whitespace text")
    return value


class ArticleIn(Contract):
    text: Annotated[str, Field(min_length=1, description="The article body, plain text.")]
    title: Annotated[str, StringConstraints(max_length=1000)] | None = None
    url: Annotated[str, StringConstraints(max_length=2000)] | None = None
    source: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="The outlet, e.g. 'BBC'. Citations name it."
    )
    published_at: datetime | None = Field(
        default=None, description="Publication time; relative dates ('on Monday') resolve to it."
    )

    _text_not_blank = field_validator("text")(_not_blank)


class Quantity(BaseModel):
    """A figure a claim states, normalized so figures from different articles compare."""

    text: str = Field(description="The figure as written, e.g. '7.5 miles (12 kilometers)'.")
    value: float = Field(description="The value in `unit` (the canonical unit of its dimension).")
    upper: float | None = Field(default=None, description="Upper bound when qualifier is range.")
    unit: str = Field(description="Canonical unit: 'km', 'km**2', 'count', 'USD', ...")
    dimension: str = Field(description="What kind of figure: count, length, area, money, ...")
    measure: str = Field(description="What is measured: 'people evacuated', 'advance depth'.")
    qualifier: Qualifier = "exact"
    stated_value: float | None = Field(default=None, description="The value as written.")
    stated_unit: str | None = Field(default=None, description="The unit as written.")


class TimeRef(BaseModel):
    """When the claimed event happened, resolved against the article's publication date."""

    text: str = Field(description="As written, e.g. 'on Monday'.")
    date: CalendarDate | None = Field(
        default=None, description="The calendar date, when resolvable."
    )
    weekday: str | None = Field(default=None, description="'Monday'..'Sunday' when stated.")


class ClaimData(BaseModel):
    """A grounded claim: what the extract stage produces and the store keeps."""

    statement: str = Field(description="Self-contained restatement, pronouns resolved.")
    quote: str = Field(description="Verbatim passage of the article the claim rests on.")
    span: Span = Field(description="[start, end) character offsets of quote in the article.")
    claimant: str | None = Field(default=None, description="Who says it, if attributed.")
    entities: list[str] = Field(default_factory=list)
    quantities: list[Quantity] = Field(default_factory=list)
    time: TimeRef | None = None
    extractor: str
    model: str | None = None
    prompt_version: str | None = None


class ClaimOut(ClaimData):
    id: int
    article_id: int


class ArticleOut(BaseModel):
    id: int
    text: str
    title: str | None
    url: str | None
    source: str | None
    published_at: datetime | None
    content_hash: str
    created_at: datetime
    claims: list[ClaimOut] = Field(default_factory=list)
    usage: Usage | None = Field(
        default=None, description="LLM calls and tokens this request spent (when it extracted)."
    )


class ArticleSummary(BaseModel):
    id: int
    title: str | None
    url: str | None
    source: str | None
    published_at: datetime | None
    content_hash: str
    created_at: datetime
    claim_count: int


class Page(BaseModel):
    items: list[ArticleSummary]
    total: int
    limit: int
    offset: int


class Usage(BaseModel):
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.llm_calls += other.llm_calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    detail: str | None = None
    database: str | None = None
    migration: str | None = None


class CheckIn(ArticleIn):
    store: bool = Field(
        default=True,
        description="Keep the article as evidence for later checks; false: check only.",
    )
    callback_url: CallbackUrl | None = Field(
        default=None,
        description="Check asynchronously (202) and POST the signed report here when finished.",
    )


class Citation(BaseModel):
    """One piece of evidence from another outlet's article."""

    claim_id: int
    article_id: int
    source: str | None
    url: str | None
    title: str | None
    quote: str = Field(description="The cited article's exact passage (grounded by offsets).")
    span: Span
    claimant: str | None = None
    relation: Relation
    explanation: str
    method: Literal["rules", "llm"] = Field(description="Settled by exact comparison or the LLM.")
    independent_group: int = Field(
        description="Articles sharing a group rewrite each other and count as one source."
    )


class CheckedClaim(BaseModel):
    id: int | None = Field(description="The stored claim's id; null when checked with store=false.")
    statement: str
    quote: str
    span: Span
    claimant: str | None = None
    entities: list[str] = Field(default_factory=list)
    quantities: list[Quantity] = Field(default_factory=list)
    time: TimeRef | None = None
    verdict: Verdict
    confidence: float = Field(ge=0, le=1)
    independent_sources: int = Field(ge=0)
    citations: list[Citation] = Field(default_factory=list)
    notes: list[str] = Field(
        default_factory=list, description="Caveats: differing claimants, minor discrepancies."
    )


class Summary(BaseModel):
    claims: int = 0
    supported: int = 0
    conflicting: int = 0
    mixed: int = 0
    unverified: int = 0
    dropped_ungrounded: int = Field(
        default=0, description="Extracted claims dropped because their quote is not in the text."
    )


class Delivery(BaseModel):
    """The webhook delivery of an asynchronous check's report to its callback_url."""

    status: DeliveryStatus
    attempts: int = Field(ge=0, description="POSTs made so far.")
    last_error: str | None = Field(default=None, description="Why the last failed POST failed.")
    delivered_at: datetime | None = None


class CheckReport(BaseModel):
    id: int
    article_id: int | None = Field(description="The stored article; null when store=false.")
    status: CheckStatus
    extractor: str
    model: str | None
    prompt_version: str | None
    judge_prompt_version: str | None = None
    created_at: datetime
    finished_at: datetime | None = None
    claims: list[CheckedClaim] = Field(default_factory=list)
    summary: Summary = Field(default_factory=Summary)
    usage: Usage = Field(default_factory=Usage)
    error: str | None = None
    delivery: Delivery | None = Field(
        default=None, description="Webhook delivery, for checks posted with a callback_url."
    )
