"""GET /v1/checks/{id}/claimreview on both databases: JSON-LD valid against schema.org."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from service.settings import Settings
from tests.api.test_articles import assert_problem
from tests.api.test_checks import PUBLISHED, by_quote, ingest
from tests.conftest import make_settings
from tests.schemaorg import problems

PUBLIC = "https://factcheck.example.org"
DRAFT = "002_53ffd6e50b0f3c6f"
OTHERS = ("000_645ecb53b1ed8b97", "001_ffa75115645ef01b", "003_16ac1f2c99ced3be")


@pytest.fixture
def settings() -> Settings:
    return make_settings(org_name="Example Fact Desk", public_url=PUBLIC + "/")


async def _reviews(client: AsyncTestClient, check_id: int) -> list[dict]:
    response = await client.get(f"/v1/checks/{check_id}/claimreview")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    return response.json()


async def test_stored_check_reviews_each_claim(client: AsyncTestClient, seed_texts) -> None:
    await ingest(client, seed_texts, *OTHERS)
    body = {
        "text": seed_texts[DRAFT],
        "url": "https://alittihad.example/kursk",
        "source": "Al-Ittihad",
        "published_at": PUBLISHED,
    }
    report = (await client.post("/v1/checks", json=body)).json()
    reviews = await _reviews(client, report["id"])

    assert problems(reviews) == []
    assert [r["claimReviewed"] for r in reviews] == [c["statement"] for c in report["claims"]]
    check_url = f"{PUBLIC}/v1/checks/{report['id']}"
    for review in reviews:
        assert review["url"] == check_url
        assert review["author"] == {
            "@type": "Organization",
            "name": "Example Fact Desk",
            "url": PUBLIC,
        }
        claim = review["itemReviewed"]
        assert claim["appearance"]["url"] == "https://alittihad.example/kursk"
        assert claim["datePublished"].startswith("2024-08-13T08:00:00")

    index = report["claims"].index(by_quote(report, "30 kilometers"))
    assert report["claims"][index]["verdict"] == "conflicting"
    assert reviews[index]["reviewRating"]["alternateName"] == "Conflicts with other outlets"
    assert reviews[index]["reviewRating"]["ratingValue"] == 1
    smirnov = reviews[report["claims"].index(by_quote(report, "number of civilian deaths"))]
    assert smirnov["itemReviewed"]["author"] == {"@type": "Person", "name": "Alexei Smirnov"}


async def test_unstored_check_appears_at_its_own_url(client: AsyncTestClient, seed_texts) -> None:
    await ingest(client, seed_texts, OTHERS[0])
    body = {"text": seed_texts[DRAFT], "url": "https://kept.nowhere/x", "store": False}
    report = (await client.post("/v1/checks", json=body)).json()
    reviews = await _reviews(client, report["id"])
    assert len(reviews) == len(report["claims"]) > 0
    assert problems(reviews) == []
    check_url = f"{PUBLIC}/v1/checks/{report['id']}"
    assert {r["itemReviewed"]["appearance"]["url"] for r in reviews} == {check_url}


async def test_unknown_check_is_a_404_problem(client: AsyncTestClient) -> None:
    assert_problem(await client.get("/v1/checks/987654/claimreview"), 404)
