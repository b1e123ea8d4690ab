"""ClaimReview builder: pure report → JSON-LD, checked against the schema.org vocabulary."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from service.claimreview import Publisher, claim_reviews, claimant
from service.models import ArticleOut, CheckedClaim, CheckReport, Citation
from tests.conftest import make_settings
from tests.schemaorg import problems

CREATED = datetime(2024, 8, 14, 9, 30, tzinfo=UTC)
FINISHED = datetime(2024, 8, 14, 9, 31, tzinfo=UTC)
PUBLISHED = datetime(2024, 8, 13, 8, 0, tzinfo=UTC)
PUBLISHER = Publisher("Example Fact Desk", "https://desk.example.org", "https://fc.example.org")


def _claim(verdict: str, claimant: str | None, statement: str) -> CheckedClaim:
    citation = Citation(
        claim_id=7,
        article_id=2,
        source="BBC",
        url=None,
        title=None,
        quote="12 kilometers",
        span=(0, 13),
        relation="conflicts",
        explanation="30 km vs 12 km",
        method="rules",
        independent_group=1,
    )
    return CheckedClaim(
        id=None,
        statement=statement,
        quote=statement,
        span=(0, len(statement)),
        claimant=claimant,
        verdict=verdict,
        confidence=0.8,
        independent_sources=1,
        citations=[citation] if verdict != "unverified" else [],
    )


def _report(article_id: int | None = None) -> CheckReport:
    return CheckReport(
        id=42,
        article_id=article_id,
        status="done",
        extractor="offline-rules/1",
        model=None,
        prompt_version=None,
        created_at=CREATED,
        finished_at=FINISHED,
        claims=[
            _claim("supported", "Alexei Smirnov", "12 civilians were killed."),
            _claim("conflicting", None, "Ukrainian forces advanced 30 kilometers."),
            _claim("mixed", "Russian news agencies", "28 towns were taken."),
            _claim("unverified", "TASS", "Talks are ruled out."),
        ],
    )


ARTICLE = ArticleOut(
    id=5,
    text="...",
    title="Putin orders army to expel Ukrainians",
    url="https://news.example/a",
    source="Al-Ittihad",
    published_at=PUBLISHED,
    content_hash="x",
    created_at=CREATED,
)


@pytest.mark.parametrize("article", [None, ARTICLE], ids=["not-stored", "stored"])
def test_every_type_and_property_is_schema_org(article: ArticleOut | None) -> None:
    reviews = claim_reviews(_report(article and article.id), PUBLISHER, article)
    assert len(reviews) == 4
    assert problems(reviews) == []


def test_validator_catches_what_schema_org_does_not_define() -> None:
    (review,) = claim_reviews(_report(), PUBLISHER)[:1]
    broken = copy.deepcopy(review)
    broken["appearance"] = broken["itemReviewed"].pop("appearance")  # Claim's, not a Review's
    broken["itemReviewed"]["ratingValue"] = 3  # a Rating's
    broken["reviewRating"]["@type"] = "Ratin"
    broken["author"]["colour"] = "red"
    broken["url"] = "not a url"
    found = "\n".join(problems(broken))
    for fragment in (
        "$.appearance: domain",
        "$.itemReviewed.ratingValue: domain",
        "$.reviewRating: @type 'Ratin'",
        "$.author.colour: not a schema.org property",
        "$.url: 'not a url' is not in range",
    ):
        assert fragment in found


def test_rating_scale_and_words() -> None:
    ratings = [r["reviewRating"] for r in claim_reviews(_report(), PUBLISHER)]
    assert [(r["ratingValue"], r["alternateName"]) for r in ratings] == [
        (4, "Supported by other outlets"),
        (1, "Conflicts with other outlets"),
        (2, "Mixed evidence"),
        (3, "Unverified"),
    ]
    assert all((r["worstRating"], r["bestRating"]) == (1, 4) for r in ratings)


def test_review_fields_without_a_stored_article() -> None:
    review = claim_reviews(_report(), PUBLISHER)[0]
    assert review["@context"] == "https://schema.org"
    assert review["@type"] == "ClaimReview"
    assert review["url"] == "https://fc.example.org/v1/checks/42"
    assert review["datePublished"] == FINISHED.isoformat()
    assert review["author"] == {
        "@type": "Organization",
        "name": "Example Fact Desk",
        "url": "https://desk.example.org",
    }
    assert review["claimReviewed"] == "12 civilians were killed."
    claim = review["itemReviewed"]
    assert claim["appearance"] == {"@type": "CreativeWork", "url": review["url"]}
    assert claim["author"] == {"@type": "Person", "name": "Alexei Smirnov"}
    assert claim["datePublished"] == CREATED.isoformat()


def test_stored_article_is_the_appearance_and_authors_unattributed_claims() -> None:
    reviews = claim_reviews(_report(ARTICLE.id), PUBLISHER, ARTICLE)
    claim = reviews[1]["itemReviewed"]
    assert claim["appearance"] == {
        "@type": "CreativeWork",
        "url": "https://news.example/a",
        "headline": "Putin orders army to expel Ukrainians",
        "publisher": {"@type": "Organization", "name": "Al-Ittihad"},
    }
    assert claim["author"] == {"@type": "Organization", "name": "Al-Ittihad"}
    assert claim["datePublished"] == PUBLISHED.isoformat()
    # No outlet known: an unattributed claim has no author rather than a guessed one.
    assert "author" not in claim_reviews(_report(), PUBLISHER)[1]["itemReviewed"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Alexei Smirnov", "Person"),
        ("the region’s acting governor", "Person"),
        ("Russian news agencies", "Organization"),
        ("TASS", "Organization"),
        ("Ukraine's defense ministry", "Organization"),
        ("NATO", "Organization"),
    ],
)
def test_claimant_is_a_person_or_an_organization(name: str, kind: str) -> None:
    assert claimant(name) == {"@type": kind, "name": name}


def test_publisher_from_settings() -> None:
    default = Publisher.from_settings(make_settings())
    assert default.public_url == default.org_url == "http://127.0.0.1:8000"
    assert default.check_url(3) == "http://127.0.0.1:8000/v1/checks/3"
    own = Publisher.from_settings(
        make_settings(
            org_name="Desk", org_url="https://desk.example/", public_url="https://fc.example/api/"
        )
    )
    assert (own.org_name, own.org_url) == ("Desk", "https://desk.example")
    assert own.check_url(3) == "https://fc.example/api/v1/checks/3"
