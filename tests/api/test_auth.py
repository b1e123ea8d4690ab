"""API keys, the rate limit and CORS, on both databases."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from service.store.keys import KeyStore
from service.store.sql import SqlStore
from tests.api.test_articles import assert_problem
from tests.conftest import make_settings

ORIGIN = "https://cms.example.org"


# The check worker is not under test here. Running, it also stalls writes these tests make
# from their own event loop (the test client serves the app on another loop).
NO_WORKER = {"job_concurrency": 0}


@pytest.fixture
def settings() -> Settings:
    return make_settings(**NO_WORKER)


@pytest.fixture
def keys(store: SqlStore) -> KeyStore:
    return KeyStore(store.engine)


@pytest.fixture
def api_with(store: SqlStore) -> Callable[..., AsyncTestClient]:
    """A client for the app with these settings (use as `async with api_with(...) as api`)."""

    def build(**overrides: object) -> AsyncTestClient:
        settings = make_settings(**{**NO_WORKER, **overrides})
        return AsyncTestClient(create_app(settings, store=store))

    return build


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_unauthorized(response) -> dict:
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    return body


async def test_open_without_keys(client: AsyncTestClient) -> None:
    assert (await client.get("/v1/articles")).status_code == 200
    assert (await client.post("/v1/articles", json={"text": "12 people died."})).status_code == 201
    # A key sent to an open service is not an error.
    assert (await client.get("/v1/articles", headers=bearer("anything"))).status_code == 200


async def test_first_key_closes_the_service_at_once(
    client: AsyncTestClient, keys: KeyStore
) -> None:
    assert (await client.get("/v1/articles")).status_code == 200
    _, key = await keys.create("cms")  # as `factcheck keys create` would, app already running
    body = assert_unauthorized(await client.get("/v1/articles"))
    assert "X-API-Key" in body["detail"]
    assert (await client.get("/v1/articles", headers=bearer(key))).status_code == 200


async def test_401_without_or_with_a_wrong_key(client: AsyncTestClient, keys: KeyStore) -> None:
    _, key = await keys.create("cms")
    assert_unauthorized(await client.get("/v1/articles"))
    assert_unauthorized(await client.post("/v1/articles", json={"text": "12 people died."}))
    assert_unauthorized(await client.get("/v1/articles/1"))
    wrong = [bearer(key[:-1] + "x"), {"X-API-Key": "nope"}, bearer("x" * 5000)]
    for headers in wrong:
        response = await client.get("/v1/articles", headers=headers)
        assert "not valid" in assert_unauthorized(response)["detail"]
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    # Basic auth carrying the key is not one of the accepted forms.
    assert_unauthorized(await client.get("/v1/articles", headers={"Authorization": f"Basic {key}"}))


@pytest.mark.parametrize(
    "headers",
    [
        lambda key: {"Authorization": f"Bearer {key}"},
        lambda key: {"authorization": f"bearer  {key} "},
        lambda key: {"X-API-Key": key},
    ],
)
async def test_both_header_forms_work(client: AsyncTestClient, keys: KeyStore, headers) -> None:
    _, key = await keys.create("cms")
    response = await client.post("/v1/articles", json={"text": "9 died."}, headers=headers(key))
    assert response.status_code == 201, response.text
    assert (await client.get("/v1/articles", headers=headers(key))).json()["total"] == 1


async def test_revoked_key_is_refused(client: AsyncTestClient, keys: KeyStore) -> None:
    first, first_key = await keys.create("old")
    _, second_key = await keys.create("new")
    assert (await client.get("/v1/articles", headers=bearer(first_key))).status_code == 200
    await keys.revoke(first.id)
    assert_unauthorized(await client.get("/v1/articles", headers=bearer(first_key)))
    assert (await client.get("/v1/articles", headers=bearer(second_key))).status_code == 200


async def test_revoking_the_last_key_does_not_reopen(
    client: AsyncTestClient, keys: KeyStore
) -> None:
    record, key = await keys.create("only")
    await keys.revoke(record.id)
    assert_unauthorized(await client.get("/v1/articles", headers=bearer(key)))
    assert_unauthorized(await client.get("/v1/articles"))


async def test_health_and_docs_stay_open(client: AsyncTestClient, keys: KeyStore) -> None:
    await keys.create("cms")
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200
    assert (await client.get("/schema/openapi.json")).status_code == 200
    assert (await client.get("/schema")).status_code == 200
    assert (await client.get("/static/swagger/swagger-ui.css")).status_code == 200
    assert_unauthorized(await client.get("/v1/checks/1"))


async def test_use_is_recorded(client: AsyncTestClient, keys: KeyStore) -> None:
    record, key = await keys.create("cms")
    assert (await client.get("/v1/articles", headers=bearer(key))).status_code == 200
    [listed] = await keys.list()
    assert listed.last_used_at is not None and listed.last_used_at >= record.created_at


async def test_static_keys_close_the_service(
    api_with: Callable[..., AsyncTestClient], keys: KeyStore
) -> None:
    async with api_with(api_keys=["static-secret"]) as api:
        assert_unauthorized(await api.get("/v1/articles"))
        assert (await api.get("/v1/articles", headers=bearer("static-secret"))).status_code == 200
        assert (
            await api.get("/v1/articles", headers={"X-API-Key": "static-secret"})
        ).status_code == 200
        _, key = await keys.create("db")  # database keys work beside static ones
        assert (await api.get("/v1/articles", headers=bearer(key))).status_code == 200


# --- rate limit ---------------------------------------------------------------------------


def assert_limited(response) -> int:
    body = assert_problem(response, 429)
    wait = int(response.headers["retry-after"])
    assert 1 <= wait <= 60, wait
    assert "rate limit" in body["detail"]
    return wait


async def test_429_after_the_limit_per_key(
    api_with: Callable[..., AsyncTestClient], keys: KeyStore
) -> None:
    async with api_with(rate_limit_per_minute=3) as api:
        _, busy = await keys.create("busy")
        _, other = await keys.create("other")
        for _ in range(3):
            assert (await api.get("/v1/articles", headers=bearer(busy))).status_code == 200
        assert assert_limited(await api.get("/v1/articles", headers=bearer(busy))) == 20  # 60 s / 3
        # Same client address, another key: its own bucket.
        assert (await api.get("/v1/articles", headers={"X-API-Key": other})).status_code == 200
        # Probes are never limited.
        assert (await api.get("/healthz")).status_code == 200


async def test_open_service_is_limited_per_client_address(
    api_with: Callable[..., AsyncTestClient],
) -> None:
    async with api_with(rate_limit_per_minute=2) as api:
        assert (await api.get("/v1/articles")).status_code == 200
        assert (await api.get("/v1/articles")).status_code == 200
        assert_limited(await api.get("/v1/articles"))


async def test_failed_attempts_are_limited(
    api_with: Callable[..., AsyncTestClient], keys: KeyStore
) -> None:
    async with api_with(rate_limit_per_minute=2) as api:
        _, key = await keys.create("cms")
        assert_unauthorized(await api.get("/v1/articles", headers=bearer("guess-1")))
        assert_unauthorized(await api.get("/v1/articles", headers=bearer("guess-2")))
        assert_limited(await api.get("/v1/articles", headers=bearer("guess-3")))
        # The key's own bucket is untouched by its address's failures.
        assert (await api.get("/v1/articles", headers=bearer(key))).status_code == 200


async def test_zero_turns_the_limit_off(api_with: Callable[..., AsyncTestClient]) -> None:
    async with api_with(rate_limit_per_minute=0) as api:
        for _ in range(5):
            assert (await api.get("/healthz")).status_code == 200
            assert (await api.get("/v1/articles")).status_code == 200


# --- CORS ---------------------------------------------------------------------------------


def preflight(origin: str, headers: str = "content-type") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": headers,
    }


async def test_cors_preflight_allows_the_api_headers(
    api_with: Callable[..., AsyncTestClient], keys: KeyStore
) -> None:
    async with api_with(cors_origins=[ORIGIN]) as api:
        await keys.create("cms")  # a preflight carries no key and must still succeed
        requested = "authorization, x-api-key, idempotency-key, prefer, content-type"
        response = await api.options("/v1/articles", headers=preflight(ORIGIN, requested))
        assert response.status_code == 204, response.text
        assert response.headers["access-control-allow-origin"] == ORIGIN
        allowed = {
            h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
        }
        assert {
            "authorization",
            "x-api-key",
            "idempotency-key",
            "prefer",
            "content-type",
        } <= allowed
        assert "POST" in response.headers["access-control-allow-methods"]


async def test_cors_refuses_other_origins_and_headers(
    api_with: Callable[..., AsyncTestClient],
) -> None:
    async with api_with(cors_origins=[ORIGIN]) as api:
        other = await api.options("/v1/articles", headers=preflight("https://evil.example.com"))
        assert "access-control-allow-origin" not in other.headers
        odd = await api.options("/v1/articles", headers=preflight(ORIGIN, "x-something-else"))
        assert odd.status_code == 400
        simple = await api.get("/v1/articles", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in simple.headers


async def test_cors_exposes_location_and_covers_errors(api_with, keys: KeyStore) -> None:
    async with api_with(cors_origins=[ORIGIN]) as api:
        response = await api.get("/v1/articles", headers={"Origin": ORIGIN})
        assert response.headers["access-control-allow-origin"] == ORIGIN
        exposed = {
            h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
        }
        assert {"location", "retry-after"} <= exposed
        await keys.create("cms")
        # A browser can read why it was refused.
        refused = await api.get("/v1/articles", headers={"Origin": ORIGIN})
        assert_unauthorized(refused)
        assert refused.headers["access-control-allow-origin"] == ORIGIN


async def test_no_cors_headers_without_configured_origins(client: AsyncTestClient) -> None:
    response = await client.get("/v1/articles", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers


async def test_handlers_can_opt_out_with_public() -> None:
    from litestar import get
    from litestar.testing import create_test_client

    from service.api.auth import AccessMiddleware
    from service.api.problems import HANDLERS

    @get("/open", opt={"public": True}, sync_to_thread=False)
    def open_handler() -> str:
        return "ok"

    @get("/closed", sync_to_thread=False)
    def closed_handler() -> str:
        return "ok"

    with create_test_client(
        [open_handler, closed_handler],
        middleware=[AccessMiddleware(None, ["static"], None)],
        exception_handlers=HANDLERS,  # type: ignore[arg-type]
    ) as client:
        assert client.get("/open").status_code == 200
        assert_unauthorized(client.get("/closed"))
        assert client.get("/closed", headers=bearer("static")).status_code == 200
