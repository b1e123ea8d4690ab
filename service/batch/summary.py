"""The batch summary an editor reads: verdict counts per file, then every conflicting or mixed
claim with its quote and the other outlets' passages it was checked against.

`summarize` builds it as a model (written as summary.json); `to_markdown` renders summary.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from service.models import CheckReport, Relation, Summary, Verdict

FileStatus = Literal["checked", "reused", "failed", "skipped"]
STATUS_TEXT = {
    "checked": "checked",
    "reused": "already checked",
    "failed": "failed",
    "skipped": "skipped (bad input)",
}
FLAGGED: dict[str, set[str]] = {"conflicting": {"conflicting"}, "mixed": {"conflicting", "mixed"}}


class FileResult(BaseModel):
    path: str
    status: FileStatus
    content_hash: str | None = None
    report: str | None = Field(default=None, description="The report's file name in the folder.")
    check_id: int | None = None
    counts: Summary | None = None
    error: str | None = None


class FlaggedCitation(BaseModel):
    source: str | None
    article_id: int
    url: str | None
    title: str | None
    relation: Relation
    quote: str
    explanation: str


class FlaggedClaim(BaseModel):
    path: str
    report: str | None
    verdict: Verdict
    statement: str
    quote: str
    claimant: str | None
    confidence: float
    notes: list[str]
    citations: list[FlaggedCitation]


class Totals(Summary):
    files: int = 0
    checked: int = 0
    reused: int = 0
    failed: int = 0
    skipped: int = 0


class BatchSummary(BaseModel):
    generated_at: datetime
    checked_with: str
    totals: Totals
    files: list[FileResult]
    flagged: list[FlaggedClaim] = Field(description="Conflicting and mixed claims, file order.")

    def has(self, fail_on: str) -> bool:
        """Whether any claim has the --fail-on verdict ('mixed' counts conflicting too)."""
        return any(claim.verdict in FLAGGED[fail_on] for claim in self.flagged)


def summarize(
    results: list[tuple[FileResult, CheckReport | None]], checked_with: str
) -> BatchSummary:
    totals = Totals(files=len(results))
    flagged: list[FlaggedClaim] = []
    for result, report in results:
        setattr(totals, result.status, getattr(totals, result.status) + 1)
        if report is None:
            continue
        for field in ("claims", "supported", "conflicting", "mixed", "unverified"):
            setattr(totals, field, getattr(totals, field) + getattr(report.summary, field))
        flagged.extend(_flagged(result, report))
    return BatchSummary(
        generated_at=datetime.now(UTC).replace(microsecond=0),
        checked_with=checked_with,
        totals=totals,
        files=[result for result, _ in results],
        flagged=flagged,
    )


def _flagged(result: FileResult, report: CheckReport) -> list[FlaggedClaim]:
    return [
        FlaggedClaim(
            path=result.path,
            report=result.report,
            verdict=claim.verdict,
            statement=claim.statement,
            quote=claim.quote,
            claimant=claim.claimant,
            confidence=claim.confidence,
            notes=claim.notes,
            citations=[
                FlaggedCitation.model_validate(citation.model_dump())
                for citation in claim.citations
            ],
        )
        for claim in report.claims
        if claim.verdict in FLAGGED["mixed"]
    ]


def to_markdown(summary: BatchSummary) -> str:
    t = summary.totals
    lines = [
        "# Fact-check summary",
        "",
        f"{t.files} files: {t.checked} checked, {t.reused} already checked, {t.failed} failed, "
        f"{t.skipped} skipped. {t.claims} claims: {t.supported} supported, "
        f"{t.conflicting} conflicting, {t.mixed} mixed, {t.unverified} unverified.",
        "",
        f"Checked with {summary.checked_with}; "
        f"summary written {summary.generated_at:%Y-%m-%d %H:%M} UTC.",
        "",
        "| File | Claims | Supported | Conflicting | Mixed | Unverified | Status | Report |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for f in summary.files:
        c = f.counts
        counts = [c.claims, c.supported, c.conflicting, c.mixed, c.unverified] if c else [""] * 5
        cells = [f"`{f.path}`", *map(str, counts), STATUS_TEXT[f.status], f.report or ""]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    lines += ["", "## Claims to review (conflicting or mixed)", ""]
    if not summary.flagged:
        lines += ["None: no claim conflicts with another outlet.", ""]
    for claim in summary.flagged:
        lines += _claim_markdown(claim)
    problems = [f for f in summary.files if f.status in {"failed", "skipped"}]
    if problems:
        lines += ["## Not checked", ""]
        lines += [f"- `{f.path}`, {STATUS_TEXT[f.status]}: {_error(f)}" for f in problems]
        lines.append("")
    return "\n".join(lines)


def _claim_markdown(claim: FlaggedClaim) -> list[str]:
    said = f"claimant: {_flat(claim.claimant)} · " if claim.claimant else ""
    lines = [
        f"### {claim.verdict.upper()}: `{claim.path}`",
        "",
        f"> {_flat(claim.quote)}",
        "",
        f"**Claim:** {_flat(claim.statement)}  ",
        f"{said}confidence {claim.confidence:.2f}",
        "",
    ]
    lines += [f"- Note: {_flat(note)}" for note in claim.notes]
    for cite in claim.citations:
        title = f", “{_flat(cite.title)}”" if cite.title else ""
        where = f"article {cite.article_id}" + (f", {cite.url}" if cite.url else "")
        lines.append(
            f"- **{_flat(cite.source or 'unknown outlet')}**{title} ({where}) {cite.relation}: "
            f"“{_flat(cite.quote)}”  \n  {_flat(cite.explanation)}"
        )
    lines.append("")
    return lines


def _error(result: FileResult) -> str:
    """The error without the file name it starts with (the line names the file already)."""
    error = _flat(result.error or "unknown error")
    return error.removeprefix(f"{result.path}: ")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    return _flat(text).replace("|", "\\|")
