"""The articles API on both databases: success paths and every kind of bad input."""

from __future__ import annotations

import asyncio

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.pipeline.ingest import content_hash
from tests.conftest import make_settings

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["detail"]
    return body


async def test_post_stores_article_and_returns_201(client: AsyncTestClient, seed_texts) -> None:
    text = seed_texts["000_645ecb53b1ed8b97"]
    response = await client.post(
        "/v1/articles",
        json={
            "text": text,
            "title": "Putin orders defense ministry",
            "url": "https://example.org/a",
            "source": "NHK",
            "published_at": "2024-08-13T06:00:00Z",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["text"] == text
    assert body["source"] == "NHK"
    assert body["url"] == "https://example.org/a"
    assert body["published_at"].startswith("2024-08-13T06:00:00")
    assert body["content_hash"] == content_hash(text)
    assert isinstance(body["id"], int)
    assert isinstance(body["claims"], list)

    fetched = await client.get(f"/v1/articles/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["text"] == text


async def test_same_text_after_whitespace_normalization_returns_existing(
    client: AsyncTestClient,
) -> None:
    first = await client.post("/v1/articles", json={"text": "Twelve people died.\n\nIn Kursk."})
    assert first.status_code == 201
    again = await client.post(
        "/v1/articles", json={"text": "  Twelve   people died.\nIn  Kursk.  ", "source": "x"}
    )
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    listing = (await client.get("/v1/articles")).json()
    assert listing["total"] == 1


async def test_different_text_is_a_different_article(client: AsyncTestClient) -> None:
    a = await client.post("/v1/articles", json={"text": "12 people died."})
    b = await client.post("/v1/articles", json={"text": "13 people died."})
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


async def test_concurrent_posts_of_one_text_store_one_article(client: AsyncTestClient) -> None:
    body = {"text": "The governor said 121,000 people had left the area."}
    responses = await asyncio.gather(*(client.post("/v1/articles", json=body) for _ in range(12)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {200, 201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert (await client.get("/v1/articles")).json()["total"] == 1


async def test_list_is_paginated_newest_first(client: AsyncTestClient) -> None:
    ids = []
    for n in range(5):
        response = await client.post("/v1/articles", json={"text": f"Article number {n}."})
        ids.append(response.json()["id"])
    page = (await client.get("/v1/articles", params={"limit": 2})).json()
    assert page["total"] == 5
    assert page["limit"] == 2 and page["offset"] == 0
    assert [item["id"] for item in page["items"]] == ids[::-1][:2]
    rest = (await client.get("/v1/articles", params={"limit": 2, "offset": 4})).json()
    assert [item["id"] for item in rest["items"]] == [ids[0]]
    full = (await client.get(f"/v1/articles/{ids[0]}")).json()
    assert rest["items"][0]["claim_count"] == len(full["claims"])


async def test_delete_removes_article(client: AsyncTestClient) -> None:
    created = (await client.post("/v1/articles", json={"text": "Gone soon."})).json()
    response = await client.delete(f"/v1/articles/{created['id']}")
    assert response.status_code == 204
    assert_problem(await client.get(f"/v1/articles/{created['id']}"), 404)
    assert_problem(await client.delete(f"/v1/articles/{created['id']}"), 404)
    # The same text can be stored again after deletion.
    assert (await client.post("/v1/articles", json={"text": "Gone soon."})).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   \n\t "}, "text"),
        ({}, "text"),
        ({"text": 12}, "text"),
        ({"text": "ok", "published_at": "not a date"}, "published_at"),
        ({"text": "ok", "unexpected": True}, "unexpected"),
        ({"text": "ok", "source": "x" * 201}, "source"),
    ],
)
async def test_invalid_article_is_422(client: AsyncTestClient, body: dict, field: str) -> None:
    problem = assert_problem(await client.post("/v1/articles", json=body), 422)
    assert field in problem["detail"]


async def test_body_over_limit_is_413(store) -> None:
    app = create_app(make_settings(max_article_bytes=2_000), store=store)
    async with AsyncTestClient(app) as client:
        problem = assert_problem(await client.post("/v1/articles", json={"text": "x" * 5_000}), 413)
        assert "too large" in problem["detail"]
        ok = await client.post("/v1/articles", json={"text": "small enough"})
        assert ok.status_code == 201


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
async def test_wrong_content_type_is_415(client: AsyncTestClient, content_type: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post("/v1/articles", content=b'{"text": "hi"}', headers=headers)
    assert_problem(response, 415)


@pytest.mark.parametrize("raw", [b"{bad json", b"", b'{"text": "a"', b"\xff\xfe\x00garbage"])
async def test_malformed_json_is_400(client: AsyncTestClient, raw: bytes) -> None:
    response = await client.post(
        "/v1/articles", content=raw, headers={"content-type": "application/json"}
    )
    assert_problem(response, 400)


async def test_json_that_is_not_an_object_is_rejected(client: AsyncTestClient) -> None:
    for raw in (b"[]", b'"text"', b"null"):
        response = await client.post(
            "/v1/articles", content=raw, headers={"content-type": "application/json"}
        )
        assert response.status_code in {400, 422}
        assert response.headers["content-type"].startswith(PROBLEM)


@pytest.mark.parametrize("path", ["/v1/articles/999999", "/v1/nothing-here"])
async def test_unknown_is_404(client: AsyncTestClient, path: str) -> None:
    assert_problem(await client.get(path), 404)


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "x"}])
async def test_bad_pagination_is_400(client: AsyncTestClient, params: dict) -> None:
    assert_problem(await client.get("/v1/articles", params=params), 400)


async def test_no_article_stored_by_rejected_requests(client: AsyncTestClient) -> None:
    await client.post("/v1/articles", json={"text": " "})
    await client.post("/v1/articles", content=b"{", headers={"content-type": "application/json"})
    await client.post("/v1/articles", content=b"text", headers={"content-type": "text/plain"})
    assert (await client.get("/v1/articles")).json()["total"] == 0
