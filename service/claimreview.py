"""ClaimReview: a check report as schema.org ClaimReview JSON-LD, one review per checked claim.

The rating scale (`reviewRating.ratingValue`, worst 1, best 4) orders the verdicts by what other
outlets' reporting says about the claim:

    1  conflicting   Conflicts with other outlets   only contradicted
    2  mixed         Mixed evidence                 contradicted by some, confirmed by others
    3  unverified    Unverified                     neither confirmed nor contradicted
    4  supported     Supported by other outlets     only confirmed

`alternateName` carries the verdict in words; that is what readers and search engines show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.errors import NotFound
from service.models import ArticleOut, CheckedClaim, CheckReport, Verdict
from service.settings import Settings
from service.store.base import Store

JsonLd = dict[str, Any]

SCALE: dict[Verdict, tuple[int, str]] = {
    "conflicting": (1, "Conflicts with other outlets"),
    "mixed": (2, "Mixed evidence"),
    "unverified": (3, "Unverified"),
    "supported": (4, "Supported by other outlets"),
}
WORST, BEST = 1, 4

# Claimants are free text ("Alexei Smirnov", "Russian news agencies", "TASS"); words like these,
# or an acronym, make one an Organization rather than a Person.
_ORG_WORDS = re.compile(
    r"\b(ministry|ministries|agenc(y|ies)|government|army|forces|military|office|council|"
    r"committee|police|department|service|news|media|outlets?|press|kremlin|pentagon|"
    r"parliament|duma|court|bank|company|corporation|inc|ltd|group|union|nations|"
    r"organi[sz]ation|institute|university|association|party|command|staff|authorit(y|ies)|"
    r"officials|administration|commission|headquarters|embassy|reuters|associated)\b",
    re.IGNORECASE,
)
_ACRONYM = re.compile(r"\b[A-Z]{2,}\b")


@dataclass(frozen=True)
class Publisher:
    """Who publishes the reviews, and where the checks live (from settings)."""

    org_name: str
    org_url: str
    public_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Publisher:
        public = settings.public_url.rstrip("/")
        return cls(settings.org_name, (settings.org_url or public).rstrip("/"), public)

    def check_url(self, check_id: int) -> str:
        return f"{self.public_url}/v1/checks/{check_id}"


def claim_reviews(
    report: CheckReport, publisher: Publisher, article: ArticleOut | None = None
) -> list[JsonLd]:
    """One ClaimReview per checked claim; `article` is the checked article when it is stored."""
    return [_review(claim, report, publisher, article) for claim in report.claims]


def claimant(name: str) -> JsonLd:
    """The claimant as a schema.org Person or Organization."""
    kind = "Organization" if _ORG_WORDS.search(name) or _ACRONYM.search(name) else "Person"
    return {"@type": kind, "name": name}


def _review(
    claim: CheckedClaim, report: CheckReport, publisher: Publisher, article: ArticleOut | None
) -> JsonLd:
    value, words = SCALE[claim.verdict]
    check_url = publisher.check_url(report.id)
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": check_url,
        "datePublished": _iso(report.finished_at or report.created_at),
        "author": {"@type": "Organization", "name": publisher.org_name, "url": publisher.org_url},
        "claimReviewed": claim.statement,
        "itemReviewed": _claim(claim, report, article, check_url),
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": value,
            "bestRating": BEST,
            "worstRating": WORST,
            "alternateName": words,
        },
    }


def _claim(
    claim: CheckedClaim, report: CheckReport, article: ArticleOut | None, check_url: str
) -> JsonLd:
    appearance: JsonLd = {"@type": "CreativeWork", "url": check_url}
    if article is not None and article.url:
        appearance["url"] = article.url
    if article is not None and article.title:
        appearance["headline"] = article.title
    if article is not None and article.source:
        appearance["publisher"] = {"@type": "Organization", "name": article.source}
    item: JsonLd = {"@type": "Claim", "appearance": appearance}
    # An unattributed claim is the outlet's own; with neither, the claim has no known author.
    if claim.claimant:
        item["author"] = claimant(claim.claimant)
    elif article is not None and article.source:
        item["author"] = {"@type": "Organization", "name": article.source}
    # When the claim was made: the article's publication, else when it came in to be checked.
    published = article.published_at if article is not None else None
    item["datePublished"] = _iso(published or report.created_at)
    return item


def _iso(moment: datetime) -> str:
    return moment.isoformat()


async def load_claim_reviews(store: Store, check_id: int, settings: Settings) -> list[JsonLd]:
    """The reviews of a stored check (NotFound when unknown); a deleted article is left out."""
    report = await store.get_check(check_id)
    article = None
    if report.article_id is not None:
        try:
            article = await store.get_article(report.article_id)
        except NotFound:
            article = None
    return claim_reviews(report, Publisher.from_settings(settings), article)
