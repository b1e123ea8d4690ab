"""The checks API on both databases (offline extractor): contract, storage, evidence rules."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.api.test_articles import assert_problem

PUBLISHED = "2024-08-13T08:00:00Z"


async def ingest(client: AsyncTestClient, seed_texts: dict[str, str], *names: str) -> dict:
    ids = {}
    for name in names:
        response = await client.post(
            "/v1/articles",
            json={"text": seed_texts[name], "source": name[:3], "published_at": PUBLISHED},
        )
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    return ids


def by_quote(report: dict, fragment: str) -> dict:
    matches = [c for c in report["claims"] if fragment in c["quote"]]
    assert matches, f"no claim quoting {fragment!r}: {[c['quote'] for c in report['claims']]}"
    return matches[0]


async def test_check_report_contract_and_reread(client: AsyncTestClient, seed_texts) -> None:
    await ingest(client, seed_texts, "000_645ecb53b1ed8b97", "004_7ec25a11b7a99eb0")
    text = seed_texts["003_16ac1f2c99ced3be"]
    response = await client.post("/v1/checks", json={"text": text, "published_at": PUBLISHED})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["status"] == "done"
    assert report["extractor"] == "offline-rules/2"
    assert report["model"] is None
    assert isinstance(report["id"], int)
    assert report["summary"]["claims"] == len(report["claims"]) > 0
    verdicts = [c["verdict"] for c in report["claims"]]
    for verdict in ("supported", "conflicting", "mixed", "unverified"):
        assert report["summary"][verdict] == verdicts.count(verdict)
    assert report["usage"] == {"llm_calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
    for claim in report["claims"]:
        start, end = claim["span"]
        assert text[start:end] == claim["quote"]
        assert 0 <= claim["confidence"] <= 1
        for citation in claim["citations"]:
            cited = seed_texts[
                {"000": "000_645ecb53b1ed8b97", "004": "004_7ec25a11b7a99eb0"}[citation["source"]]
            ]
            assert cited[citation["span"][0] : citation["span"][1]] == citation["quote"]

    again = await client.get(f"/v1/checks/{report['id']}")
    assert again.status_code == 200
    assert again.json() == report


async def test_supported_claim_cites_other_outlets(client: AsyncTestClient, seed_texts) -> None:
    ids = await ingest(client, seed_texts, "000_645ecb53b1ed8b97", "004_7ec25a11b7a99eb0")
    report = (
        await client.post(
            "/v1/checks",
            json={"text": seed_texts["003_16ac1f2c99ced3be"], "published_at": PUBLISHED},
        )
    ).json()
    claim = by_quote(report, "28 settlements")
    assert claim["verdict"] == "supported"
    cited = {c["article_id"] for c in claim["citations"] if c["relation"] == "supports"}
    assert cited == set(ids.values())
    assert claim["independent_sources"] == 2


async def test_store_true_keeps_article_store_false_does_not(
    client: AsyncTestClient, seed_texts
) -> None:
    text = seed_texts["000_645ecb53b1ed8b97"]
    kept = (await client.post("/v1/checks", json={"text": text})).json()
    assert kept["article_id"] is not None
    assert all(c["id"] is not None for c in kept["claims"])
    stored = (await client.get(f"/v1/articles/{kept['article_id']}")).json()
    assert len(stored["claims"]) == len(kept["claims"])

    other = seed_texts["004_7ec25a11b7a99eb0"]
    probe = (await client.post("/v1/checks", json={"text": other, "store": False})).json()
    assert probe["article_id"] is None
    assert all(c["id"] is None for c in probe["claims"])
    assert (await client.get("/v1/articles")).json()["total"] == 1


async def test_article_is_never_its_own_evidence(client: AsyncTestClient, seed_texts) -> None:
    ids = await ingest(client, seed_texts, "000_645ecb53b1ed8b97")
    # The same text, re-wrapped: the same article by content hash.
    rewrapped = "\n".join(seed_texts["000_645ecb53b1ed8b97"].split())
    report = (await client.post("/v1/checks", json={"text": rewrapped})).json()
    assert report["article_id"] == ids["000_645ecb53b1ed8b97"]
    assert all(not c["citations"] for c in report["claims"])
    assert report["summary"]["unverified"] == report["summary"]["claims"]


async def test_deleted_article_stops_being_evidence(client: AsyncTestClient, seed_texts) -> None:
    ids = await ingest(client, seed_texts, "000_645ecb53b1ed8b97")
    body = {"text": seed_texts["004_7ec25a11b7a99eb0"], "store": False}
    before = (await client.post("/v1/checks", json=body)).json()
    assert any(c["citations"] for c in before["claims"])
    await client.delete(f"/v1/articles/{ids['000_645ecb53b1ed8b97']}")
    after = (await client.post("/v1/checks", json=body)).json()
    assert not any(c["citations"] for c in after["claims"])
    # The earlier report is kept as it was.
    assert (await client.get(f"/v1/checks/{before['id']}")).json() == before


async def test_check_errors_are_problems(client: AsyncTestClient) -> None:
    assert_problem(await client.post("/v1/checks", json={"text": "  "}), 422)
    assert_problem(await client.post("/v1/checks", json={"text": "x", "store": "maybe"}), 422)
    assert_problem(await client.get("/v1/checks/987654"), 404)
    response = await client.post(
        "/v1/checks", content=b"{", headers={"content-type": "application/json"}
    )
    assert_problem(response, 400)


async def test_contradicted_figure_is_not_softened_by_an_agreeing_date(
    client: AsyncTestClient, seed_texts
) -> None:
    """A draft found by hand against the seeds: the day is right, the distance is not."""
    await ingest(
        client, seed_texts, "000_645ecb53b1ed8b97", "001_ffa75115645ef01b", "004_7ec25a11b7a99eb0"
    )
    draft = (
        "Acting Kursk governor Alexei Smirnov told Putin on Monday that Ukrainian troops had "
        "pushed 35 kilometers into the Kursk region. He said 121,000 people had been evacuated."
    )
    report = (
        await client.post(
            "/v1/checks", json={"text": draft, "published_at": PUBLISHED, "store": False}
        )
    ).json()
    pushed = by_quote(report, "35 kilometers")
    assert pushed["verdict"] == "conflicting"
    assert any("12" in c["quote"] for c in pushed["citations"] if c["relation"] == "conflicts")
    evacuated = by_quote(report, "121,000")
    # The Belgorod region's ~10,000 who fled is another scope, not a contradiction.
    assert evacuated["verdict"] == "supported"
    assert not [c for c in evacuated["citations"] if c["relation"] == "conflicts"]
